"""A confusion matrix with a background row and column, from the evaluator's matches.

Rows are the predicted class, columns the class of the object a detection found; the last row
and column are *background*. The diagonal holds the evaluator's matches at ``iou_threshold``;
a detection it left unmatched then finds the free object of *another* class it overlaps most
(IoU ``>= iou_threshold``), each object going to its highest-scoring claimant; every other
detection found nothing (background column), and every object nobody found is in the background
row. So each non-crowd object is counted once in its column and each evaluated detection once in
its row (detections on crowd regions are left out).

>>> gt = {"images": [{"id": 1, "width": 100, "height": 100}],
...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40],
...                        "area": 1600, "iscrowd": 0}],
...       "categories": [{"id": 1, "name": "fish"}, {"id": 2, "name": "crab"}]}
>>> dets = [{"image_id": 1, "category_id": 2, "bbox": [10, 10, 40, 40], "score": 0.9}]
>>> confusion_matrix(gt, dets).counts.tolist()
[[0, 0, 0], [1, 0, 0], [0, 0, 0]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from detlab.analysis.records import (
    MatchRecords,
    best_per_detection,
    check_thresholds,
    match_records,
)
from detlab.core.boxes import FloatArray
from detlab.core.ids import IntArray
from detlab.core.predictions import Predictions
from detlab.errors import ConfigError
from detlab.metrics.inputs import (
    DetectionInput,
    GroundTruthLike,
    PredictionsLike,
    load_ground_truth,
    load_predictions,
)

__all__ = ["ConfusionMatrix", "confusion_matrix"]


@dataclass(frozen=True, eq=False)
class ConfusionMatrix:
    """Detections by predicted class (rows) against the class of the object they found (columns).

    ``counts`` is ``(K + 1, K + 1) int64``; the last row and column are *background*: row
    ``K`` counts objects nobody found (per ground-truth class), column ``K`` detections that
    found no object (per predicted class). Every non-crowd object is counted once in its
    column, every evaluated detection once in its row (detections on crowd regions are left
    out).
    """

    category_ids: tuple[int, ...]
    names: tuple[str, ...]
    counts: IntArray
    iou_threshold: float
    min_score: float

    @property
    def labels(self) -> tuple[str, ...]:
        """Row and column labels: the class names, then ``"background"``."""
        return (*self.names, "background")

    def normalized(self, *, by: str = "gt") -> FloatArray:
        """Fractions: each ground-truth column sums to 1 (``by="gt"``), or each row (``"pred"``)."""
        if by not in ("gt", "pred"):
            raise ConfigError(f"by={by!r}: use 'gt' (columns sum to 1) or 'pred' (rows)")
        axis = 0 if by == "gt" else 1
        totals = self.counts.sum(axis=axis, keepdims=True).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out: FloatArray = np.where(totals > 0, self.counts / totals, 0.0)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "detlab.confusion_matrix",
            "version": 1,
            "category_ids": list(self.category_ids),
            "labels": list(self.labels),
            "counts": self.counts.tolist(),
            "iou_threshold": self.iou_threshold,
            "min_score": self.min_score,
        }


def confusion_matrix(
    gt: GroundTruthLike,
    predictions: PredictionsLike,
    *,
    iou_type: str = "bbox",
    iou_threshold: float = 0.5,
    min_score: float = 0.0,
    max_dets: int = 100,
) -> ConfusionMatrix:
    """Count detections by predicted class against the class of the object they found.

    Detections scoring below ``min_score`` are dropped first (a confusion matrix over every
    low-score detection is mostly background; 0.25 is a common choice). The evaluator's
    matches at ``iou_threshold`` fill the diagonal; a detection it left unmatched then finds
    the free object of *another* class it overlaps most, at IoU ``>= iou_threshold``, the
    highest score winning each object; anything else is background.
    """
    check_thresholds(iou_threshold, 0.0)
    ds = load_ground_truth(gt)
    det = load_predictions(predictions)
    if min_score > 0:
        det = DetectionInput(_above(det.predictions, min_score), det.area_source)
    rec = match_records(ds, det, iou_type=iou_type, iou_threshold=iou_threshold, max_dets=max_dets)
    names = {c.id: c.name for c in ds.categories}
    cats = tuple(int(c) for c in rec.category_ids.tolist())
    return ConfusionMatrix(
        category_ids=cats,
        names=tuple(names.get(c, str(c)) for c in cats),
        counts=_confusion_counts(rec),
        iou_threshold=float(iou_threshold),
        min_score=float(min_score),
    )


def _above(preds: Predictions, min_score: float) -> Predictions:
    keep = np.flatnonzero(preds.scores >= min_score)
    return Predictions(
        image_ids=preds.image_ids[keep],
        category_ids=preds.category_ids[keep],
        boxes=preds.boxes[keep],
        scores=preds.scores[keep],
        segmentation=tuple(preds.segmentation[i] for i in keep) if preds.has_segmentation else (),
    )


def _confusion_counts(rec: MatchRecords) -> IntArray:
    k = rec.num_categories
    tp = rec.true_positive
    free = (rec.gt_match[rec.pair_gt] < 0) & (
        rec.det_category[rec.pair_det] != rec.gt_category[rec.pair_gt]
    )
    o_iou, o_gt = best_per_detection(rec, free)
    threshold = min(rec.iou_threshold, 1 - 1e-10)  # the evaluator's own comparison
    want = ~tp & ~rec.det_ignored & (o_iou >= threshold)
    c = np.flatnonzero(want)
    c = c[np.lexsort((rec.det_rows[c], -rec.det_scores[c], o_gt[c]))]
    first = np.ones(c.size, dtype=bool)
    np.not_equal(o_gt[c][1:], o_gt[c][:-1], out=first[1:])
    won = c[first]
    gt_class = np.full(rec.num_detections, k, dtype=np.int64)  # background column
    gt_class[tp] = rec.gt_category[rec.det_match[tp]]
    gt_class[won] = rec.gt_category[o_gt[won]]
    found = np.zeros(rec.gt_rows.size, dtype=bool)
    found[rec.det_match[tp]] = True
    found[o_gt[won]] = True
    det = ~rec.det_ignored
    lost = ~rec.gt_ignore & ~found
    cells = np.concatenate(
        [rec.det_category[det] * (k + 1) + gt_class[det], k * (k + 1) + rec.gt_category[lost]]
    )
    return np.bincount(cells, minlength=(k + 1) ** 2).reshape(k + 1, k + 1).astype(np.int64)
