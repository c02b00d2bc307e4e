"""Pascal VOC average precision, following the devkit's rules (``voc_eval.py`` / ``VOCevaldet``).

Per class, detections are ranked by score (stable: file order breaks ties, where the Python
port's ``np.argsort`` does not promise an order). Each one is compared with every ground-truth
box of its class in its image; with the best IoU ``ovmax`` strictly above the threshold
(``ovmax > ovthresh``), it is a true positive if that box is not difficult and not yet taken,
a false positive if taken, and neither if difficult. Anything else is a false positive.
Difficult boxes are not counted as positives.

``method="11point"`` is the VOC2007 metric (the mean of the best precision at recall >= 0, 0.1,
..., 1, with the devkit's ``np.arange(0., 1.1, 0.1)`` thresholds); ``"area"`` is VOC2010 on (the
area under the precision envelope). ``legacy_coordinates`` uses the devkit's inclusive pixel
convention, adding 1 to widths, heights and intersections.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray, Dataset
from detlab.core.ids import IntArray
from detlab.core.predictions import Predictions
from detlab.errors import EvaluationError
from detlab.metrics.inputs import (
    GroundTruthLike,
    PredictionsLike,
    check_image_ids,
    load_ground_truth,
    load_predictions,
)

__all__ = ["VOCCurve", "VOCResult", "evaluate_voc", "voc_ap"]

VOCMethod = Literal["11point", "area"]


@dataclass(frozen=True, eq=False)
class VOCCurve:
    """One class's ranked detections: cumulative precision and recall, and their scores."""

    precision: FloatArray
    recall: FloatArray
    scores: FloatArray
    num_gt: int


