"""Dataset statistics: the numbers detection people look at before they train.

:func:`dataset_stats` describes a :class:`~detlab.core.dataset.Dataset`, or some of its images,
with whole-column NumPy operations (no loop over boxes): counts, per-class counts and shares,
box areas with COCO's small / medium / large shares, aspect ratios, box sizes relative to their
image, the image-size distribution, and the boxes that are probably mistakes (degenerate,
outside their image, exact duplicates). A million boxes take a fraction of a second
(``bench/dataset_stats.py``); every definition is in ``docs/analysis-stats.md``. In short:

- counts (``count``, ``share``, ``images``, flags, problems) cover every box;
- the size statistics (area, aspect ratio, relative size, size shares) cover the *measured*
  boxes: finite, width and height above zero, not crowd regions (see :func:`select_measured`);
- area is the box's ``w * h`` in px², as plots and anchor fitting see it; ``coco_size_shares``
  bin the annotation's ``area`` field instead, as COCO evaluation does;
- quantiles are NumPy's default (linear interpolation); a statistic with nothing to describe
  is ``None``, never NaN, so ``to_dict()`` is plain JSON.

>>> from detlab.data.synthetic import make_sequential_dataset
>>> stats = dataset_stats(make_sequential_dataset(num_sequences=2, frames_per_sequence=5))
>>> stats.num_images, [c.name for c in stats.per_class][:2]
(10, ['holothurian', 'echinus'])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray, Dataset
from detlab.core.ids import IntArray
from detlab.data.stats_result import (
    BoxIssues,
    ClassStats,
    DatasetStats,
    ImageSize,
    IssueCount,
    Quantiles,
    SizeShares,
)
from detlab.errors import InvalidInputError

__all__ = [
    "LARGE_AREA",
    "MAX_EXAMPLES",
    "MAX_IMAGE_SIZES",
    "OUTSIDE_TOLERANCE",
    "SMALL_AREA",
    "BoxIssues",
    "ClassStats",
    "DatasetStats",
    "ImageSize",
    "IssueCount",
    "Quantiles",
    "SizeShares",
    "dataset_stats",
    "select_measured",
]

#: COCO's size classes: small below 32², medium from 32² to below 96², large from 96² on.
SMALL_AREA = 32.0**2
LARGE_AREA = 96.0**2
#: How far (px) a box may poke out of its image before it counts as outside; the same
#: allowance ``detlab validate`` makes (annotation tools routinely give ``x2 == width + 1``).
OUTSIDE_TOLERANCE = 1.0
#: How many annotation ids each problem lists as examples.
MAX_EXAMPLES = 5
#: How many of the most common image sizes are kept.
MAX_IMAGE_SIZES = 20

_QUARTILES = (0.25, 0.5, 0.75)

# --------------------------------------------------------------------------- selection


@dataclass(frozen=True)
class _Columns:
    """The selected images and their boxes; ``image_of_box`` indexes the selected images."""

    widths: FloatArray
    heights: FloatArray
    image_of_box: IntArray
    box_ids: IntArray
    category_ids: IntArray
    category: IntArray
    boxes: FloatArray
    area: FloatArray
    iscrowd: BoolArray
    ignore: BoolArray
    difficult: BoolArray
    truncated: BoolArray

    @property
    def num_images(self) -> int:
        return int(self.widths.size)


def _image_positions(ds: Dataset, image_ids: npt.ArrayLike) -> IntArray:
    ids = np.unique(np.asarray(image_ids, dtype=np.int64).reshape(-1))
    positions = ds.image_index.positions(ids)
    unknown = ids[positions < 0]
    if unknown.size:
        shown = ", ".join(str(int(i)) for i in unknown[:10])
        more = f" and {unknown.size - 10} more" if unknown.size > 10 else ""
        raise InvalidInputError(
            f"{ds.source or 'dataset'}: {unknown.size} image id(s) not in the dataset: "
            f"{shown}{more}"
        )
    return positions


def _columns(ds: Dataset, image_ids: npt.ArrayLike | None) -> _Columns:
    anns, images = ds.annotations, ds.images
    category = ds.category_positions()
    if image_ids is None:
        rows: slice | IntArray = slice(None)
        positions: slice | IntArray = slice(None)
        image_of_box = anns.image_index
    else:
        positions = _image_positions(ds, image_ids)
        remap = np.full(ds.num_images, -1, dtype=np.int64)
        remap[positions] = np.arange(positions.size)
        rows = np.flatnonzero(remap[anns.image_index] >= 0)
        image_of_box = remap[anns.image_index[rows]]
    return _Columns(
        widths=images.widths[positions].astype(np.float64),
        heights=images.heights[positions].astype(np.float64),
        image_of_box=image_of_box,
        box_ids=anns.ids[rows],
        category_ids=anns.category_ids[rows],
        category=category[rows],
        boxes=anns.boxes[rows],
        area=anns.area[rows],
        iscrowd=anns.iscrowd[rows],
        ignore=anns.ignore[rows],
        difficult=anns.difficult[rows],
        truncated=anns.truncated[rows],
    )


def _measured(boxes: FloatArray, iscrowd: BoolArray) -> BoolArray:
    finite = np.isfinite(boxes).all(axis=1)
    with np.errstate(invalid="ignore"):
        positive = (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    measured: BoolArray = finite & positive & ~iscrowd
    return measured


def select_measured(ds: Dataset) -> BoolArray:
    """``(M,) bool``: the boxes the size statistics describe.

    Finite, with width and height above zero (an aspect ratio needs both), and not crowd
    regions (a crowd box outlines a group, not one object; COCO evaluation ignores them too).
    """
    return _measured(ds.annotations.boxes, ds.annotations.iscrowd)


# --------------------------------------------------------------------------- grouping


def _distinct_counts(keys: IntArray) -> tuple[IntArray, IntArray]:
    """The distinct values of ``keys`` and how often each occurs (a sort, not a hash table)."""
    ordered = np.sort(keys)
    first = np.ones(ordered.size, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, ordered.size))
    return ordered[starts], counts


class _Groups:
    """Rows grouped by a small integer (a category position), for per-group quantiles.

    One stable pass orders the rows by group (a radix sort when the groups fit 16 bits); each
    column is then gathered in that order and sorted within each group's slice, which is a
    loop over groups (categories), never over boxes.
    """

    def __init__(self, groups: IntArray, num_groups: int) -> None:
        narrow = groups.astype(np.int16) if num_groups <= np.iinfo(np.int16).max else groups
        self.order = np.argsort(narrow, kind="stable")
        self.counts: IntArray = np.bincount(groups, minlength=num_groups)
        self.starts: IntArray = np.cumsum(self.counts) - self.counts

    def quantiles(self, values: FloatArray, qs: tuple[float, ...]) -> FloatArray:
        """``(num_groups, len(qs))``: NumPy's linear quantiles per group, NaN when empty."""
        ordered = values[self.order]
        for start, count in zip(self.starts.tolist(), self.counts.tolist(), strict=True):
            if count > 1:
                ordered[start : start + count].sort()
        out = np.full((self.counts.size, len(qs)), np.nan)
        filled = np.flatnonzero(self.counts)
        if filled.size == 0:
            return out
        counts, starts = self.counts[filled, None], self.starts[filled, None]
        where = (counts - 1) * np.asarray(qs)[None, :]
        below = np.floor(where).astype(np.int64)
        above = np.minimum(below + 1, counts - 1)
        out[filled] = _lerp(ordered[starts + below], ordered[starts + above], where - below)
        return out


