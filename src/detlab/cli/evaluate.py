"""``detlab eval``: COCO or Pascal VOC evaluation of a detections file against ground truth.

Ground truth is a COCO ``.json`` or any dataset folder ``detlab`` reads (VOC, YOLO);
detections are a COCO results ``.json`` or, for VOC, the devkit's per-class
``comp4_det_<split>_<class>.txt`` files (a folder or one file). Before evaluating, detections on
images or of categories the ground truth does not have are errors naming the file, the field
and the offending ids (pycocotools would silently drop unknown categories; pass
``--allow-unknown-categories`` to do the same).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from detlab.core.dataset import Dataset
from detlab.core.predictions import Predictions
from detlab.data.formats.jsonio import dump_json
from detlab.data.formats.voc_results import read_voc_detections
from detlab.data.io import read_dataset
from detlab.errors import ConfigError, InvalidInputError, Problem
from detlab.metrics.engine import run_coco
from detlab.metrics.inputs import DetectionInput, load_ground_truth, load_predictions
from detlab.metrics.params import COCOParams
from detlab.metrics.result import COCOResult
from detlab.metrics.voc import VOCResult, evaluate_voc

__all__ = ["eval_command", "register"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

T = TypeVar("T")

#: Inputs at least this large (both files together) show a progress display on a terminal.
PROGRESS_MIN_BYTES = 20_000_000
#: How many offending ids an error message lists.
SHOWN_IDS = 10


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return 0


class _Stages:
    """A stage-by-stage progress display on stderr (or nothing), timing each stage."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}

    def run(self, label: str, work: Callable[[], T]) -> T:
        task = None if self.progress is None else self.progress.add_task(label, total=None)
        start = time.perf_counter()
        value = work()
        self.timings[label] = time.perf_counter() - start
        if self.progress is not None and task is not None:
            self.progress.update(task, total=1, completed=1)
        return value


@contextmanager
def _stages(show: bool) -> Iterator[_Stages]:
    if not show:
        yield _Stages(None)
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        yield _Stages(progress)


def _read_gt(path: Path, split: str | None) -> Dataset:
    if path.suffix.lower() == ".json":
        return load_ground_truth(path)
    return read_dataset(path, split=split, warn=False)


def _read_detections(path: Path, gt: Dataset) -> DetectionInput:
    if path.suffix.lower() == ".json":
        return load_predictions(path)
    return DetectionInput(read_voc_detections(path, gt))


def _listed(ids: np.ndarray[Any, Any]) -> str:
    shown = ", ".join(str(int(i)) for i in ids[:SHOWN_IDS])
    more = f" and {ids.size - SHOWN_IDS} more" if ids.size > SHOWN_IDS else ""
    return shown + more


def check_match(
    gt: Dataset, preds: Predictions, dt_path: Path, *, unknown_categories: bool
) -> None:
    """Raise when detections name images (or categories) the ground truth lacks."""
    problems = []
    bad_images = gt.image_index.positions(preds.image_ids) < 0
    if bad_images.any():
        ids = np.unique(preds.image_ids[bad_images])
        problems.append(
            Problem(
                "error",
                str(dt_path),
                f"{int(bad_images.sum())} detection(s)",
                "image_id",
                f"{ids.size} image id(s) not in the ground truth ({gt.source or 'dataset'}): "
                f"{_listed(ids)}",
            )
        )
    bad_categories = gt.category_index.positions(preds.category_ids) < 0
    if bad_categories.any() and not unknown_categories:
        ids = np.unique(preds.category_ids[bad_categories])
        known = _listed(np.array(sorted(c.id for c in gt.categories)))
        problems.append(
            Problem(
                "error",
                str(dt_path),
                f"{int(bad_categories.sum())} detection(s)",
                "category_id",
                f"{ids.size} category id(s) not in the ground truth: {_listed(ids)} "
                f"(known: {known}; --allow-unknown-categories drops them as pycocotools does)",
            )
        )
    if problems:
        message = "\n".join(str(p).removeprefix("error: ") for p in problems)
        raise InvalidInputError(message, problems)


def _voc_coordinates(choice: str, gt_path: Path) -> bool:
    """Whether VOC evaluation adds the devkit's extra pixel.

    A VOC folder is read into continuous coordinates already (``x = xmin - 1``), where the
    devkit's ``+ 1`` is built in; COCO files written from VOC by other tools keep ``xmax - xmin``
    widths, for which the devkit's rule is reproduced by adding the pixel at evaluation.
    """
    if choice == "auto":
        return gt_path.suffix.lower() == ".json"
    return choice == "legacy"


def _class_table(result: COCOResult) -> Table:
    table = Table(title="per class (AP at IoU .50:.95 and .50, %)", title_justify="left")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("class", min_width=8)
    for header in ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR100", "GT", "dets"):
        table.add_column(header, justify="right", no_wrap=True)

    def pct(value: float) -> str:
        return "-" if value < 0 else f"{100 * value:.2f}"

    for c in result.per_class:
        table.add_row(
            str(c.category_id),
            Text(c.name),
            *(pct(v) for v in (c.ap, c.ap50, c.ap75, c.ap_small, c.ap_medium, c.ap_large)),
            pct(c.ar100),
            str(c.num_gt),
            str(c.num_detections),
        )
    return table


