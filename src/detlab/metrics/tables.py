"""Ground truth and detections gathered into (image, category) groups, as pycocotools sees them.

pycocotools keeps per-(image, category) lists of dicts; here every group is a contiguous slice
of NumPy columns, found with one stable sort. The order inside a group is the order pycocotools
builds: ground truth in file order, detections by descending score with a stable sort (file
order breaks ties), cut to the largest ``max_dets``. A group's key is
``image_position * K + category_position`` over the sorted evaluated image and category ids,
so sorting by key also sorts by image id, the order ``accumulate()`` concatenates images in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray, Dataset
from detlab.core.ids import IdIndex, IntArray
from detlab.core.predictions import Predictions
from detlab.metrics.params import COCOParams
from detlab.metrics.sorting import descending_ranks, sorted_unique, stable_argsort

__all__ = ["DetTable", "EvalTables", "GTTable", "build_tables", "substitute_duplicate_ids"]


@dataclass(frozen=True, eq=False)
class GTTable:
    """Evaluated ground truth, grouped; ``rows`` are positions in the dataset's annotations."""

    rows: IntArray
    ids: IntArray
    boxes: FloatArray
    area: FloatArray
    crowd: BoolArray
    ignore: BoolArray
    key: IntArray


@dataclass(frozen=True, eq=False)
class DetTable:
    """Evaluated detections, grouped, best score first; ``rank`` is the place inside the group.

    ``score_rank`` numbers the distinct scores from the highest (0): ordering by it is ordering
    by descending score, so later stable sorts need no float comparisons.
    """

    rows: IntArray
    boxes: FloatArray
    scores: FloatArray
    area: FloatArray
    key: IntArray
    rank: IntArray
    score_rank: IntArray


@dataclass(frozen=True, eq=False)
class EvalTables:
    """Both tables plus the groups: ``gt_start[g]:gt_start[g + 1]`` are group ``g``'s rows."""

    image_ids: IntArray
    category_ids: IntArray
    gt: GTTable
    dt: DetTable
    group_keys: IntArray
    gt_start: IntArray
    dt_start: IntArray
    image_index: IdIndex
    category_index: IdIndex

    @property
    def num_groups(self) -> int:
        return int(self.group_keys.size)

    def group_category(self) -> IntArray:
        """Per group, the position of its category in :attr:`category_ids`."""
        return self.group_keys % max(int(self.category_ids.size), 1)


def evaluated_ids(ds: Dataset, params: COCOParams) -> tuple[IntArray, IntArray]:
    """Sorted unique image and category ids (``np.unique`` as pycocotools' ``evaluate()``)."""
    images = ds.images.ids if params.image_ids is None else params.image_ids
    cats = ds.category_ids if params.category_ids is None else params.category_ids
    return sorted_unique(np.asarray(images)), sorted_unique(np.asarray(cats))


def substitute_duplicate_ids(ids: IntArray) -> IntArray:
    """Per row, the last row with the same id: what ``COCO.loadAnns`` returns for that id.

    pycocotools indexes annotations by id in a dict, so a repeated id resolves to the last
    annotation written with it, everywhere that id is looked up.
    """
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    last_of_run = np.searchsorted(sorted_ids, sorted_ids, side="right") - 1
    out = np.empty_like(order)
    out[order] = order[last_of_run]
    return out


def _gt_table(ds: Dataset, params: COCOParams, images: IdIndex, cats: IdIndex) -> GTTable:
    ann = ds.annotations
    k = max(len(cats), 1)
    image_pos = images.positions(ds.images.ids)[ann.image_index]
    cat_pos = cats.positions(ann.category_ids)
    # getAnnIds filters the file's records, image by image in sorted id order ...
    rows = np.flatnonzero((image_pos >= 0) & (cat_pos >= 0))
    rows = rows[stable_argsort(image_pos[rows], len(images))]
    if params.compat == "pycocotools":
        # ... then loadAnns looks each id up again, and a repeated id gives its last record.
        rows = substitute_duplicate_ids(ann.ids)[rows]
        rows = rows[(image_pos[rows] >= 0) & (cat_pos[rows] >= 0)]
    key = image_pos[rows] * k + cat_pos[rows]
    order = stable_argsort(key, len(images) * k)
    rows, key = rows[order], key[order]
    crowd = ann.iscrowd[rows]
    # pycocotools overwrites the file's 'ignore' flag with iscrowd; "fixed" honours both.
    ignore = crowd if params.compat == "pycocotools" else crowd | ann.ignore[rows]
    return GTTable(
        rows=rows,
        ids=ann.ids[rows],
        boxes=ann.boxes[rows],
        area=ann.area[rows],
        crowd=crowd,
        ignore=ignore,
        key=key,
    )


def _det_table(
    dets: Predictions, area: FloatArray, params: COCOParams, images: IdIndex, cats: IdIndex
) -> DetTable:
    k = max(len(cats), 1)
    image_pos = images.positions(dets.image_ids)
    cat_pos = cats.positions(dets.category_ids)
    rows = np.flatnonzero((image_pos >= 0) & (cat_pos >= 0))
    # Stable sort by descending score, then stable by group: ties keep file order.
    score_rank = descending_ranks(dets.scores[rows])
    order = stable_argsort(score_rank, int(score_rank.max(initial=-1)) + 1)
    rows, score_rank = rows[order], score_rank[order]
    key = image_pos[rows] * k + cat_pos[rows]
    order = stable_argsort(key, len(images) * k)
    rows, key, score_rank = rows[order], key[order], score_rank[order]
    rank = _rank_in_group(key)
    keep = rank < params.max_dets[-1]
    rows, key, rank, score_rank = rows[keep], key[keep], rank[keep], score_rank[keep]
    return DetTable(
        rows=rows,
        boxes=dets.boxes[rows],
        scores=dets.scores[rows],
        area=area[rows],
        key=key,
        rank=rank,
        score_rank=score_rank,
    )


def _rank_in_group(key: IntArray) -> IntArray:
    """0, 1, 2, ... within each run of equal keys (``key`` is sorted)."""
    if key.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, key.size]))
    return np.arange(key.size, dtype=np.int64) - run_start


def build_tables(
    ds: Dataset, dets: Predictions, det_area: FloatArray, params: COCOParams
) -> EvalTables:
    """Group ground truth and detections by (image, category) for evaluation."""
    images, cats = evaluated_ids(ds, params)
    image_index, cat_index = IdIndex(images), IdIndex(cats)
    gt = _gt_table(ds, params, image_index, cat_index)
    dt = _det_table(dets, det_area, params, image_index, cat_index)
    keys = _merge_keys(gt.key, dt.key)
    return EvalTables(
        image_ids=images,
        category_ids=cats,
        gt=gt,
        dt=dt,
        group_keys=keys,
        gt_start=_starts(gt.key, keys),
        dt_start=_starts(dt.key, keys),
        image_index=image_index,
        category_index=cat_index,
    )


def _merge_keys(a: IntArray, b: IntArray) -> IntArray:
    """Sorted distinct values of two sorted key columns (``np.union1d``)."""
    return sorted_unique(np.concatenate([a, b]), sorted_runs=True)


def _starts(key: IntArray, groups: IntArray) -> IntArray:
    """``G + 1`` offsets: rows of group ``g`` are ``starts[g]:starts[g + 1]``."""
    starts = np.searchsorted(key, groups, side="left")
    return np.append(starts, key.size).astype(np.int64)
