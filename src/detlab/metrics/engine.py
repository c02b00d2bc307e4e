"""The COCO evaluation pipeline: group, IoU, match, flag, accumulate, summarise.

Every step is a vectorised pass over all (image, category) groups at once. Matching steps
through the groups' detections in lockstep (see ``matching.py``); ``compiled=False`` runs its
pure-Python reference instead, which the tests hold the vectorised matcher to.
"""

from __future__ import annotations

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray, Dataset
from detlab.core.ids import IntArray
from detlab.metrics.accumulate import DetectionFlags, accumulate
from detlab.metrics.inputs import (
    DetectionInput,
    annotation_rles,
    check_image_ids,
    detection_areas,
    detection_rles,
)
from detlab.metrics.iou import grouped_bbox_iou, grouped_segm_iou, pair_offsets
from detlab.metrics.matching import (
    Matches,
    effective_thresholds,
    match_candidates,
    match_groups_python,
)
from detlab.metrics.params import COCOParams
from detlab.metrics.quirks import warn_quirks
from detlab.metrics.result import ClassMetrics, COCOResult, class_metrics
from detlab.metrics.summary import summarize
from detlab.metrics.tables import EvalTables, build_tables

__all__ = ["run_coco"]


def _outside(area: FloatArray, params: COCOParams) -> BoolArray:
    """``(A, N)``: area below the range's low end or above its high end (pycocotools' test)."""
    bounds = params.area_bounds
    return (area[None, :] < bounds[:, :1]) | (area[None, :] > bounds[:, 1:])


def _ious(ds: Dataset, det: DetectionInput, tables: EvalTables, params: COCOParams) -> FloatArray:
    gt, dt = tables.gt, tables.dt
    if params.iou_type == "segm":
        return grouped_segm_iou(
            detection_rles(ds, det.predictions, dt.rows),
            annotation_rles(ds, gt.rows),
            gt.crowd,
            tables.gt_start,
            tables.dt_start,
        )
    return grouped_bbox_iou(dt.boxes, gt.boxes, gt.crowd, tables.gt_start, tables.dt_start)


def _flags(
    tables: EvalTables, matches: Matches, gt_ignore: BoolArray, params: COCOParams
) -> DetectionFlags:
    """What decides true and false positives, with pycocotools' ``dtIgnore`` rules."""
    gt, dt = tables.gt, tables.dt
    n_area = gt_ignore.shape[0]
    k = tables.category_ids.size
    cat_of_gt = gt.key % max(k, 1)
    npig = np.stack(
        [np.bincount(cat_of_gt[~gt_ignore[a]], minlength=k) for a in range(n_area)], axis=1
    ).reshape(k, n_area)
    return DetectionFlags(
        matches=matches,
        gt_ignore=gt_ignore,
        # pycocotools stores the matched annotation's id and reads 0 as "no match".
        void=(gt.ids == 0) if params.compat == "pycocotools" else np.zeros(gt.ids.size, bool),
        outside=_outside(dt.area, params),
        scores=dt.scores,
        rank=dt.rank,
        score_rank=dt.score_rank,
        category=dt.key % max(k, 1),
        npig=npig.astype(np.int64),
    )


def _per_class(
    ds: Dataset,
    det: DetectionInput,
    tables: EvalTables,
    result: tuple[FloatArray, FloatArray],
    params: COCOParams,
) -> tuple[ClassMetrics, ...]:
    cats = tables.category_ids
    names = {c.id: c.name for c in ds.categories}
    k = max(cats.size, 1)
    cat_of_gt = tables.gt.key % k
    num_gt = np.bincount(cat_of_gt[~tables.gt.crowd], minlength=cats.size)
    num_dt = _detections_per_category(det, tables)
    categories = [(int(c), names.get(int(c), str(int(c)))) for c in cats.tolist()]
    return class_metrics(result[0], result[1], params, categories, (num_gt, num_dt))


def _detections_per_category(det: DetectionInput, tables: EvalTables) -> IntArray:
    preds = det.predictions
    cat = tables.category_index.positions(preds.category_ids)
    keep = (cat >= 0) & (tables.image_index.positions(preds.image_ids) >= 0)
    return np.bincount(cat[keep], minlength=tables.category_ids.size).astype(np.int64)


def run_coco(
    ds: Dataset, det: DetectionInput, params: COCOParams, *, compiled: bool = True
) -> COCOResult:
    """Evaluate ``det`` against ``ds`` with ``params``; see :func:`detlab.metrics.evaluate_coco`.

    ``compiled=False`` matches with the pure-Python reference (slow; for tests).
    """
    preds = det.predictions
    check_image_ids(ds, preds)
    all_rows = np.arange(len(preds))
    tables = build_tables(ds, preds, detection_areas(ds, det, all_rows), params)
    warn_quirks(ds, preds, tables, params)
    gt_ignore = tables.gt.ignore[None, :] | _outside(tables.gt.area, params)
    args = (
        _ious(ds, det, tables, params),
        pair_offsets(tables.gt_start, tables.dt_start),
        tables.gt_start,
        tables.dt_start,
        gt_ignore,
        tables.gt.crowd,
        effective_thresholds(params.iou_array),
    )
    matches = (
        match_candidates(*args) if compiled else Matches.from_dense(match_groups_python(*args))
    )
    flags = _flags(tables, matches, gt_ignore, params)
    acc = accumulate(flags, params.recall_array, params.max_dets)
    stats, _ = summarize(acc.precision, acc.recall, params)
    return COCOResult(
        params=params,
        precision=acc.precision,
        recall=acc.recall,
        scores=acc.scores,
        stats=stats,
        category_ids=tuple(int(c) for c in tables.category_ids),
        per_class=_per_class(ds, det, tables, (acc.precision, acc.recall), params),
        num_images=int(tables.image_ids.size),
    )
