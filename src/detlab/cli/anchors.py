"""``detlab anchors``: YOLO anchors and two-stage ``anchor_ratios`` fitted to a dataset.

Prints the fitted anchors (per anchor: size, the boxes whose best anchor it is and their mean
IoU), the anchors as darknet and YOLOv5 configs write them, the recall figures of the fitted and
the ``--current`` anchors, and suggested ``anchor_ratios`` (height / width) against
``--current-ratios``. Definitions: ``docs/analysis-anchors.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from detlab.data.anchors import (
    FITNESSES,
    AnchorMetrics,
    AnchorResult,
    Fitness,
    RatioFit,
    RatioSuggestion,
    compute_anchors,
    format_anchor_levels,
    format_anchors,
    parse_anchor_ratios,
    parse_anchors,
    suggest_anchor_ratios,
)
from detlab.data.formats.jsonio import dump_json
from detlab.data.io import FORMATS, DatasetFormat, read_dataset
from detlab.errors import ConfigError

__all__ = ["print_anchors", "print_metrics", "print_ratios", "register"]

console = Console(highlight=False)

T = TypeVar("T")


def _input_format(value: str | None) -> DatasetFormat | None:
    if value is None:
        return None
    for fmt in FORMATS:
        if value == fmt:
            return fmt
    raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}", param_hint="--format")


def _fitness(value: str) -> Fitness:
    for name in FITNESSES:
        if value == name:
            return name
    raise typer.BadParameter(
        f"{value!r} is not one of {', '.join(FITNESSES)}", param_hint="--fitness"
    )


def _parsed(text: str | None, option: str, parse: Callable[[str], T]) -> T | None:
    """``parse(text)``, a malformed value becoming a usage error that names the option."""
    if text is None:
        return None
    try:
        return parse(text)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


def _check_counts(n: int, img_size: int) -> None:
    if n < 1:
        raise typer.BadParameter(f"{n} anchors: ask for at least 1 (YOLO uses 9)", param_hint="--n")
    if img_size <= 0:
        raise typer.BadParameter(
            f"{img_size} px: give the training size of each image's longer side, e.g. 640",
            param_hint="--img-size",
        )


def print_anchors(result: AnchorResult, title: str) -> None:
    """One row per anchor, the fitting in the caption, then the anchors as configs write them."""
    table = Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("#", "w", "h", "area", "h/w", "boxes", "share", "mean IoU"):
        table.add_column(header, justify="right", no_wrap=True)
    total = max(int(result.counts.sum()), 1)
    for i, ((w, h), count, iou) in enumerate(
        zip(result.anchors.tolist(), result.counts.tolist(), result.mean_iou.tolist(), strict=True)
    ):
        shown_iou = "—" if count == 0 else f"{iou:.3f}"
        row = (i, int(w), int(h), int(w * h), f"{h / w:.2f}", count, f"{100 * count / total:.1f}%")
        table.add_row(*map(str, row), shown_iou)
    console.print(table)
    console.print(_fitting_note(result), markup=False, soft_wrap=True)
    console.print(f"anchors = {format_anchors(result.anchors)}", markup=False)
    if result.anchors.shape[0] % 3 == 0:
        console.print("YOLOv5 model yaml:\nanchors:", markup=False)
        for line in format_anchor_levels(result.anchors):
            console.print(f"  {line}", markup=False)


def _fitting_note(result: AnchorResult) -> str:
    seen = (
        f"a random sample of {result.sample_size} of {result.num_fitted} boxes (seed {result.seed})"
        if result.sampled
        else f"{result.num_fitted} boxes ({result.num_distinct} distinct shapes)"
    )
    evolved = (
        f"; {result.evolve} generations of evolution, fitness {result.fitness_name} "
        f"{result.fitness_kmeans:.4f} -> {result.fitness:.4f}"
        if result.evolve
        else ""
    )
    small = (
        f"; {result.num_small} boxes under 2 px left out of fitting (counted below)"
        if result.num_small
        else ""
    )
    return (
        f"k-means (1 - IoU) on {seen}{evolved}{small}. Boxes scaled so that each image's "
        f"longer side is {result.img_size} px; 'boxes': boxes whose best-IoU anchor it is"
    )


def print_metrics(result: AnchorResult) -> None:
    """The recall figures of the fitted anchors, and of the current ones beside them."""
    columns = [("fitted", result.metrics)]
    if result.current is not None:
        columns.append(("current", result.current))
    m = result.metrics
    table = Table(
        title=f"Recall over {m.num_boxes} boxes", title_justify="left", box=box.SIMPLE_HEAD
    )
    table.add_column("figure", justify="left", no_wrap=True)
    for name, _ in columns:
        table.add_column(name, justify="right", no_wrap=True)
    rows: list[tuple[str, str]] = [
        (f"BPR: best ratio within {m.ratio_threshold:g}x (YOLOv5)", "bpr"),
        (f"anchors per box within {m.ratio_threshold:g}x", "anchors_above_threshold"),
        ("mean best ratio metric", "mean_best_ratio"),
        (f"recall: best IoU >= {m.iou_threshold:g}", "iou_recall"),
        ("mean best IoU", "mean_best_iou"),
    ]
    for label, attr in rows:
        table.add_row(label, *(_figure(metrics, attr) for _, metrics in columns))
    console.print(table)
    if result.current_anchors is not None:
        console.print(f"current anchors = {format_anchors(result.current_anchors)}", markup=False)


def _figure(metrics: AnchorMetrics, attr: str) -> str:
    value = float(getattr(metrics, attr))
    return f"{value:.2f}" if attr == "anchors_above_threshold" else f"{value:.4f}"


def print_ratios(suggestion: RatioSuggestion) -> None:
    """Suggested and current ``anchor_ratios`` with their shape figures; h/w quantiles below."""
    fit = suggestion.suggested
    table = Table(
        title="anchor_ratios (height / width) for two-stage detectors",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("", justify="left", no_wrap=True)
    table.add_column("ratios", justify="left", no_wrap=True)
    table.add_column("mean best IoU (shape)", justify="right", no_wrap=True)
    table.add_column(f"coverage: IoU >= {fit.iou_threshold:g}", justify="right", no_wrap=True)
    fits: list[tuple[str, RatioFit]] = [("suggested", fit)]
    if suggestion.current is not None:
        fits.append(("current", suggestion.current))
    for name, ratio_fit in fits:
        table.add_row(
            name,
            Text(_ratio_list(ratio_fit.ratios)),
            f"{ratio_fit.mean_best_iou:.4f}",
            f"{ratio_fit.coverage:.4f}",
        )
    quantiles = ", ".join(f"{100 * q:g}% {v:.2f}" for q, v in suggestion.aspect_quantiles)
    console.print(table, markup=False)
    console.print(
        f"{suggestion.num_boxes} boxes, h/w quantiles: {quantiles}. IoU from the shape alone, "
        "the anchor at its best scale and centred on the box",
        markup=False,
        soft_wrap=True,
    )
    console.print(f"anchor_ratios = {_ratio_list(suggestion.ratios)}", markup=False)


def _ratio_list(ratios: tuple[float, ...]) -> str:
    return "[" + ", ".join(f"{r:g}" if r != int(r) else f"{r:.1f}" for r in ratios) + "]"


def anchors_command(
    dataset: Path = typer.Argument(
        ..., help="A COCO .json, a VOC folder or a YOLO data.yaml/folder."
    ),
    n: int = typer.Option(9, "--n", "-n", help="Number of anchors (YOLO: 9)."),
    img_size: int = typer.Option(
        640, "--img-size", help="Training size in px of each image's longer side."
    ),
    current: str | None = typer.Option(
        None,
        "--current",
        help="Anchors to compare with, as configs write them: '10,13, 16,30, 33,23, ...'.",
    ),
    evolve: int = typer.Option(
        1000, "--evolve", min=0, help="Generations of evolution after k-means (0: none)."
    ),
    fitness: str = typer.Option(
        "iou", "--fitness", help="What evolution maximises: iou or ratio (YOLOv5's)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for k-means, sampling and evolution."),
    ratio_thr: float = typer.Option(
        4.0, "--ratio-thr", help="YOLOv5's anchor_t: a box matches within this w/h factor."
    ),
    iou_thr: float = typer.Option(0.5, "--iou-thr", help="IoU a box needs to count as recalled."),
    num_ratios: int = typer.Option(
        3, "--num-ratios", min=1, help="Number of anchor_ratios to suggest."
    ),
    current_ratios: str | None = typer.Option(
        "0.5, 1.0, 2.0",
        "--current-ratios",
        help="anchor_ratios (height / width) to compare with; '' for none.",
    ),
    ratio_iou: float = typer.Option(
        0.7, "--ratio-iou", help="IoU for ratio coverage (mmdetection's RPN positives: 0.7)."
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="coco, voc or yolo (default: detected)."
    ),
    split: str | None = typer.Option(None, "--split", help="VOC/YOLO split to read."),
    json_out: Path | None = typer.Option(
        None, "--json", help="Also write everything shown as JSON here."
    ),
) -> None:
    """Fit YOLO anchors (k-means, 1 - IoU) and suggest two-stage anchor_ratios."""
    _check_counts(n, img_size)
    chosen_fitness = _fitness(fitness)
    current_wh = _parsed(current, "--current", parse_anchors)
    ratios = _parsed(current_ratios or None, "--current-ratios", parse_anchor_ratios)
    ds = read_dataset(dataset, fmt=_input_format(fmt), split=split)
    result = compute_anchors(
        ds,
        n,
        img_size,
        seed=seed,
        evolve=evolve,
        fitness=chosen_fitness,
        current=current_wh,
        ratio_threshold=ratio_thr,
        iou_threshold=iou_thr,
    )
    suggestion = suggest_anchor_ratios(ds, num_ratios, iou_threshold=ratio_iou, current=ratios)
    print_anchors(result, f"{dataset}: {n} anchors at image size {img_size}")
    print_metrics(result)
    print_ratios(suggestion)
    if json_out is not None:
        report = {
            "dataset": str(dataset),
            "anchors": result.to_dict(),
            "ratios": suggestion.to_dict(),
        }
        dump_json(report, json_out, indent=True)


def register(app: typer.Typer) -> None:
    app.command("anchors")(anchors_command)
