"""Creating the schema on first use and checking its version on every open.

A fresh store is created from the models in one transaction and stamped with the newest
migration, without loading Alembic (a fresh store is ready in milliseconds). Many processes may
open one fresh store at once: creation runs under the write lock (SQLite) or an advisory lock
(PostgreSQL) and looks again once it holds it. An existing store must be at the newest revision;
an older one is upgraded by ``detlab db upgrade`` (:mod:`detlab.store.sql.migrate`).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, inspect, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from detlab.errors import SchemaVersionError, StoreUnavailableError
from detlab.store.sql.engine import write_connection
from detlab.store.sql.models import Base

__all__ = [
    "HEAD_REVISION",
    "KNOWN_REVISIONS",
    "MIGRATIONS",
    "ensure_schema",
    "schema_revision",
]

#: The newest migration; a fresh store is stamped with it.
HEAD_REVISION = "0002"
#: Every revision this detlab knows, oldest first.
KNOWN_REVISIONS = ("0001", "0002")
MIGRATIONS = Path(__file__).parent / "migrations"

_SCHEMA_LOCK = 0x6465746C  # "detl": the advisory lock key for schema changes on PostgreSQL

# Alembic's own bookkeeping table, declared as Alembic declares it.
_version_metadata = MetaData()
_version_table = Table(
    "alembic_version",
    _version_metadata,
    Column("version_num", String(32), primary_key=True, nullable=False),
)


def schema_revision(conn: Connection) -> str | None:
    """The store's revision, or None when it has no version table (a fresh store)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(select(_version_table.c.version_num)).scalar_one_or_none()


def ensure_schema(engine: Engine, url: str) -> None:
    """Create a fresh store, or check that an existing one is at :data:`HEAD_REVISION`."""
    try:
        with engine.connect() as conn:
            revision = schema_revision(conn)
        if revision is None:
            with write_connection(engine, lock=_SCHEMA_LOCK) as conn:
                revision = schema_revision(conn)
                if revision is None:
                    _create(conn, url)
                    revision = HEAD_REVISION
    except (OperationalError, ProgrammingError) as exc:
        raise StoreUnavailableError(f"cannot open the store {url}: {exc.orig}") from exc
    _check(revision, url)


def _create(conn: Connection, url: str) -> None:
    if inspect(conn).has_table("runs"):
        raise SchemaVersionError(
            f"the store {url} has detlab tables but no version table; restore it from a "
            "backup, or point DETLAB_STORE at a new file"
        )
    Base.metadata.create_all(conn)
    _version_metadata.create_all(conn)
    conn.execute(_version_table.insert().values(version_num=HEAD_REVISION))


def _check(revision: str, url: str) -> None:
    if revision == HEAD_REVISION:
        return
    if revision in KNOWN_REVISIONS:
        raise SchemaVersionError(
            f"the store {url} is at schema revision {revision}, this detlab needs "
            f"{HEAD_REVISION}; run 'detlab db upgrade --store {url}' (back it up first)"
        )
    raise SchemaVersionError(
        f"the store {url} is at schema revision {revision}, unknown to this detlab "
        f"(newest known: {HEAD_REVISION}); it was written by a newer detlab: upgrade detlab"
    )