@dataclass(frozen=True, eq=False)
class VOCResult:
    """AP per class name (classes with ground truth only), their mean, and the curves."""

    ap: dict[str, float]
    map: float
    curves: dict[str, VOCCurve]
    iou_threshold: float
    method: str
    legacy_coordinates: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data; :meth:`from_dict` rebuilds an equal result."""
        return {
            "format": "detlab.voc_result",
            "version": 1,
            "ap": dict(self.ap),
            "map": self.map,
            "curves": {name: _curve_to_dict(c) for name, c in self.curves.items()},
            "iou_threshold": self.iou_threshold,
            "method": self.method,
            "legacy_coordinates": self.legacy_coordinates,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VOCResult:
        return cls(
            ap={str(k): float(v) for k, v in data["ap"].items()},
            map=float(data["map"]),
            curves={str(k): _curve_from_dict(v) for k, v in data["curves"].items()},
            iou_threshold=float(data["iou_threshold"]),
            method=str(data["method"]),
            legacy_coordinates=bool(data["legacy_coordinates"]),
        )


def _curve_to_dict(curve: VOCCurve) -> dict[str, Any]:
    return {
        "precision": curve.precision.tolist(),
        "recall": curve.recall.tolist(),
        "scores": curve.scores.tolist(),
        "num_gt": curve.num_gt,
    }


def _curve_from_dict(data: Mapping[str, Any]) -> VOCCurve:
    return VOCCurve(
        precision=np.array(data["precision"], dtype=np.float64),
        recall=np.array(data["recall"], dtype=np.float64),
        scores=np.array(data["scores"], dtype=np.float64),
        num_gt=int(data["num_gt"]),
    )


def voc_ap(recall: FloatArray, precision: FloatArray, method: str = "11point") -> float:
    """The devkit's ``voc_ap``: 11-point interpolated, or the area under the envelope.

    >>> voc_ap(np.array([0.5, 1.0]), np.array([1.0, 0.5]), "area")
    0.75
    """
    if method == "11point":
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            above = recall >= t
            p = float(np.max(precision[above])) if above.any() else 0.0
            ap = ap + p / 11.0
        return float(ap)
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def _xyxy(boxes: FloatArray) -> FloatArray:
    return np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)


def _overlaps(box: FloatArray, gts: FloatArray, one: float) -> FloatArray:
    """The devkit's IoU of one ``xyxy`` box with many; ``one`` is 1.0 for inclusive pixels."""
    iw = np.maximum(np.minimum(gts[:, 2], box[2]) - np.maximum(gts[:, 0], box[0]) + one, 0.0)
    ih = np.maximum(np.minimum(gts[:, 3], box[3]) - np.maximum(gts[:, 1], box[1]) + one, 0.0)
    inters = iw * ih
    union = (
        (box[2] - box[0] + one) * (box[3] - box[1] + one)
        + (gts[:, 2] - gts[:, 0] + one) * (gts[:, 3] - gts[:, 1] + one)
        - inters
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        iou: FloatArray = inters / union
    return iou


@dataclass(frozen=True, eq=False)
class _ClassGT:
    """One class's ground truth: ``xyxy`` boxes and difficult flags, grouped by image."""

    boxes: dict[int, FloatArray]
    difficult: dict[int, BoolArray]
    npos: int


def _class_gt(ds: Dataset, rows: IntArray) -> _ClassGT:
    ann = ds.annotations
    boxes, difficult = _xyxy(ann.boxes[rows]), ann.difficult[rows] | ann.iscrowd[rows]
    images = ann.image_index[rows]
    by_image: dict[int, FloatArray] = {}
    flags: dict[int, BoolArray] = {}
    for image in np.unique(images).tolist():
        mine = images == image
        by_image[image], flags[image] = boxes[mine], difficult[mine]
    return _ClassGT(by_image, flags, int((~difficult).sum()))


def _rank(
    gt: _ClassGT, boxes: FloatArray, images: IntArray, threshold: float, one: float
) -> tuple[FloatArray, FloatArray]:
    """Per ranked detection, true-positive and false-positive flags (0.0 or 1.0)."""
    tp, fp = np.zeros(images.size), np.zeros(images.size)
    taken = {image: np.zeros(b.shape[0], dtype=bool) for image, b in gt.boxes.items()}
    for d, image in enumerate(images.tolist()):
        candidates = gt.boxes.get(image)
        ovmax, jmax = -np.inf, -1
        if candidates is not None and candidates.shape[0]:
            overlaps = _overlaps(boxes[d], candidates, one)
            ovmax, jmax = float(np.max(overlaps)), int(np.argmax(overlaps))
        if not ovmax > threshold:
            fp[d] = 1.0
        elif not gt.difficult[image][jmax]:
            if taken[image][jmax]:
                fp[d] = 1.0
            else:
                tp[d], taken[image][jmax] = 1.0, True
    return tp, fp


def _class_curve(
    ds: Dataset, preds: Predictions, category_id: int, threshold: float, one: float
) -> VOCCurve:
    gt = _class_gt(ds, np.flatnonzero(ds.annotations.category_ids == category_id))
    rows = np.flatnonzero(preds.category_ids == category_id)
    rows = rows[np.argsort(-preds.scores[rows], kind="stable")]
    images = ds.image_index.positions(preds.image_ids[rows])
    tp, fp = _rank(gt, _xyxy(preds.boxes[rows]), images, threshold, one)
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = tp / float(gt.npos)
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return VOCCurve(precision, recall, preds.scores[rows], gt.npos)


def evaluate_voc(
    gt: GroundTruthLike,
    predictions: PredictionsLike,
    *,
    iou_threshold: float = 0.5,
    method: str = "11point",
    legacy_coordinates: bool = True,
) -> VOCResult:
    """Pascal VOC AP per class and their mean (see the module docstring for the rules).

    ``gt``'s annotations may carry ``difficult`` (crowd regions count as difficult too).
    Classes without non-difficult ground truth get no AP and stay out of the mean.
    """
    if method not in ("11point", "area"):
        raise EvaluationError(f"method={method!r} is not supported; use '11point' or 'area'")
    ds = load_ground_truth(gt)
    preds = load_predictions(predictions).predictions
    check_image_ids(ds, preds)
    one = 1.0 if legacy_coordinates else 0.0
    curves = {
        c.name: _class_curve(ds, preds, c.id, float(iou_threshold), one) for c in ds.categories
    }
    curves = {name: c for name, c in curves.items() if c.num_gt > 0}
    ap = {name: voc_ap(c.recall, c.precision, method) for name, c in curves.items()}
    mean = float(np.mean(list(ap.values()))) if ap else float("nan")
    return VOCResult(ap, mean, curves, float(iou_threshold), method, legacy_coordinates)
