"""``detlab split``: train/val/test splits of a dataset, written in the dataset's own format.

Output in ``OUT``: one annotation file (or file list) per split — COCO ``train.json``,
``val.json``, ``test.json``; Pascal VOC ``Annotations/`` with ``ImageSets/Main/<split>.txt``;
YOLO ``labels/<split>/`` with ``data.yaml`` — and ``split.json``, the distribution table.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from detlab.data.formats.jsonio import dump_json
from detlab.data.io import FORMATS, DatasetFormat, detect_format, read_dataset, write_dataset
from detlab.data.splits import (
    STRATEGIES,
    SplitDistribution,
    SplitResult,
    check_fractions,
    split_dataset,
)

__all__ = ["print_distribution", "register"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

#: The distribution table's file in the output folder.
TABLE_FILE = "split.json"


def _choice(value: str, choices: tuple[str, ...], option: str) -> str:
    if value not in choices:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}", param_hint=option)
    return value


def _input_format(path: Path, value: str | None) -> DatasetFormat:
    if value is None:
        return detect_format(path)
    for fmt in FORMATS:
        if value == fmt:
            return fmt
    raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}", param_hint="--format")


def _check_out(out: Path, fmt: DatasetFormat, image_root: Path | None) -> None:
    if out.suffix.lower() == ".json" or out.is_file():
        raise typer.BadParameter(
            f"{out} names a file; give a folder to write the splits into "
            "(train.json, val.json, ... for COCO)",
            param_hint="--out",
        )
    if image_root is not None and fmt != "yolo":
        raise typer.BadParameter(
            f"only YOLO output places images; this dataset is {fmt}", param_hint="--image-root"
        )


def _cells(
    columns: tuple[str, ...], counts: Mapping[str, int], shares: Mapping[str, float]
) -> list[str]:
    """``count, share`` for every column, side by side."""
    return [text for col in columns for text in (str(counts[col]), f"{shares[col]:.1f}")]


def print_distribution(dist: SplitDistribution, title: str) -> None:
    """``title``, then per class: boxes and share of boxes in the full set and each split,
    and the largest deviation; two more rows give each column's boxes and images.
    """
    columns = dist.columns
    console.print(title, markup=False, soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    longest = max((len(c.name) for c in dist.classes), default=5)
    table.add_column("class", justify="left", no_wrap=True, min_width=min(longest, 30))
    for col in columns:
        table.add_column(col, justify="right", no_wrap=True)
        table.add_column("%", justify="right", no_wrap=True)
    table.add_column("dev pp", justify="right", no_wrap=True)
    for c in dist.classes:
        table.add_row(
            Text(c.name), *_cells(columns, c.counts, c.shares), f"{c.max_deviation_pp:.2f}"
        )
    table.add_section()
    table.add_row("boxes", *[text for col in columns for text in (str(dist.boxes[col]), "")], "")
    n = max(dist.images["full"], 1)
    images = {col: 100 * dist.images[col] / n for col in columns}
    table.add_row("images", *_cells(columns, dist.images, images), "")
    console.print(table)
    console.print(
        "%: share of the column's boxes (images: of all images); dev pp: the largest "
        f"|split % - full %| of the class; largest overall: {dist.max_deviation_pp:.2f} pp",
        soft_wrap=True,
    )


def _write_splits(
    result: SplitResult,
    out: Path,
    fmt: DatasetFormat,
    image_root: Path | None,
    copy_images: bool,
) -> dict[str, str]:
    written: dict[str, str] = {}
    for name, subset in result.subsets().items():
        target = out / f"{name}.json" if fmt == "coco" else out
        path = write_dataset(
            subset, target, fmt, split=name, image_root=image_root, copy_images=copy_images
        )
        written[name] = str(_split_file(path, fmt, name))
        console.print(
            f"{name}: {subset.num_images} images, {subset.num_annotations} boxes -> {written[name]}"
        )
    return written


def _split_file(path: Path, fmt: DatasetFormat, name: str) -> Path:
    if fmt == "voc":
        return path / "ImageSets" / "Main" / f"{name}.txt"
    if fmt == "yolo":
        return path / "labels" / name
    return path


def _warn_empty_classes(dist: SplitDistribution) -> None:
    empty = [c for c in dist.classes if c.counts["full"] == 0]
    if not empty:
        return
    named = ", ".join(f"{c.name} (id {c.id})" for c in empty)
    err_console.print(
        f"detlab: warning: {len(empty)} class(es) without boxes, hence in no split "
        f"(zeros in the table): {named}",
        style="yellow",
        markup=False,
        soft_wrap=True,
    )


def _table_json(
    result: SplitResult, dataset: Path, fmt: DatasetFormat, files: dict[str, str]
) -> Any:
    return {"dataset": str(dataset), "format": fmt, "files": files, **result.to_dict()}


def split_command(
    dataset: Path = typer.Argument(
        ..., help="A COCO .json, a VOC folder or a YOLO data.yaml/folder."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the split files and split.json."),
    strategy: str = typer.Option(
        "random",
        "--strategy",
        "-s",
        help="random, interval (every k-th frame), stratified (class shares kept) "
        "or sequence (whole sequences on one side).",
    ),
    val: float = typer.Option(0.15, "--val", help="Share of images for val, in (0, 1)."),
    test: float = typer.Option(
        0.0, "--test", help="Share of images for test, in (0, 1); 0 for no test split."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Seed for random, stratified and sequence (interval needs none)."
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="Input format: coco, voc or yolo (default: detected)."
    ),
    split: str | None = typer.Option(
        None, "--split", help="VOC/YOLO split to read (default: every image / the only one)."
    ),
    image_root: Path | None = typer.Option(
        None,
        "--image-root",
        help="YOLO: folder holding the images; each is linked into OUT/images/<split>/.",
    ),
    copy_images: bool = typer.Option(
        False, "--copy-images", help="YOLO: copy the images instead of linking them."
    ),
) -> None:
    """Split a dataset into train/val(/test) and show how every class is spread over them."""
    chosen = _choice(strategy, STRATEGIES, "--strategy")
    check_fractions(val, test)
    source_format = _input_format(dataset, fmt)
    _check_out(out, source_format, image_root)
    ds = read_dataset(dataset, fmt=source_format, split=split)
    result = split_dataset(ds, chosen, val=val, test=test, seed=seed)
    dist = result.distribution()
    seeded = "" if result.seed is None else f", seed {result.seed}"
    print_distribution(dist, f"{dataset} split by {chosen}{seeded}")
    _warn_empty_classes(dist)
    out.mkdir(parents=True, exist_ok=True)
    files = _write_splits(result, out, source_format, image_root, copy_images)
    dump_json(_table_json(result, dataset, source_format, files), out / TABLE_FILE, indent=True)
    console.print(f"distribution table -> {out / TABLE_FILE}")
    if source_format == "yolo" and image_root is None:
        console.print("images not placed: pass --image-root to link them into images/<split>/")


def register(app: typer.Typer) -> None:
    app.command("split")(split_command)
