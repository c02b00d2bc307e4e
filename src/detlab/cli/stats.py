"""``detlab stats``: what is in a dataset, per class, before training on it.

Prints four tables (overview, per class, image sizes, problems); ``--json`` writes every number
(:meth:`~detlab.data.stats.DatasetStats.to_dict`), ``--plots`` the label plots
(:mod:`detlab.analysis.plots`). ``--split-file`` restricts everything to the images a list
names (a VOC ``ImageSets/Main/*.txt``, a YOLO ``train.txt``, ids). A dataset, or a selection,
without images or boxes is an error: there is nothing to describe.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from detlab.analysis.plots import write_label_plots
from detlab.core.dataset import Dataset
from detlab.data.formats.jsonio import dump_json
from detlab.data.image_lists import match_image_list, read_image_list
from detlab.data.io import FORMATS, DatasetFormat, read_dataset
from detlab.data.stats import (
    LARGE_AREA,
    OUTSIDE_TOLERANCE,
    SMALL_AREA,
    DatasetStats,
    IssueCount,
    Quantiles,
    SizeShares,
    dataset_stats,
)
from detlab.errors import InvalidInputError

__all__ = ["print_stats", "register", "stats_command"]

console = Console(highlight=False)

ABSENT = "—"
#: Image sizes shown in the table (the JSON keeps more).
SHOWN_IMAGE_SIZES = 10


# --------------------------------------------------------------------------- formatting


def _number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return ABSENT
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _share(value: float | None) -> str:
    return ABSENT if value is None else f"{100 * value:.1f}%"


def _spread(q: Quantiles | None, digits: int = 2) -> str:
    """``median (q1-q3)``."""
    if q is None:
        return ABSENT
    return f"{_number(q.median, digits)} ({_number(q.q1, digits)}-{_number(q.q3, digits)})"


def _range(q: Quantiles | None) -> str:
    """``median (min-max)``."""
    if q is None:
        return ABSENT
    return f"{_number(q.median)} ({_number(q.min)}-{_number(q.max)})"


def _sizes(shares: SizeShares) -> str:
    return (
        f"small {_share(shares.small)}, medium {_share(shares.medium)}, "
        f"large {_share(shares.large)}"
    )


# --------------------------------------------------------------------------- tables


def _overview(stats: DatasetStats, title: str) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("statistic")
    table.add_column("value", overflow="fold")
    per_image = stats.boxes_per_image
    rows = [
        ("images", f"{stats.num_images:,} ({stats.empty_images:,} without boxes)"),
        (
            "boxes",
            f"{stats.num_boxes:,} ({stats.measured_boxes:,} measured: positive size, not crowd)",
        ),
        ("classes", f"{stats.num_categories:,}"),
        (
            "boxes per image",
            ABSENT
            if per_image is None
            else f"mean {per_image.mean:.2f}, median {_number(per_image.median)}, "
            f"q1-q3 {_number(per_image.q1)}-{_number(per_image.q3)}, max {per_image.max:,.0f}",
        ),
        ("box area w·h, px² (median, q1-q3)", _spread(stats.area)),
        ("sizes by box area w·h", _sizes(stats.size_shares)),
        ("sizes by annotation area (COCO eval)", _sizes(stats.coco_size_shares)),
        ("aspect ratio w/h (median, q1-q3)", _spread(stats.aspect_ratio)),
        ("relative size √(wh/WH) (median, q1-q3)", _spread(stats.relative_size, 3)),
        ("relative width w/W (median, q1-q3)", _spread(stats.relative_width, 3)),
        ("relative height h/H (median, q1-q3)", _spread(stats.relative_height, 3)),
        ("image width, px (median, min-max)", _range(stats.image_width)),
        ("image height, px (median, min-max)", _range(stats.image_height)),
        (
            "flags",
            (
                f"crowd {stats.crowd:,}, difficult {stats.difficult:,}, "
                f"ignored {stats.ignored:,}, truncated {stats.truncated:,}"
            ),
        ),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


_CLASS_COLUMNS = (
    "id",
    "class",
    "boxes",
    "share",
    "images",
    "area median",
    "area q1",
    "area q3",
    "small",
    "medium",
    "large",
    "aspect median",
)


def _per_class(stats: DatasetStats) -> Table:
    table = Table(title="Per class", title_justify="left")
    for header in _CLASS_COLUMNS:
        table.add_column(header, justify="left" if header == "class" else "right")
    for c in stats.per_class:
        sizes = c.size_shares
        table.add_row(
            str(c.id),
            Text(c.name),
            f"{c.count:,}",
            _share(c.share),
            f"{c.images:,}",
            _number(c.area_median),
            _number(c.area_q1),
            _number(c.area_q3),
            _share(sizes.small),
            _share(sizes.medium),
            _share(sizes.large),
            _number(c.aspect_ratio_median),
            style="dim" if c.count == 0 else None,
        )
    table.caption = (
        f"area = box w·h in px² over measured boxes; small < {SMALL_AREA:.0f} (32²), "
        f"large ≥ {LARGE_AREA:.0f} (96²); aspect = w/h; — = no measured boxes"
    )
    return table


def _image_sizes(stats: DatasetStats) -> Table:
    table = Table(title="Image sizes", title_justify="left")
    for header in ("width x height", "images", "share"):
        table.add_column(header, justify="right")
    for size in stats.image_sizes[:SHOWN_IMAGE_SIZES]:
        share = size.count / stats.num_images if stats.num_images else None
        table.add_row(f"{size.width} x {size.height}", f"{size.count:,}", _share(share))
    shown = min(len(stats.image_sizes), SHOWN_IMAGE_SIZES)
    table.caption = f"{stats.distinct_image_sizes:,} distinct, {shown} shown"
    return table


def _problem_row(table: Table, label: str, issue: IssueCount) -> None:
    examples = ", ".join(str(i) for i in issue.examples) if issue.examples else ""
    style = "yellow" if issue.count else None
    table.add_row(label, f"{issue.count:,}", examples, style=style)


def _problems(stats: DatasetStats) -> Table:
    table = Table(title="Problems", title_justify="left")
    table.add_column("problem")
    table.add_column("count", justify="right")
    table.add_column("first annotation ids")
    issues = stats.issues
    _problem_row(table, "zero width or height", issues.zero_size)
    _problem_row(table, "negative width or height", issues.negative_size)
    _problem_row(table, "non-finite coordinates", issues.non_finite)
    _problem_row(table, f"outside the image (> {OUTSIDE_TOLERANCE:g} px)", issues.outside_image)
    _problem_row(table, "exact duplicates (image, class, box)", issues.duplicates)
    _problem_row(table, "unknown category", issues.unknown_category)
    empty = stats.empty_images
    table.add_row("images without boxes", f"{empty:,}", "", style="yellow" if empty else None)
    return table


def print_stats(stats: DatasetStats, title: str) -> None:
    """The four tables: overview, per class, image sizes, problems."""
    for table in (_overview(stats, title), _per_class(stats), _image_sizes(stats)):
        console.print(table)
    console.print(_problems(stats))


# --------------------------------------------------------------------------- command


def _dataset_format(value: str | None) -> DatasetFormat | None:
    if value is None:
        return None
    for fmt in FORMATS:
        if value == fmt:
            return fmt
    raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}", param_hint="--format")


def _select(ds: Dataset, split_file: Path) -> Dataset:
    entries = read_image_list(split_file)
    if not entries:
        raise InvalidInputError(f"{split_file}: the split file lists no images")
    ids = match_image_list(ds, entries, source=str(split_file))
    return ds.subset(ds.image_index.positions(ids))


def _check_not_empty(stats: DatasetStats, path: Path, split_file: Path | None) -> None:
    where = f"{path}" if split_file is None else f"{path} (images listed in {split_file})"
    if stats.num_images == 0:
        raise InvalidInputError(f"{where}: no images; nothing to describe")
    if stats.num_boxes == 0:
        raise InvalidInputError(
            f"{where}: {stats.num_images:,} image(s) but no boxes; nothing to describe"
        )


def stats_command(
    path: Path = typer.Argument(..., help="A COCO .json, a VOC folder or a YOLO data.yaml/folder."),
    split_file: Path | None = typer.Option(
        None,
        "--split-file",
        help="Describe only the images this file lists, one a line: file names, stems or ids "
        "(a VOC ImageSets list, a YOLO train.txt).",
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Also write every number here."),
    plots: Path | None = typer.Option(
        None, "--plots", help="Write label plots (PNG) into this folder; needs the plots extra."
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="coco, voc or yolo (default: detected)."
    ),
    split: str | None = typer.Option(None, "--split", help="VOC/YOLO split to read."),
) -> None:
    """Dataset statistics: classes, box areas and shapes, image sizes, suspicious boxes."""
    ds = read_dataset(path, fmt=_dataset_format(fmt), split=split, warn=False)
    if split_file is not None:
        ds = _select(ds, split_file)
    stats = dataset_stats(ds)
    _check_not_empty(stats, path, split_file)
    title = str(path) if split_file is None else f"{path} ({split_file.name})"
    print_stats(stats, title)
    if json_out is not None:
        source = {"dataset": str(path), "split_file": str(split_file) if split_file else None}
        dump_json({**source, **stats.to_dict()}, json_out, indent=True)
    if plots is not None:
        written = write_label_plots(ds, plots)
        console.print(f"wrote {len(written)} plots to {plots}")


def register(app: typer.Typer) -> None:
    app.command("stats")(stats_command)
