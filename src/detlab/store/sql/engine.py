"""Engines for the run store: SQLite tuned for many writers, PostgreSQL as it comes.

SQLite settings, applied on every connection: WAL journal (readers never block the writer),
``synchronous=NORMAL`` (a killed process never loses a committed transaction; only a power cut
could lose the last ones), foreign keys on, and a long busy timeout. Write transactions start
with ``BEGIN IMMEDIATE``: a deferred transaction that reads before it writes can fail at once
with "database is locked" when another process writes first, whatever the timeout; an immediate
one takes the write lock up front and waits its turn instead (SQLAlchemy's pysqlite notes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from detlab.errors import ConfigError

__all__ = ["BUSY_TIMEOUT_S", "is_sqlite", "make_engine", "write_connection"]

#: How long a SQLite writer waits for the lock before giving up.
BUSY_TIMEOUT_S = 60.0
_IMMEDIATE = "detlab_immediate"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created when missing."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"store URL {url!r} is not a SQLAlchemy URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    try:
        return create_engine(url, pool_pre_ping=True, json_deserializer=_json_loads)
    except NoSuchModuleError as exc:
        raise ConfigError(f"store URL {url!r}: unknown database driver ({exc})") from exc
    except ModuleNotFoundError as exc:
        hint = " (pip install 'detlab[postgres]')" if "psycopg" in str(exc) else ""
        raise ConfigError(f"store URL {url!r} needs {exc.name}{hint}") from exc


def _json_loads(text: str) -> Any:
    """orjson for speed (stored evaluations are large); the standard library for the NaN and
    Infinity tokens that ``json.dumps``, SQLAlchemy's serializer, may have written."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    memory = database in (None, "", ":memory:")
    if not memory and database is not None:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        json_deserializer=_json_loads,
        **({"poolclass": StaticPool} if memory else {}),
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_connection(engine: Engine, *, lock: int | None = None) -> Iterator[Connection]:
    """A connection in a write transaction, committed on success, rolled back on error.

    On SQLite the transaction holds the write lock from its start. On PostgreSQL, ``lock``
    takes a transaction-scoped advisory lock (schema creation by many processes at once).
    """
    options = {_IMMEDIATE: True} if is_sqlite(engine) else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        if lock is not None and engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
        yield conn