def _voc_table(result: VOCResult) -> Table:
    title = f"Pascal VOC AP@{result.iou_threshold:g} ({result.method})"
    table = Table(title=title, title_justify="left")
    for header in ("class", "AP %", "GT", "dets"):
        table.add_column(header, justify="left" if header == "class" else "right")
    for name, ap in result.ap.items():
        curve = result.curves[name]
        table.add_row(Text(name), f"{100 * ap:.2f}", str(curve.num_gt), str(curve.scores.size))
    table.caption = f"mAP {100 * result.map:.2f}% over {len(result.ap)} classes"
    return table


def _coco_json(result: COCOResult, gt: Path, dt: Path) -> dict[str, Any]:
    return {
        "protocol": "coco",
        "gt": str(gt),
        "dt": str(dt),
        "metrics": result.metrics(),
        "summary": list(result.summary_lines()),
        "per_class": [vars(c) for c in result.per_class],
        "result": result.to_dict(),
    }


def _voc_json(result: VOCResult, gt: Path, dt: Path) -> dict[str, Any]:
    return {
        "protocol": "voc",
        "gt": str(gt),
        "dt": str(dt),
        "metrics": {"mAP": result.map, **{f"AP/{k}": v for k, v in result.ap.items()}},
        "result": result.to_dict(),
    }


def eval_command(
    gt: Path = typer.Option(..., "--gt", help="Ground truth: a COCO .json or a VOC/YOLO folder."),
    dt: Path = typer.Option(
        ..., "--dt", help="Detections: a COCO results .json, or VOC comp4_det_*.txt file(s)."
    ),
    iou_type: str = typer.Option("bbox", "--iou-type", help="bbox or segm (COCO protocol)."),
    protocol: str = typer.Option("coco", "--protocol", help="coco or voc."),
    per_class: bool = typer.Option(False, "--per-class", help="Print a per-class table too."),
    json_out: Path | None = typer.Option(None, "--json", help="Write every result here as JSON."),
    max_dets: str = typer.Option("1,10,100", "--max-dets", help="COCO maxDets, comma-separated."),
    compat: str = typer.Option(
        "pycocotools", "--compat", help="pycocotools (bit-identical) or fixed (bugs repaired)."
    ),
    iou_threshold: float = typer.Option(0.5, "--iou-threshold", help="VOC IoU threshold."),
    voc_method: str = typer.Option(
        "11point", "--voc-method", help="VOC AP: 11point (VOC2007) or area (VOC2010+)."
    ),
    voc_pixels: str = typer.Option(
        "auto",
        "--voc-pixels",
        help="VOC box convention: legacy (devkit +1 pixel), continuous, or auto "
        "(legacy for .json ground truth, continuous for VOC folders, whose reader converts).",
    ),
    split: str | None = typer.Option(
        None, "--split", help="VOC/YOLO ground truth: the split to read (test, val, ...)."
    ),
    allow_unknown_categories: bool = typer.Option(
        False, "--allow-unknown-categories", help="Drop detections of unknown categories."
    ),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Show progress (default: on large inputs)."
    ),
) -> None:
    """Evaluate detections: the COCO 12-line summary (or the VOC table) and per-class results."""
    for value, choices, option in (
        (protocol, ("coco", "voc"), "--protocol"),
        (iou_type, ("bbox", "segm"), "--iou-type"),
        (compat, ("pycocotools", "fixed"), "--compat"),
        (voc_method, ("11point", "area"), "--voc-method"),
        (voc_pixels, ("auto", "legacy", "continuous"), "--voc-pixels"),
    ):
        if value not in choices:
            raise typer.BadParameter(
                f"{value!r} is not one of {', '.join(choices)}", param_hint=option
            )
    try:
        dets = tuple(int(m) for m in max_dets.split(","))
    except ValueError:
        raise typer.BadParameter(
            f"{max_dets!r} is not a comma-separated list of integers", param_hint="--max-dets"
        ) from None
    for path, option in ((gt, "--gt"), (dt, "--dt")):
        if not path.exists():
            raise ConfigError(f"{option} {path}: no such file or folder")
    params = COCOParams.build(iou_type=iou_type, max_dets=dets, compat=compat)
    show = (
        progress
        if progress is not None
        else (sys.stderr.isatty() and _size(gt) + _size(dt) >= PROGRESS_MIN_BYTES)
    )
    with _stages(show) as stages:
        dataset = stages.run(f"reading ground truth {gt.name}", lambda: _read_gt(gt, split))
        detections = stages.run(
            f"reading detections {dt.name}", lambda: _read_detections(dt, dataset)
        )
        check_match(
            dataset, detections.predictions, dt, unknown_categories=allow_unknown_categories
        )
        if protocol == "voc":
            voc = stages.run(
                "evaluating (Pascal VOC)",
                lambda: evaluate_voc(
                    dataset,
                    detections.predictions,
                    iou_threshold=iou_threshold,
                    method=voc_method,
                    legacy_coordinates=_voc_coordinates(voc_pixels, gt),
                ),
            )
        else:
            coco = stages.run(
                f"evaluating (COCO {iou_type})", lambda: run_coco(dataset, detections, params)
            )
    if protocol == "voc":
        console.print(_voc_table(voc))
        data = _voc_json(voc, gt, dt)
    else:
        console.print(coco.summary(), markup=False)
        if per_class:
            console.print(_class_table(coco))
        data = _coco_json(coco, gt, dt)
    if json_out is not None:
        data["timings_s"] = stages.timings
        dump_json(data, json_out, indent=True)
        console.print(f"wrote {json_out}")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
