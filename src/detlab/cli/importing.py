"""``detlab import``: training runs from framework logs into the store.

Exit codes: 0 when every path gave runs (lines that could not be read are printed as warnings:
what was readable is imported, and a log cut off by a crash is the common case, not a
failure); 1 when a path holds no run detlab can read or a file has nothing readable; 2 for
usage errors (``--name`` with several runs, ``-`` without ``--name``, an unknown ``--source``).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.table import Table

from detlab.cli.options import STORE_OPTION
from detlab.config import resolve_setting
from detlab.importers.model import ImportedRun
from detlab.importers.pasted import STDIN
from detlab.importers.registry import SOURCES, parse_path
from detlab.importers.write import ImportResult, write_run
from detlab.store import open_store

__all__ = ["import_command", "register"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

_SOURCE_NAMES = ", ".join(s.name for s in SOURCES)


def import_command(
    paths: list[Path] = typer.Argument(
        ...,
        metavar="PATH",
        help="Run folders, folders of runs (work_dirs/), files, or - for standard input.",
    ),
    project: str | None = typer.Option(
        None, "--project", "-p", help="The project (default: DETLAB_PROJECT, else 'imported')."
    ),
    name: str | None = typer.Option(None, "--name", "-n", help="Run name (a single run only)."),
    gt: Path | None = typer.Option(
        None, "--gt", help="COCO ground truth to evaluate detectron2's coco_instances_results.json."
    ),
    source: str | None = typer.Option(
        None, "--source", help=f"Read as this source only: {_SOURCE_NAMES}."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read and compare; write nothing."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the summary as JSON."),
    store_url: str | None = STORE_OPTION,
) -> None:
    """Import training runs from their logs: mmdetection 2.x/3.x, detectron2, Ultralytics,
    YOLOv5, TensorBoard, pasted pycocotools summaries and per-class tables."""
    _check_usage(paths, name, source)
    runs = [run for path in paths for run in parse_path(path, source=source, gt=gt)]
    if name is not None and len(runs) > 1:
        raise typer.BadParameter(
            f"--name names one run, but the paths hold {len(runs)}", param_hint="--name"
        )
    if name is not None and str(runs[0].path) == "-":
        runs[0].name = name
    chosen = resolve_setting("project", project, "imported").strip() or "imported"
    with open_store(store_url) as store:
        results = [write_run(store, r, project=chosen, name=name, dry_run=dry_run) for r in runs]
    _show(runs, results, chosen, dry_run)
    if json_out is not None:
        summary = [
            {"source": r.source, "path": str(r.path), **asdict(x)}
            for r, x in zip(runs, results, strict=True)
        ]
        json_out.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))


def _check_usage(paths: list[Path], name: str | None, source: str | None) -> None:
    if source is not None and source not in {s.name for s in SOURCES}:
        raise typer.BadParameter(f"{source!r} is not one of {_SOURCE_NAMES}", param_hint="--source")
    if STDIN in paths and name is None:
        raise typer.BadParameter("reading standard input (-) needs --name", param_hint="--name")


def _show(runs: list[ImportedRun], results: list[ImportResult], project: str, dry: bool) -> None:
    title = f"{'Would import' if dry else 'Imported'} into project {project}"
    table = Table(title=title)
    for column in ("source", "run", "points new", "already there", "best", "restarts", "problems"):
        table.add_column(column)
    for run, result in zip(runs, results, strict=True):
        label = result.name + (" (new)" if result.created else "")
        table.add_row(
            run.source, label, _added(result), str(result.points_existing),
            _best(result), _restarts(run), str(len(run.problems)),
        )  # fmt: skip
    console.print(table)
    for run in runs:
        for problem in run.problems:
            err_console.print(str(problem), markup=False)


def _added(result: ImportResult) -> str:
    updated = f" (+{result.points_updated} updated)" if result.points_updated else ""
    return f"{result.points_added}{updated}"


def _best(result: ImportResult) -> str:
    if result.best is None:
        return "—"
    key, value, step = result.best
    return f"{key} {value:.4f} @ {step}"


def _restarts(run: ImportedRun) -> str:
    if not run.restarts:
        return "—"
    return ", ".join(f"{r.reason}@{r.epoch}" for r in run.restarts)


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
