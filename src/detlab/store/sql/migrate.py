"""``detlab db upgrade``: Alembic migrations, the only module that loads Alembic.

Migrations live in ``migrations/versions``; each is reviewed by hand, and a test checks that
upgrading an empty database to the newest one gives exactly the models' schema.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from detlab.errors import SchemaVersionError, StoreUnavailableError
from detlab.store.sql.schema import MIGRATIONS, schema_revision

__all__ = ["alembic_config", "upgrade_schema"]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_schema(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Run the migrations up to ``revision``; returns the revisions before and after."""
    config = alembic_config()
    try:
        with engine.begin() as conn:
            before = schema_revision(conn)
            if before is None and inspect(conn).has_table("runs"):
                raise SchemaVersionError(
                    "the store has detlab tables but no version table, so which migration it "
                    "is at is unknown; restore it from a backup or export its runs to a new store"
                )
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            after = schema_revision(conn)
    except CommandError as exc:
        raise SchemaVersionError(f"cannot upgrade to {revision!r}: {exc}") from exc
    except SQLAlchemyError as exc:
        raise StoreUnavailableError(f"upgrade failed: {getattr(exc, 'orig', exc)}") from exc
    return before, after
