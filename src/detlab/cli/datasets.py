"""``detlab validate``, ``detlab convert`` and ``detlab info``: datasets on disk."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from detlab.data.formats.jsonio import dump_json
from detlab.data.io import FORMATS, DatasetFormat, read_dataset, write_dataset
from detlab.data.summary import DatasetSummary, summarize_dataset
from detlab.data.validate import ValidationReport, validate
from detlab.errors import Problem

__all__ = ["print_summary", "register"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _parse_format(value: str, option: str) -> DatasetFormat:
    for fmt in FORMATS:
        if value == fmt:
            return fmt
    raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}", param_hint=option)


def _format_option(value: str | None, option: str) -> DatasetFormat | None:
    return None if value is None else _parse_format(value, option)


def print_summary(summary: DatasetSummary, title: str) -> None:
    """Per-class counts as a table, with the dataset totals in the caption."""
    table = Table(title=title, title_justify="left")
    for header in ("id", "class", "boxes", "share", "images"):
        table.add_column(header, justify="left" if header == "class" else "right")
    total = max(summary.num_boxes, 1)
    for c in summary.per_class:
        share = f"{100 * c.count / total:.1f}%"
        table.add_row(str(c.id), Text(c.name), str(c.count), share, str(c.images))
    table.caption = (
        f"{summary.num_images} images, {summary.num_boxes} boxes, "
        f"{summary.empty_images} without boxes, {summary.crowd} crowd, "
        f"{summary.difficult} difficult, {summary.sequences} sequences"
    )
    console.print(table)


def _print_problems(problems: list[Problem], limit: int) -> None:
    ordered = sorted(problems, key=lambda p: not p.is_error)
    for problem in ordered[:limit]:
        style = "red" if problem.is_error else "yellow"
        console.print(str(problem), style=style, markup=False, soft_wrap=True)
    if len(ordered) > limit:
        console.print(f"... and {len(ordered) - limit} more (use --max-shown)")


def _report_json(report: ValidationReport) -> dict[str, object]:
    return {
        "path": report.path,
        "format": report.format,
        "ok": report.ok,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "problems": [vars(p) for p in report.problems],
        "summary": summarize_dataset(report.dataset).to_dict() if report.dataset else None,
        "num_predictions": len(report.predictions) if report.predictions is not None else None,
    }


def validate_command(
    path: Path = typer.Argument(..., help="A COCO .json, a VOC folder or a YOLO data.yaml/folder."),
    predictions: Path | None = typer.Option(
        None, "--predictions", "-p", help="A COCO results JSON to check against the dataset."
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="coco, voc or yolo (default: detected)."
    ),
    split: str | None = typer.Option(
        None, "--split", help="VOC/YOLO split to read (train, val, ...)."
    ),
    json_out: Path | None = typer.Option(
        None, "--json", help="Also write the report as JSON here."
    ),
    max_shown: int = typer.Option(
        50, "--max-shown", min=1, help="Print at most this many problems."
    ),
) -> None:
    """Check a dataset (and predictions) and list every problem. Exit 1 when anything is invalid."""
    report = validate(
        path, predictions=predictions, fmt=_format_option(fmt, "--format"), split=split
    )
    _print_problems(report.problems, max_shown)
    if report.dataset is not None:
        print_summary(summarize_dataset(report.dataset), f"{path} ({report.format})")
    if report.predictions is not None:
        console.print(f"{predictions}: {len(report.predictions)} predictions")
    if json_out is not None:
        dump_json(_report_json(report), json_out, indent=True)
    verdict = "valid" if report.ok else "INVALID"
    console.print(
        f"{path}: {verdict}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)"
    )
    if not report.ok:
        raise typer.Exit(1)


def convert_command(
    src: Path = typer.Argument(..., help="The dataset to read."),
    dst: Path = typer.Argument(
        ..., help="Where to write: a .json file for COCO, a folder otherwise."
    ),
    to: str = typer.Option(..., "--to", "-t", help="Target format: coco, voc or yolo."),
    src_format: str | None = typer.Option(
        None, "--from", help="Source format (default: detected)."
    ),
    split: str | None = typer.Option(None, "--split", help="Split to read and to name the output."),
    image_root: Path | None = typer.Option(
        None,
        "--image-root",
        help="Folder holding the images named by the source (YOLO output links them).",
    ),
    copy_images: bool = typer.Option(
        False, "--copy-images", help="Copy images instead of linking them."
    ),
) -> None:
    """Convert annotations between COCO, Pascal VOC and YOLO."""
    target = _parse_format(to, "--to")
    ds = read_dataset(src, fmt=_format_option(src_format, "--from"), split=split)
    out = write_dataset(
        ds, dst, target, split=split, image_root=image_root, copy_images=copy_images
    )
    console.print(
        f"wrote {ds.num_images} images, {ds.num_annotations} boxes, "
        f"{len(ds.categories)} classes as {target}: {out}"
    )


def info_command(
    path: Path = typer.Argument(..., help="A COCO .json, a VOC folder or a YOLO data.yaml/folder."),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="coco, voc or yolo (default: detected)."
    ),
    split: str | None = typer.Option(None, "--split", help="VOC/YOLO split to read."),
    json_out: Path | None = typer.Option(
        None, "--json", help="Also write the summary as JSON here."
    ),
) -> None:
    """Print a dataset's counts: images, boxes, per-class boxes and images."""
    ds = read_dataset(path, fmt=_format_option(fmt, "--format"), split=split)
    summary = summarize_dataset(ds)
    print_summary(summary, str(path))
    if json_out is not None:
        dump_json(summary.to_dict(), json_out, indent=True)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_command)
    app.command("convert")(convert_command)
    app.command("info")(info_command)
