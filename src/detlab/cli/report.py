"""``detlab report``: the experiment log of a project, written from the store."""

from __future__ import annotations

from pathlib import Path

import typer

from detlab.cli.options import PROJECT_OPTION, STORE_OPTION, opened_project

__all__ = ["register", "report_command"]

_FORMATS = {"md": ("md",), "html": ("html",), "both": ("md", "html")}


def _split(values: list[str] | None) -> list[str] | None:
    """``--runs a b`` and ``--runs a,b`` both work."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def report_command(
    project: str | None = PROJECT_OPTION,
    runs: list[str] | None = typer.Option(
        None, "--runs", help="Runs to show, by name (repeat or comma-separate; default: all)."
    ),
    fmt: str = typer.Option("both", "--format", "-f", help="md, html or both."),
    lang: str = typer.Option("en", "--lang", help="Language of titles and phrases: en, zh, ko."),
    metric: str | None = typer.Option(
        None, "--metric", help="The primary metric (default: val/AP50 when logged)."
    ),
    columns: list[str] | None = typer.Option(
        None,
        "--columns",
        help="Parameter columns of the summary table (default: those that differ).",
    ),
    compare: list[str] | None = typer.Option(
        None, "--compare", help="Runs to put side by side (repeat or comma-separate)."
    ),
    no_plots: bool = typer.Option(False, "--no-plots", help="Write no figures."),
    max_figures: int = typer.Option(
        20, "--max-figures", min=0, help="Curves for at most N runs, the best first (0: all)."
    ),
    out_dir: Path = typer.Option(Path("report"), "--out", "-o", help="Output folder."),
    store_url: str | None = STORE_OPTION,
) -> None:
    """Write REPORT.md (figures in figures/) and a self-contained report.html."""
    from detlab.report.messages import LANGUAGES  # noqa: PLC0415
    from detlab.report.render import render_report  # noqa: PLC0415

    if fmt not in _FORMATS:
        raise typer.BadParameter(f"{fmt!r} is not one of md, html, both", param_hint="--format")
    if lang not in LANGUAGES:
        raise typer.BadParameter(
            f"{lang!r} is not one of {', '.join(LANGUAGES)}", param_hint="--lang"
        )
    with opened_project(store_url, project) as (store, name):
        paths = render_report(
            store,
            name,
            out_dir=out_dir,
            formats=_FORMATS[fmt],
            runs=_split(runs),
            metric=metric,
            lang=lang,
            columns=_split(columns),
            compare=_split(compare) or (),
            plots=False if no_plots else None,
            max_run_figures=max_figures or None,
        )
    for kind, path in paths.items():
        typer.echo(f"{kind}: {path}")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
