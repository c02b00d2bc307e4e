"""``detlab db``: the run store's schema revision, and upgrading an older store to this detlab's.

These commands open the database without the check every other command makes (that the schema
is at this detlab's revision), so that an older store can be upgraded. SQLAlchemy and Alembic
are imported only when a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from detlab.cli.options import JSON_OPTION, STORE_OPTION, print_json
from detlab.config import resolve_store_url
from detlab.errors import StoreUnavailableError

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["app", "register"]

app = typer.Typer(
    name="db",
    help="The run store's schema: show its revision, upgrade it.",
    no_args_is_help=True,
)


def _engine(store_url: str | None) -> Engine:
    from detlab.store.sql.engine import make_engine  # noqa: PLC0415  (SQLAlchemy on demand)

    return make_engine(resolve_store_url(store_url))


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _upgrade(engine: Engine, revision: str) -> tuple[str | None, str | None]:
    from detlab.store.sql.migrate import upgrade_schema  # noqa: PLC0415

    return upgrade_schema(engine, revision)


@app.command("upgrade")
def upgrade_command(
    store_url: str | None = STORE_OPTION,
    revision: str = typer.Option(
        "head", "--revision", help="The revision to upgrade to (default: the newest)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Upgrade the store's schema to this detlab's (back the store up first)."""
    engine = _engine(store_url)
    try:
        before, after = _upgrade(engine, revision)
    finally:
        engine.dispose()
    if json_out:
        print_json(
            {"store": _shown(engine), "before": before, "after": after, "changed": before != after}
        )
    elif before == after:
        typer.echo(f"{_shown(engine)}: already at {after}")
    else:
        typer.echo(f"{_shown(engine)}: revision {before or 'none'} -> {after}")


@app.command("current")
def current_command(
    store_url: str | None = STORE_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Print the store's schema revision and whether it is this detlab's."""
    from detlab.store.sql.schema import HEAD_REVISION, KNOWN_REVISIONS  # noqa: PLC0415

    engine = _engine(store_url)
    try:
        revision, unversioned = _revision(engine)
    finally:
        engine.dispose()
    if json_out:
        print_json(
            {
                "store": _shown(engine),
                "revision": revision,
                "head": HEAD_REVISION,
                "unversioned": unversioned,
            }
        )
        return
    if unversioned:
        note = "detlab tables without a version; run 'detlab db upgrade'"
    elif revision is None:
        note = "an empty store; it is created on first use or by 'detlab db upgrade'"
    elif revision == HEAD_REVISION:
        note = "head"
    elif revision in KNOWN_REVISIONS:
        note = f"older than this detlab's {HEAD_REVISION}; run 'detlab db upgrade'"
    else:
        note = f"unknown to this detlab, whose newest is {HEAD_REVISION}: upgrade detlab"
    typer.echo(f"{_shown(engine)}: revision {revision or 'none'} ({note})")


def _revision(engine: Engine) -> tuple[str | None, bool]:
    """The store's revision, and whether it has detlab tables but no version table."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import OperationalError

    from detlab.store.sql.schema import schema_revision  # noqa: PLC0415

    try:
        with engine.connect() as conn:
            revision = schema_revision(conn)
            return revision, revision is None and inspect(conn).has_table("runs")
    except OperationalError as exc:
        raise StoreUnavailableError(f"cannot open the store {_shown(engine)}: {exc.orig}") from exc


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="db")
