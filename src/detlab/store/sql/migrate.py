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

from detlab.errors import ConfigError, SchemaVersionError, StoreUnavailableError
from detlab.store.sql.schema import KNOWN_REVISIONS, MIGRATIONS, schema_revision

__all__ = ["alembic_config", "upgrade_schema"]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_schema(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Run the migrations up to ``revision``; returns the revisions before and after.

    An unknown target is a :class:`ConfigError`; a store at a revision this detlab does not
    know (written by a newer one) or without a version table is a :class:`SchemaVersionError`.
    """
    known = f"this detlab knows {', '.join(KNOWN_REVISIONS)} (and head)"
    if revision not in ("head", *KNOWN_REVISIONS):
        raise ConfigError(f"revision {revision!r} does not exist; {known}")
    config = alembic_config()
    try:
        with engine.begin() as conn:
            before = schema_revision(conn)
            if before is not None and before not in KNOWN_REVISIONS:
                raise SchemaVersionError(
                    f"the store is at revision {before!r}, unknown to this detlab ({known}); "
                    "it was written by a newer detlab: upgrade detlab"
                )
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
