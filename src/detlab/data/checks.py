"""Checks on whole columns, shared by every format's reader and by ``detlab validate``.

Per-record structure (a key missing, a string where a number belongs) is each format's own
business; once the columns exist, these functions find the problems that are the same in every
format (duplicate ids, boxes of negative size or outside their image, references to images or
categories that do not exist) with array operations, so that checking costs little next to parsing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray
from detlab.core.ids import IdIndex, IntArray
from detlab.data.problems import ProblemLog

__all__ = [
    "RecordNamer",
    "check_annotation_columns",
    "check_duplicate_ids",
    "check_image_columns",
    "check_prediction_columns",
]

#: Names a record for messages, given its row: ``lambda i: f"annotations[{i}] (id={ids[i]})"``.
RecordNamer = Callable[[int], str]

# Boxes may poke out of their image by this much (pixels) before it is worth a warning:
# annotation tools and the VOC pixel convention routinely give x2 == width + 1.
_OUTSIDE_TOLERANCE = 1.0


def check_duplicate_ids(log: ProblemLog, ids: IntArray, name: RecordNamer, kind: str) -> None:
    """An error for every record whose id already appeared on an earlier record."""
    if ids.size < 2:
        return
    _, first = np.unique(ids, return_index=True)
    repeated = np.ones(ids.size, dtype=bool)
    repeated[first] = False
    for row in np.flatnonzero(repeated):
        earlier = int(np.flatnonzero(ids == ids[row])[0])
        log.error(
            name(int(row)), "id", f"duplicate {kind} id {int(ids[row])} (first at row {earlier})"
        )


def check_image_columns(
    log: ProblemLog, ids: IntArray, widths: FloatArray, heights: FloatArray, name: RecordNamer
) -> None:
    """Duplicate image ids and sizes that are not positive."""
    check_duplicate_ids(log, ids, name, "image")
    for label, values in (("width", widths), ("height", heights)):
        for row in np.flatnonzero(~(values > 0)):
            log.error(name(int(row)), label, f"must be > 0, got {values[row]:g}")


def check_annotation_columns(
    log: ProblemLog,
    *,
    image_ids: IntArray,
    category_ids: IntArray,
    boxes: FloatArray,
    images: IdIndex,
    categories: IdIndex,
    widths: FloatArray,
    heights: FloatArray,
    name: RecordNamer,
    ids: IntArray | None = None,
) -> IntArray:
    """Check boxes against their images and categories; return each box's image position.

    Errors: a duplicate annotation id (when ``ids`` are given), an unknown image or category,
    a non-finite coordinate, a negative width or height.
    Warnings: a box of zero width or height, a box outside its image.
    """
    if ids is not None:
        check_duplicate_ids(log, ids, name, "annotation")
    image_pos = images.positions(image_ids)
    for row in np.flatnonzero(image_pos < 0):
        log.error(name(int(row)), "image_id", f"unknown image id {int(image_ids[row])}")
    for row in np.flatnonzero(categories.positions(category_ids) < 0):
        log.error(name(int(row)), "category_id", f"unknown category id {int(category_ids[row])}")
    finite: BoolArray = np.asarray(np.isfinite(boxes).all(axis=1), dtype=bool)
    for row in np.flatnonzero(~finite):
        log.error(name(int(row)), "bbox", f"non-finite coordinate in {boxes[row].tolist()}")
    _check_box_sizes(log, boxes, finite, name)
    _check_inside_images(log, boxes, finite & (image_pos >= 0), image_pos, widths, heights, name)
    return image_pos


def _check_box_sizes(
    log: ProblemLog, boxes: FloatArray, finite: np.ndarray, name: RecordNamer
) -> None:
    w, h = boxes[:, 2], boxes[:, 3]
    for row in np.flatnonzero(finite & ((w < 0) | (h < 0))):
        log.error(
            name(int(row)),
            "bbox",
            f"negative size (width {w[row]:g}, height {h[row]:g}); "
            "bbox is [x, y, width, height], not [x1, y1, x2, y2]",
        )
    for row in np.flatnonzero(finite & (w >= 0) & (h >= 0) & ((w == 0) | (h == 0))):
        log.warning(name(int(row)), "bbox", f"zero-area box {boxes[row].tolist()}")


def _check_inside_images(
    log: ProblemLog,
    boxes: FloatArray,
    usable: np.ndarray,
    image_pos: IntArray,
    widths: FloatArray,
    heights: FloatArray,
    name: RecordNamer,
) -> None:
    rows = np.flatnonzero(usable)
    if rows.size == 0:
        return
    b = boxes[rows]
    wi, hi = widths[image_pos[rows]], heights[image_pos[rows]]
    tol = _OUTSIDE_TOLERANCE
    outside = (
        (b[:, 0] < -tol)
        | (b[:, 1] < -tol)
        | (b[:, 0] + b[:, 2] > wi + tol)
        | (b[:, 1] + b[:, 3] > hi + tol)
    )
    for k in np.flatnonzero(outside):
        log.warning(
            name(int(rows[k])),
            "bbox",
            f"box {b[k].tolist()} extends outside its {wi[k]:g}x{hi[k]:g} image",
        )


def check_prediction_columns(
    log: ProblemLog,
    *,
    image_ids: IntArray,
    category_ids: IntArray,
    boxes: FloatArray,
    scores: FloatArray,
    name: RecordNamer,
    images: IdIndex | None = None,
    categories: IdIndex | None = None,
) -> None:
    """Non-finite scores or boxes, negative sizes; ids unknown to the ground truth when given."""
    for row in np.flatnonzero(~np.isfinite(scores)):
        log.error(name(int(row)), "score", f"must be a finite number, got {scores[row]}")
    finite: BoolArray = np.asarray(np.isfinite(boxes).all(axis=1), dtype=bool)
    for row in np.flatnonzero(~finite):
        log.error(name(int(row)), "bbox", f"non-finite coordinate in {boxes[row].tolist()}")
    _check_box_sizes(log, boxes, finite, name)
    if images is not None:
        _check_known(log, image_ids, images, name, "image_id", "image")
    if categories is not None:
        _check_known(log, category_ids, categories, name, "category_id", "category")


def _check_known(
    log: ProblemLog, ids: IntArray, index: IdIndex, name: RecordNamer, field: str, kind: str
) -> None:
    unknown = np.flatnonzero(index.positions(ids) < 0)
    if unknown.size == 0:
        return
    missing = np.unique(ids[unknown])
    shown = ", ".join(str(int(i)) for i in missing[:20])
    more = f" and {missing.size - 20} more" if missing.size > 20 else ""
    log.error(
        name(int(unknown[0])),
        field,
        f"{unknown.size} prediction(s) name {kind} ids not in the ground truth: {shown}{more}",
    )
