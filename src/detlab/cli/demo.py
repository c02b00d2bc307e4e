"""``detlab demo``: the main job, run on data generated on this machine."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from detlab.cli.datasets import console, print_summary
from detlab.data.summary import summarize_dataset
from detlab.demo import TourResult, run_dataset_tour

__all__ = ["register"]


def demo_command(
    out: Path = typer.Option(
        Path("detlab-demo"), "--out", "-o", help="Folder for everything written."
    ),
    quick: bool = typer.Option(False, "--quick", help="A reduced version that runs in seconds."),
    seed: int = typer.Option(0, "--seed", help="Seed for the generated data."),
) -> None:
    """Generate a sequential dataset; validate, convert and read it back; reject bad input."""
    started = time.perf_counter()
    console.rule("detlab demo")
    result = run_dataset_tour(out, quick=quick, seed=seed)
    _print_tour(result)
    console.print(f"done in {time.perf_counter() - started:.1f} s; everything is under {out}/")
    if not result.report.ok or any(rt.max_box_error > 1e-3 for rt in result.round_trips):
        raise typer.Exit(1)


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


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
