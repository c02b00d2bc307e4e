"""The ``detlab`` command: the Typer app and the boundary where errors become exit codes.

Exit codes: 0 success (warnings allowed), 1 invalid data or a failed operation, 2 usage errors
(unknown options, bad option values, settings detlab cannot use).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from detlab._version import __version__
from detlab.cli import (
    anchors,
    datasets,
    db,
    demo,
    evaluate,
    importing,
    report,
    runs,
    split,
    stats,
    supervise,
)
from detlab.errors import ConfigError, DetlabError

__all__ = ["EXIT_INVALID", "EXIT_USAGE", "app", "main"]

EXIT_INVALID = 1
EXIT_USAGE = 2

app = typer.Typer(
    name="detlab",
    help="A lab notebook for object-detection research.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
datasets.register(app)
evaluate.register(app)
split.register(app)
stats.register(app)
anchors.register(app)
demo.register(app)
runs.register(app)
report.register(app)
importing.register(app)
db.register(app)
supervise.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"detlab {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """A lab notebook for object-detection research."""


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; a :class:`DetlabError` becomes one line on stderr and a non-zero exit."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="detlab")
    except ConfigError as exc:
        _fail(exc, EXIT_USAGE)
    except DetlabError as exc:
        _fail(exc, EXIT_INVALID)


def _fail(exc: DetlabError, code: int) -> None:
    message = str(exc).removeprefix("error: ")
    typer.echo(f"detlab: error: {message}", err=True)
    sys.exit(code)
