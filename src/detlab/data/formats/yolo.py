"""YOLO txt labels in the Ultralytics layout: reader and writer.

A label file holds one object per line: ``class cx cy w h``, normalised by the image size, or an
Ultralytics segment line ``class x1 y1 x2 y2 x3 y3 ...`` (a normalised polygon of three or more
points). Both become pixel ``xywh`` boxes; a polygon is also kept as a COCO-style segmentation in
pixels (``[[x1, y1, x2, y2, ...]]``), with its bounding box as the box and its area (shoelace
formula) as the area.

The format carries no ids, so they are made up, the same way every time:

- category id = class index + 1 (COCO ids start at 1), categories in the order of the names;
- image ids 1..N in the order of ``file_name``; annotation ids 1..M in image and line order;
- ``file_name`` is the image's path relative to the split's image folder
  (``images/train/a/1.jpg`` -> ``a/1.jpg``); see :mod:`~detlab.data.formats.yolo_layout`.

Image sizes come from the image headers (Pillow reads no pixels), width and height swapped when
the EXIF orientation turns the image by 90 degrees, as Ultralytics does.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from detlab.core.boxes import FloatArray, convert_boxes
from detlab.core.dataset import Annotations, BoolArray, Category, Dataset, Images
from detlab.core.ids import IdIndex, IntArray
from detlab.data.checks import check_annotation_columns, check_image_columns
from detlab.data.formats.yolo_layout import (
    ImageFile,
    YoloLayout,
    dump_data_yaml,
    find_layout,
    image_placements,
    merged_data_yaml,
    place_images,
    read_image_sizes,
    warn_orphan_labels,
)
from detlab.data.problems import ProblemLog, describe_value
from detlab.errors import DetlabWarning, InvalidInputError

__all__ = ["read_yolo", "write_yolo"]

_BOX_FIELDS = ("class", "cx", "cy", "w", "h")
#: Normalised coordinates may leave [0, 1] by this much before it is worth a warning
#: (rounding in exporters); about half a pixel on a 640-pixel image.
_RANGE_TOLERANCE = 1e-3


def read_yolo(
    root: str | Path,
    *,
    split: str | None = None,
    names: Sequence[str] | None = None,
    warn: bool = True,
    log: ProblemLog | None = None,
) -> Dataset:
    """Read a YOLO dataset folder or its ``data.yaml``.

    Class names come from ``names``, else ``data.yaml``'s ``names``, else a ``classes.txt`` in
    the dataset folder or the labels folder. With ``log`` given, problems go there and whatever
    could be read is returned (lines with errors left out); without it, any error raises
    :class:`~detlab.errors.AnnotationParseError`. A layout that cannot be read at all (no images
    folder, several splits and none chosen, no class names) raises in both cases.
    """
    own_log = log is None
    log = ProblemLog(str(root)) if log is None else log
    layout = find_layout(root, split=split, names=names, log=log)
    dataset = _read(layout, log, str(root))
    if own_log:
        log.conclude(warn=warn)
    return dataset


def _read(layout: YoloLayout, log: ProblemLog, source: str) -> Dataset:
    files, sizes = read_image_sizes(layout, log)
    widths = np.array([w for w, _ in sizes], dtype=np.int64)
    heights = np.array([h for _, h in sizes], dtype=np.int64)
    ids = np.arange(1, len(files) + 1, dtype=np.int64)
    check_image_columns(
        log,
        ids,
        widths.astype(np.float64),
        heights.astype(np.float64),
        lambda i: layout.relative(files[i].path),
    )
    lines = _read_labels(layout, files, log)
    warn_orphan_labels(layout, log)
    return Dataset(
        images=Images.build(ids, [f.file_name for f in files], widths, heights),
        categories=tuple(Category(i + 1, name) for i, name in enumerate(layout.names)),
        annotations=_build_annotations(lines, widths, heights, len(layout.names), log),
        source=source,
    )


# --------------------------------------------------------------------------- label files


@dataclass
class _Lines:
    """Every label line that parsed as numbers, in image and line order."""

    image_pos: list[int] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    values: list[list[float]] = field(default_factory=list)


def _read_labels(layout: YoloLayout, files: list[ImageFile], log: ProblemLog) -> _Lines:
    lines = _Lines()
    for position, image in enumerate(files):
        name = layout.relative(image.label)
        try:
            text = image.label.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue  # an image without a label file shows no objects
        except (OSError, UnicodeDecodeError) as exc:
            log.error(name, "", f"cannot read the label file: {exc}")
            continue
        _parse_label_text(text, name, position, lines, log)
    return lines


def _parse_label_text(text: str, name: str, position: int, out: _Lines, log: ProblemLog) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        record = f"{name} line {number}"
        values = _parse_numbers(tokens, record, log)
        if values is not None:
            out.image_pos.append(position)
            out.records.append(record)
            out.values.append(values)


def _parse_numbers(tokens: list[str], record: str, log: ProblemLog) -> list[float] | None:
    count = len(tokens)
    if count != 5 and (count < 7 or count % 2 == 0):
        log.error(
            record,
            "values",
            f"expected 5 values (class cx cy w h) or a polygon "
            f"(class x1 y1 x2 y2 x3 y3 ...), got {count}",
        )
        return None
    try:
        return [float(t) for t in tokens]
    except ValueError:
        pass
    for i, token in enumerate(tokens):
        if not _is_number(token):
            log.error(record, _field(i, count), f"not a number: {describe_value(token)}")
    return None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _field(i: int, count: int) -> str:
    """The name of value ``i`` on a line of ``count``: ``class``, ``cx``.. or ``x1``, ``y1``.."""
    if count == 5 or i == 0:
        return _BOX_FIELDS[i]
    return f"{'x' if i % 2 else 'y'}{(i + 1) // 2}"


# --------------------------------------------------------------------------- boxes


@dataclass
class _Rows:
    """Per label line: its category id, pixel box, area, segmentation, and its problems."""

    category_ids: IntArray
    boxes: FloatArray
    area: FloatArray
    segmentation: list[Any]
    error: BoolArray
    flagged: BoolArray  # any problem of its own: left out of the shared checks, not reported twice

    @classmethod
    def empty(cls, m: int) -> _Rows:
        no = np.zeros(m, dtype=bool)
        ids = np.zeros(m, dtype=np.int64)
        return cls(ids, np.zeros((m, 4)), np.zeros(m), [None] * m, no, no.copy())


def _build_annotations(
    lines: _Lines, widths: IntArray, heights: IntArray, nc: int, log: ProblemLog
) -> Annotations:
    rows = _convert_lines(lines, np.stack([widths, heights], axis=1).astype(np.float64), nc, log)
    image_pos = np.asarray(lines.image_pos, dtype=np.int64)
    clean = np.flatnonzero(~rows.flagged)
    check_annotation_columns(
        log,
        image_ids=image_pos[clean] + 1,
        category_ids=rows.category_ids[clean],
        boxes=rows.boxes[clean],
        images=IdIndex(np.arange(1, widths.size + 1)),
        categories=IdIndex(np.arange(1, nc + 1)),
        widths=widths.astype(np.float64),
        heights=heights.astype(np.float64),
        name=lambda i: lines.records[clean[i]],
    )
    keep = np.flatnonzero(~rows.error)
    return Annotations.build(
        ids=np.arange(1, keep.size + 1),
        image_index=image_pos[keep],
        category_ids=rows.category_ids[keep],
        boxes=rows.boxes[keep],
        area=rows.area[keep],
        segmentation=[rows.segmentation[r] for r in keep],
    )


def _convert_lines(lines: _Lines, image_sizes: FloatArray, nc: int, log: ProblemLog) -> _Rows:
    """Check every line and convert it to pixels; lines with errors are marked, not dropped."""
    rows = _Rows.empty(len(lines.values))
    classes = np.array([v[0] for v in lines.values], dtype=np.float64)
    rows.error |= _check_classes(classes, lines.records, nc, log)
    rows.category_ids = np.where(rows.error, 0, classes).astype(np.int64) + 1  # index + 1
    sizes = image_sizes[np.asarray(lines.image_pos, dtype=np.int64)]
    is_box = np.array([len(v) == 5 for v in lines.values], dtype=bool)
    _convert_box_lines(lines, np.flatnonzero(is_box), sizes, rows, log)
    for row in np.flatnonzero(~is_box):
        _convert_polygon_line(lines, int(row), sizes[row], rows, log)
    rows.flagged |= rows.error
    return rows


def _check_classes(classes: FloatArray, records: list[str], nc: int, log: ProblemLog) -> BoolArray:
    """Errors for class values that are not integers in ``0..nc-1``; True where one was found."""
    integral = np.isfinite(classes) & np.equal(classes, np.round(classes))
    out_of_range = integral & (np.less(classes, 0) | np.greater_equal(classes, nc))
    for row in np.flatnonzero(~integral):
        log.error(records[row], "class", f"must be an integer class index, got {classes[row]:g}")
    for row in np.flatnonzero(out_of_range):
        log.error(
            records[row],
            "class",
            f"class index {int(classes[row])} is out of range: there are {nc} class names "
            f"(indices 0..{nc - 1})",
        )
    return ~integral | out_of_range


def _convert_box_lines(
    lines: _Lines, box_rows: IntArray, sizes: FloatArray, rows: _Rows, log: ProblemLog
) -> None:
    """Check ``class cx cy w h`` lines as one array and turn them into pixel ``xywh``."""
    if box_rows.size == 0:
        return
    values = np.array([lines.values[r][1:] for r in box_rows], dtype=np.float64)
    records = [lines.records[r] for r in box_rows]
    error, warned = _check_box_values(values, records, log)
    rows.error[box_rows] |= error
    rows.flagged[box_rows] |= warned
    usable = np.where(error[:, None], 0.0, values)
    pixels = usable * np.tile(sizes[box_rows], 2)
    rows.boxes[box_rows] = convert_boxes(pixels, "cxcywh", "xywh")
    rows.area[box_rows] = pixels[:, 2] * pixels[:, 3]


def _check_box_values(
    values: FloatArray, records: list[str], log: ProblemLog
) -> tuple[BoolArray, BoolArray]:
    """Problems with ``cx cy w h`` values; returns per row (has an error, has a warning)."""
    finite = np.isfinite(values)
    for r, c in np.argwhere(~finite):
        log.error(records[r], _BOX_FIELDS[c + 1], f"must be a finite number, got {values[r, c]}")
    # Non-finite sizes are reported above; 0.5 keeps them out of the size checks.
    negative, zero = _check_sizes(np.where(finite, values, 0.5)[:, 2:], records, log)
    outside = finite & (
        np.less(values, -_RANGE_TOLERANCE) | np.greater(values, 1 + _RANGE_TOLERANCE)
    )
    outside[:, 2:] &= ~negative  # a negative size is already an error
    for r, c in np.argwhere(outside):
        log.warning(records[r], _BOX_FIELDS[c + 1], _outside_message(values[r, c]))
    error: BoolArray = np.any(~finite, axis=1) | np.any(negative, axis=1)
    warned: BoolArray = np.any(outside, axis=1) | np.any(zero, axis=1)
    return error, warned


def _check_sizes(
    sizes: FloatArray, records: list[str], log: ProblemLog
) -> tuple[BoolArray, BoolArray]:
    """``w h`` columns: negative is an error, zero a warning; returns both masks."""
    negative, zero = np.less(sizes, 0), np.equal(sizes, 0)
    for r, c in np.argwhere(negative):
        log.error(records[r], _BOX_FIELDS[c + 3], f"must not be negative, got {sizes[r, c]:g}")
    for r, c in np.argwhere(zero):
        log.warning(records[r], _BOX_FIELDS[c + 3], "is 0: the box has no area")
    return negative, zero


def _outside_message(value: float) -> str:
    return f"{value:g} is outside [0, 1]; YOLO coordinates are fractions of the image size"


def _convert_polygon_line(
    lines: _Lines, row: int, size: FloatArray, rows: _Rows, log: ProblemLog
) -> None:
    """Check one segment line and keep it as a pixel polygon with its bounding box."""
    record, count = lines.records[row], len(lines.values[row])
    coords = np.asarray(lines.values[row][1:], dtype=np.float64)
    finite = np.isfinite(coords)
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        log.error(record, _field(first + 1, count), f"must be a finite number, got {coords[first]}")
        rows.error[row] = True
        return
    outside = np.flatnonzero((coords < -_RANGE_TOLERANCE) | (coords > 1 + _RANGE_TOLERANCE))
    if outside.size:
        first = int(outside[0])
        more = f"; so are {outside.size - 1} more of its points" if outside.size > 1 else ""
        log.warning(record, _field(first + 1, count), _outside_message(coords[first]) + more)
        rows.flagged[row] = True
    points = coords.reshape(-1, 2) * size
    xyxy = np.concatenate([points.min(axis=0), points.max(axis=0)])
    rows.boxes[row] = convert_boxes(xyxy, "xyxy", "xywh")[0]
    if rows.boxes[row, 2] == 0 or rows.boxes[row, 3] == 0:
        log.warning(record, "polygon", "the polygon has zero width or height")
        rows.flagged[row] = True
    rows.area[row] = _polygon_area(points)
    rows.segmentation[row] = [points.ravel().tolist()]


def _polygon_area(points: FloatArray) -> float:
    """Shoelace area of a simple polygon, ``points`` shaped ``(P, 2)``."""
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


# --------------------------------------------------------------------------- writing


def write_yolo(
    ds: Dataset,
    root: str | Path,
    *,
    split: str = "train",
    image_root: str | Path | None = None,
    copy_images: bool = False,
) -> None:
    """Write ``ds`` as a YOLO dataset: ``labels/<split>/*.txt``, ``data.yaml``, ``classes.txt``.

    Categories are ordered by id and class index = position in that order. Every image gets a
    label file named after its file stem (empty when it has no boxes). Crowd and ignore boxes
    have no YOLO form: they are skipped with one :class:`~detlab.errors.DetlabWarning`. With
    ``image_root``, each image (``image_root / file_name``) is symlinked, or copied with
    ``copy_images=True``, into ``images/<split>/``. An existing ``data.yaml`` with the same
    names keeps its other splits, so splits can be written one after another.

    Only boxes are written, never polygons: Ultralytics reads a file that mixes box and
    segment lines wrongly. Nothing is written unless every check passes.
    """
    out = Path(root)
    names, class_of = _class_indices(ds)
    label_names = _label_names(ds)
    image_dir = out / "images" / split
    placements = (
        []
        if image_root is None
        else image_placements(ds.images.file_names, Path(image_root), image_dir)
    )
    data_yaml = merged_data_yaml(out, split, names)
    texts, skipped = _label_texts(ds, class_of)
    label_dir = out / "labels" / split
    label_dir.mkdir(parents=True, exist_ok=True)
    for label_name, text in zip(label_names, texts, strict=True):
        (label_dir / label_name).write_text(text, encoding="utf-8")
    image_dir.mkdir(parents=True, exist_ok=True)
    place_images(placements, copy=copy_images)
    dump_data_yaml(data_yaml, out / "data.yaml")
    (out / "classes.txt").write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
    if skipped:
        warnings.warn(
            f"{skipped} crowd or ignore box(es) not written: YOLO labels cannot mark them",
            DetlabWarning,
            stacklevel=2,
        )


def _class_indices(ds: Dataset) -> tuple[tuple[str, ...], IntArray]:
    """Names ordered by category id, and each annotation's class index among them."""
    order = np.argsort(ds.category_ids, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    positions = ds.category_positions()
    unknown = np.flatnonzero(positions < 0)
    if unknown.size:
        row = int(unknown[0])
        raise InvalidInputError(
            f"annotation id {int(ds.annotations.ids[row])} has category id "
            f"{int(ds.annotations.category_ids[row])}, which is not among the categories"
        )
    names = tuple(ds.categories[i].name for i in order)
    for name in names:
        if not name.strip() or "\n" in name or "\r" in name:
            raise InvalidInputError(f"class name {name!r} cannot be written one per line")
    return names, rank[positions]


def _label_names(ds: Dataset) -> list[str]:
    """``<stem>.txt`` per image; two images sharing a stem would share a label file."""
    seen: dict[str, str] = {}
    for file_name in ds.images.file_names:
        stem = PurePosixPath(file_name).stem
        if not stem:
            raise InvalidInputError(f"image file name {file_name!r} has no stem to name labels by")
        if stem in seen:
            raise InvalidInputError(
                f"images {seen[stem]!r} and {file_name!r} would share the label file {stem}.txt "
                "(YOLO finds labels by file stem); rename one"
            )
        seen[stem] = file_name
    return [f"{stem}.txt" for stem in seen]


def _label_texts(ds: Dataset, class_of: IntArray) -> tuple[list[str], int]:
    """Each image's label file text, and how many crowd or ignore boxes were left out."""
    a = ds.annotations
    keep = ~(a.iscrowd | a.ignore)
    image_pos = a.image_index[keep]
    w, h = ds.images.widths[image_pos], ds.images.heights[image_pos]
    bad = np.flatnonzero((w <= 0) | (h <= 0))
    if bad.size:
        name = ds.images.file_names[int(image_pos[bad[0]])]
        raise InvalidInputError(
            f"image {name!r} has size {w[bad[0]]}x{h[bad[0]]}, so its boxes cannot be "
            "normalised; set its width and height"
        )
    scale = np.stack([w, h, w, h], axis=1).astype(np.float64)
    norm = np.zeros((len(a), 4))
    norm[keep] = convert_boxes(a.boxes[keep], "xywh", "cxcywh") / scale
    classes, values = class_of.tolist(), norm.tolist()
    texts = [
        "".join(_label_line(classes[r], values[r]) for r in rows[keep[rows]])
        for _, rows in ds.rows_by_image()
    ]
    return texts, int((~keep).sum())


def _label_line(class_index: int, box: list[float]) -> str:
    return f"{class_index} {box[0]:.6f} {box[1]:.6f} {box[2]:.6f} {box[3]:.6f}\n"
