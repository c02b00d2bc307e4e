"""``detlab demo``: the main job, run on data generated on this machine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table
from rich.text import Text

from detlab.cli.datasets import console, print_summary
from detlab.config import resolve_store_url
from detlab.data.summary import summarize_dataset
from detlab.demo import TourResult, run_dataset_tour
from detlab.store import open_store

if TYPE_CHECKING:
    from detlab.core.runs import RunRecord
    from detlab.demo.experiments import ExperimentTour

__all__ = ["register"]


def demo_command(
    out: Path = typer.Option(
        Path("detlab-demo"), "--out", "-o", help="Folder for everything written."
    ),
    quick: bool = typer.Option(
        False, "--quick", help="Fewer images (80, not 240): about half a minute."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for the generated data and the training."),
    store: str | None = typer.Option(
        None, "--store", help="Run store URL (default: DETLAB_STORE or ./.detlab/detlab.db)."
    ),
    lang: str = typer.Option("en", "--lang", help="Language of the report: en, zh, ko."),
) -> None:
    """Generate a dataset, validate and convert it, train a series of small grid detectors on
    it (recorded in the run store, two of them supervised), read them back, write the report."""
    started = time.perf_counter()
    console.rule("detlab demo")
    result = run_dataset_tour(out, quick=quick, seed=seed)
    _print_tour(result)
    # imported here: it loads the SDK and SQLAlchemy, which no other command needs at startup
    from detlab.demo.experiments import BASELINE, run_experiment_tour  # noqa: PLC0415

    url = resolve_store_url(store)
    console.print("[bold]5. Training[/bold] the series (a NumPy grid detector, real SGD) ...")
    with open_store(url) as opened:
        images = result.annotations.parent / "images"
        experiments = run_experiment_tour(
            opened, url, result.annotations, images, out, seed=seed, progress=_print_run
        )
        project = experiments.project
        diff = opened.param_diff(project, BASELINE, experiments.records[-1].name)
        from detlab.report.render import render_report  # noqa: PLC0415

        written = render_report(opened, project, out_dir=out / "report", lang=lang)
    _print_experiments(experiments, diff, url)
    console.print(
        f"[bold]10. The experiment log[/bold], written from the store: {written['md']} "
        f"(figures in {written['md'].parent / 'figures'}) and {written['html']}"
    )
    console.print(f"done in {time.perf_counter() - started:.1f} s; everything is under {out}/")
    if not result.report.ok or any(rt.max_box_error > 1e-3 for rt in result.round_trips):
        raise typer.Exit(1)


def _print_run(record: RunRecord, seconds: float) -> None:
    best = record.best
    shown = f"best val/AP50 {100 * best.value:.2f}% @ epoch {best.step}" if best else "no AP"
    console.print(f"   {record.name}: {record.status}, {shown} ({seconds:.1f} s)", markup=False)


def _print_tour(result: TourResult) -> None:
    console.print(f"[bold]1. Dataset[/bold] written as COCO with images: {result.annotations}")
    print_summary(summarize_dataset(result.dataset), "per-class counts (deliberately unbalanced)")
    report = result.report
    console.print(
        f"[bold]2. Validation[/bold]: {len(report.errors)} error(s), "
        f"{len(report.warnings)} warning(s)"
    )
    table = Table(title="3. Conversions, read back and compared", title_justify="left")
    for header in ("format", "images", "boxes", "max box error (px)", "where", "notes"):
        table.add_column(header, overflow="fold")
    for rt in result.round_trips:
        cells = (str(rt.images), str(rt.boxes), f"{rt.max_box_error:.2g}", str(rt.path))
        table.add_row(rt.fmt, *cells, Text("; ".join(rt.notes)))
    console.print(table)
    bad = Table(title="4. Broken inputs and what detlab says", title_justify="left")
    bad.add_column("case")
    bad.add_column("first error", overflow="fold")
    for case in result.bad_inputs:
        bad.add_row(case.name, Text(case.first_error))
    console.print(bad)


def _print_experiments(
    tour: ExperimentTour, diff: dict[str, tuple[object, object]], url: str
) -> None:
    from detlab.demo.experiments import METRIC  # noqa: PLC0415

    title = f"6. Runs recorded in {url} (project {tour.project})"
    table = Table(title=title, title_justify="left")
    for header in ("run", "status", f"best {METRIC}", "vs baseline", "restarts", "early stop"):
        table.add_column(header)
    for record in tour.records:
        best = record.best
        shown = f"{100 * best.value:.2f}% @ epoch {best.step}" if best else "-"
        deltas = tour.deltas[record.name]
        delta = deltas.get("baseline")
        points = f"{delta.points:+.2f}" if delta and delta.points is not None else "-"
        stop = "-" if record.early_stop_step is None else f"epoch {record.early_stop_step}"
        restarts = ", ".join(f"{r.reason}@{r.epoch}" for r in tour.restarts[record.name]) or "-"
        table.add_row(Text(record.name), record.status, shown, points, restarts, stop)
    console.print(table)
    restart_table = Table(title="7. Restart table (as the seed logs keep it)", title_justify="left")
    for header in ("run", "epoch", "loaded epoch", "new seed", "reason", "detail"):
        restart_table.add_column(header)
    for name, rows in tour.restarts.items():
        for r in rows:
            restart_table.add_row(
                Text(name), str(r.epoch), str(r.loaded_epoch), str(r.seed), r.reason, Text(r.detail)
            )
    console.print(restart_table)
    last = tour.records[-1].name if tour.records else "-"
    console.print(f"[bold]8. Significant parameter changes[/bold] (baseline -> {last}):")
    for key, (a, b) in diff.items():
        console.print(f"   {key}: {a!r} -> {b!r}", markup=False)
    console.print(
        "[bold]9. COCO summary[/bold] of the best run at its best epoch, as pycocotools prints it:"
    )
    console.print("\n".join(tour.summary), markup=False)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