def _lerp(a: FloatArray, b: FloatArray, t: FloatArray) -> FloatArray:
    """NumPy's interpolation formula for quantiles (exact at both ends)."""
    diff = b - a
    result: FloatArray = np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)
    return result


def _optional(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


# --------------------------------------------------------------------------- per class


def _size_class(area: FloatArray) -> IntArray:
    """0 small, 1 medium, 2 large: COCO's thresholds, each range closed below."""
    classes: IntArray = np.searchsorted(np.array([SMALL_AREA, LARGE_AREA]), area, side="right")
    return classes.astype(np.int64)


def _shares(counts: IntArray) -> SizeShares:
    total = int(counts.sum())
    if total == 0:
        return SizeShares(None, None, None)
    small, medium, large = (float(c) / total for c in counts)
    return SizeShares(small, medium, large)


def _grouped_shares(groups: IntArray, area: FloatArray, num_groups: int) -> IntArray:
    """``(num_groups, 3)`` counts of small, medium and large boxes per group."""
    keys = groups * 3 + _size_class(area)
    return np.bincount(keys, minlength=3 * num_groups).reshape(num_groups, 3)


@dataclass(frozen=True)
class _Shape:
    """Per measured box: area (px²), aspect ratio, relative size; and the annotation area."""

    area: FloatArray
    aspect_ratio: FloatArray
    relative_size: FloatArray
    relative_width: FloatArray
    relative_height: FloatArray
    coco_area: FloatArray


def _shape(cols: _Columns, measured: BoolArray) -> _Shape:
    boxes = cols.boxes[measured]
    w, h = boxes[:, 2], boxes[:, 3]
    image = cols.image_of_box[measured]
    image_w, image_h = cols.widths[image], cols.heights[image]
    area = w * h
    return _Shape(
        area=area,
        aspect_ratio=w / h,
        relative_size=np.sqrt(area / (image_w * image_h)),
        relative_width=w / image_w,
        relative_height=h / image_h,
        coco_area=cols.area[measured],
    )


def _images_per_class(cols: _Columns, known: BoolArray, k: int) -> IntArray:
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    pairs, _ = _distinct_counts(cols.image_of_box[known] * k + cols.category[known])
    return np.bincount(pairs % k, minlength=k)


def _per_class(
    ds: Dataset, cols: _Columns, measured: BoolArray, shape: _Shape
) -> tuple[ClassStats, ...]:
    k = len(ds.categories)
    known = cols.category >= 0
    counts = np.bincount(cols.category[known], minlength=k)
    crowd = np.bincount(cols.category[known & cols.iscrowd], minlength=k)
    images = _images_per_class(cols, known, k)
    groups = cols.category[measured]
    inside = groups >= 0  # boxes of unknown categories count overall, not per class
    groups = groups[inside]
    grouped = _Groups(groups, k)
    area = grouped.quantiles(shape.area[inside], _QUARTILES)
    ratio = grouped.quantiles(shape.aspect_ratio[inside], _QUARTILES)
    relative = grouped.quantiles(shape.relative_size[inside], (0.5,))
    sizes = _grouped_shares(groups, shape.area[inside], k)
    coco_sizes = _grouped_shares(groups, shape.coco_area[inside], k)
    total = cols.category.size
    return tuple(
        ClassStats(
            id=c.id,
            name=c.name,
            count=int(counts[i]),
            share=float(counts[i]) / total if total else None,
            images=int(images[i]),
            crowd=int(crowd[i]),
            measured=int(sizes[i].sum()),
            area_median=_optional(area[i, 1]),
            area_q1=_optional(area[i, 0]),
            area_q3=_optional(area[i, 2]),
            aspect_ratio_median=_optional(ratio[i, 1]),
            aspect_ratio_q1=_optional(ratio[i, 0]),
            aspect_ratio_q3=_optional(ratio[i, 2]),
            relative_size_median=_optional(relative[i, 0]),
            size_shares=_shares(sizes[i]),
            coco_size_shares=_shares(coco_sizes[i]),
        )
        for i, c in enumerate(ds.categories)
    )


# --------------------------------------------------------------------------- problems


def _issue(rows: IntArray, box_ids: IntArray) -> IssueCount:
    examples = tuple(int(i) for i in box_ids[rows[:MAX_EXAMPLES]])
    return IssueCount(int(rows.size), examples)


def _row_digests(columns: tuple[npt.NDArray[Any], ...]) -> npt.NDArray[np.uint64]:
    """A 64-bit digest per row (FNV-style over the columns' bits): equal rows, equal digests."""
    digest = np.full(columns[0].size, 0xCBF29CE484222325, dtype=np.uint64)
    for column in columns:
        # + 0.0 folds -0.0 into 0.0, which compare equal but differ in bits
        bits = (column + 0.0).view(np.uint64) if column.dtype.kind == "f" else column
        digest ^= bits.astype(np.uint64, copy=False)
        digest *= np.uint64(0x100000001B3)
        digest ^= digest >> np.uint64(29)
    return digest


def _duplicate_rows(cols: _Columns) -> IntArray:
    """Rows repeating an earlier row's image, category and coordinates exactly, in file order.

    Rows whose digests collide are the only candidates; those few are compared exactly, so a
    digest collision costs time, never a wrong answer.
    """
    if cols.box_ids.size < 2:
        return np.zeros(0, dtype=np.int64)
    b = cols.boxes
    keys = (b[:, 3], b[:, 2], b[:, 1], b[:, 0], cols.category_ids, cols.image_of_box)
    digests = _row_digests(keys)
    order = np.argsort(digests)
    tied = np.flatnonzero(digests[order[1:]] == digests[order[:-1]])
    candidates = np.unique(np.concatenate([order[tied], order[tied + 1]]))
    exact = np.lexsort(tuple(key[candidates] for key in keys))
    same = np.ones(max(exact.size - 1, 0), dtype=bool)
    for key in keys:
        column = key[candidates[exact]]
        same &= column[1:] == column[:-1]
    # lexsort is stable and the candidates ascend, so each run keeps its first row in file order
    return np.sort(candidates[exact[1:][same]])


def _outside_rows(cols: _Columns, finite: BoolArray) -> IntArray:
    b, tol = cols.boxes, OUTSIDE_TOLERANCE
    image_w, image_h = cols.widths[cols.image_of_box], cols.heights[cols.image_of_box]
    with np.errstate(invalid="ignore"):
        outside = (
            (b[:, 0] < -tol)
            | (b[:, 1] < -tol)
            | (b[:, 0] + b[:, 2] > image_w + tol)
            | (b[:, 1] + b[:, 3] > image_h + tol)
        )
    return np.flatnonzero(outside & finite)


def _box_issues(cols: _Columns) -> BoxIssues:
    finite: BoolArray = np.asarray(np.isfinite(cols.boxes).all(axis=1), dtype=bool)
    w, h = cols.boxes[:, 2], cols.boxes[:, 3]
    with np.errstate(invalid="ignore"):
        negative = finite & ((w < 0) | (h < 0))
        zero = finite & ~negative & ((w == 0) | (h == 0))
    ids = cols.box_ids
    return BoxIssues(
        zero_size=_issue(np.flatnonzero(zero), ids),
        negative_size=_issue(np.flatnonzero(negative), ids),
        non_finite=_issue(np.flatnonzero(~finite), ids),
        outside_image=_issue(_outside_rows(cols, finite), ids),
        duplicates=_issue(_duplicate_rows(cols), ids),
        unknown_category=_issue(np.flatnonzero(cols.category < 0), ids),
    )


# --------------------------------------------------------------------------- images


def _image_sizes(cols: _Columns) -> tuple[int, tuple[ImageSize, ...]]:
    """The number of distinct sizes and the most common ones (ties: smaller width, height)."""
    if cols.num_images == 0:
        return 0, ()
    widths, heights = cols.widths.astype(np.int64), cols.heights.astype(np.int64)
    low, span = int(heights.min()), int(heights.max() - heights.min()) + 1
    keys, counts = _distinct_counts(widths * span + (heights - low))
    top = np.argsort(-counts, kind="stable")[:MAX_IMAGE_SIZES]
    sizes = tuple(
        ImageSize(int(keys[i] // span), int(keys[i] % span) + low, int(counts[i]))
        for i in top.tolist()
    )
    return int(counts.size), sizes


# --------------------------------------------------------------------------- entry point


def dataset_stats(ds: Dataset, *, image_ids: npt.ArrayLike | None = None) -> DatasetStats:
    """Describe ``ds``, or only the images with ``image_ids`` and their boxes.

    A dataset without images or boxes is described too: counts are 0, every class is listed
    with ``count`` 0, and quantiles and shares are ``None``. Unknown ``image_ids`` raise
    :class:`~detlab.errors.InvalidInputError`.
    """
    cols = _columns(ds, image_ids)
    measured = _measured(cols.boxes, cols.iscrowd)
    shape = _shape(cols, measured)
    per_image = np.bincount(cols.image_of_box, minlength=cols.num_images)
    distinct, sizes = _image_sizes(cols)
    return DatasetStats(
        num_images=cols.num_images,
        num_boxes=int(cols.box_ids.size),
        num_categories=len(ds.categories),
        measured_boxes=int(shape.area.size),
        empty_images=int((per_image == 0).sum()),
        crowd=int(cols.iscrowd.sum()),
        difficult=int(cols.difficult.sum()),
        ignored=int(cols.ignore.sum()),
        truncated=int(cols.truncated.sum()),
        boxes_per_image=Quantiles.of(per_image),
        area=Quantiles.of(shape.area),
        aspect_ratio=Quantiles.of(shape.aspect_ratio),
        relative_size=Quantiles.of(shape.relative_size),
        relative_width=Quantiles.of(shape.relative_width),
        relative_height=Quantiles.of(shape.relative_height),
        size_shares=_shares(np.bincount(_size_class(shape.area), minlength=3)),
        coco_size_shares=_shares(np.bincount(_size_class(shape.coco_area), minlength=3)),
        image_width=Quantiles.of(cols.widths),
        image_height=Quantiles.of(cols.heights),
        distinct_image_sizes=distinct,
        image_sizes=sizes,
        issues=_box_issues(cols),
        per_class=_per_class(ds, cols, measured, shape),
    )
