"""What the store's command groups (``detlab runs``, ``detlab db``) share: options, the store and
project they resolve to, and JSON and value formatting.

The project is ``--project`` if given, else ``DETLAB_PROJECT``, else the store's only project.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import typer

from detlab.config import resolve_setting
from detlab.core.runs import MISSING
from detlab.errors import ConfigError
from detlab.store import open_store

if TYPE_CHECKING:
    from detlab.store.sql.store import SQLStore

__all__ = [
    "ABSENT",
    "JSON_OPTION",
    "MODE_OPTION",
    "PROJECT_OPTION",
    "STORE_OPTION",
    "check_mode",
    "format_number",
    "format_time",
    "format_value",
    "opened_project",
    "print_json",
    "resolve_project",
    "shown_url",
]

STORE_OPTION = typer.Option(
    None,
    "--store",
    metavar="URL",
    help="The store: a SQLAlchemy URL or a SQLite file "
    "(default: DETLAB_STORE, else ./.detlab/detlab.db).",
)
PROJECT_OPTION = typer.Option(
    None,
    "--project",
    "-p",
    help="The project (default: DETLAB_PROJECT, else the store's only project).",
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of tables.")
MODE_OPTION = typer.Option("max", "--mode", help="Which value is best: max or min.")

#: How a value that is absent (a parameter one run lacks, a metric never logged) is shown.
ABSENT = "—"


def check_mode(mode: str) -> str:
    if mode not in ("max", "min"):
        raise typer.BadParameter(f"{mode!r} is not one of max, min", param_hint="--mode")
    return mode


def shown_url(store: SQLStore) -> str:
    """The store's URL with any password hidden."""
    return store.display_url


def resolve_project(store: SQLStore, explicit: str | None) -> str:
    """``explicit`` > ``DETLAB_PROJECT`` > the store's only project; else a ConfigError."""
    name = resolve_setting("project", explicit, "").strip()
    if name:
        return name
    projects = store.projects()
    if len(projects) == 1:
        return projects[0]
    if not projects:
        raise ConfigError(
            f"the store {shown_url(store)} has no projects yet; "
            "record a run with detlab.init(project=...)"
        )
    raise ConfigError(
        f"the store {shown_url(store)} holds {len(projects)} projects "
        f"({', '.join(projects)}); choose one with --project or DETLAB_PROJECT"
    )


@contextmanager
def opened_project(url: str | None, project: str | None) -> Iterator[tuple[SQLStore, str]]:
    """The open store (closed on exit) and the project to work on."""
    with open_store(url) as store:
        yield store, resolve_project(store, project)


def _json_default(value: Any) -> Any:
    if value is MISSING:
        return None
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def print_json(obj: Any) -> None:
    """``obj`` as indented JSON on stdout: datetimes as ISO 8601, NaN and MISSING as null."""
    option = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    typer.echo(orjson.dumps(obj, option=option, default=_json_default).decode())


def format_time(value: datetime | None, *, seconds: bool = False) -> str:
    """Local time, to the minute (or second)."""
    if value is None:
        return ABSENT
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_number(value: float | None) -> str:
    if value is None:
        return ABSENT
    if not math.isfinite(value):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4f}"
    return f"{value:.4g}"


def format_value(value: Any) -> str:
    """A parameter value: strings as they are, anything else as JSON, MISSING as a dash."""
    if value is MISSING:
        return ABSENT
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()
