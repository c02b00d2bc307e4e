"""The schema: migrations give exactly the models' tables; versions are checked on open."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from detlab.errors import SchemaVersionError
from detlab.store import open_store
from detlab.store.sql.engine import make_engine
from detlab.store.sql.migrate import upgrade_schema
from detlab.store.sql.models import Base
from detlab.store.sql.schema import HEAD_REVISION, schema_revision


def test_migrations_build_exactly_the_models(store_url: str) -> None:
    engine = make_engine(store_url)
    before, after = upgrade_schema(engine)
    assert (before, after) == (None, HEAD_REVISION)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_a_fresh_store_is_created_at_the_newest_revision(store_url: str) -> None:
    open_store(store_url).close()
    engine = make_engine(store_url)
    with engine.connect() as conn:
        assert schema_revision(conn) == HEAD_REVISION
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
    before, after = upgrade_schema(engine)  # nothing to do
    assert before == after == HEAD_REVISION
    engine.dispose()


@pytest.mark.parametrize(
    ("revision", "message"),
    [("0000", "unknown to this detlab"), ("9999", "written by a newer detlab")],
    ids=["older-unknown", "newer"],
)
def test_a_store_at_another_revision_is_refused(
    tmp_path: Path, revision: str, message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    open_store(url).close()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    engine.dispose()
    with pytest.raises(SchemaVersionError, match=message):
        open_store(url)
