"""``evaluate_coco``: COCO-style detection evaluation, bit-identical to pycocotools by default.

>>> gt = {"images": [{"id": 1, "width": 100, "height": 100}],
...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 50],
...                        "area": 2500, "iscrowd": 0}],
...       "categories": [{"id": 1, "name": "fish"}]}
>>> dets = [{"image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 50], "score": 0.9}]
>>> r = evaluate_coco(gt, dets)
>>> round(float(r.stats[0]), 6), r.per_class[0].name
(1.0, 'fish')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from detlab.metrics.engine import run_coco
from detlab.metrics.inputs import (
    GroundTruthLike,
    PredictionsLike,
    load_ground_truth,
    load_predictions,
)
from detlab.metrics.params import AreaRange, COCOParams
from detlab.metrics.result import COCOResult

__all__ = ["evaluate_coco"]


def evaluate_coco(
    gt: GroundTruthLike,
    predictions: PredictionsLike,
    *,
    iou_type: str = "bbox",
    max_dets: Iterable[int] = (1, 10, 100),
    iou_thresholds: Iterable[float] | None = None,
    area_ranges: Mapping[str, Sequence[float]] | Iterable[AreaRange] | None = None,
    category_ids: Iterable[int] | None = None,
    image_ids: Iterable[int] | None = None,
    compat: str = "pycocotools",
) -> COCOResult:
    """Evaluate ``predictions`` against ``gt`` as pycocotools' ``COCOeval`` does.

    ``gt`` is a COCO instances file, its parsed dict or a :class:`~detlab.core.Dataset`;
    ``predictions`` a COCO results file, its parsed list or :class:`~detlab.core.Predictions`.
    ``iou_type`` is ``"bbox"`` or ``"segm"`` (masks need pycocotools). ``area_ranges`` maps
    labels to ``(low, high)``; the summary looks up ``all``, ``small``, ``medium`` and
    ``large``. ``compat="pycocotools"`` reproduces pycocotools bit for bit, quirks included
    (each announced by a :class:`~detlab.errors.DetlabWarning`); ``compat="fixed"`` repairs
    them (see docs/metrics.md).
    """
    params = COCOParams.build(
        iou_type=iou_type,
        max_dets=max_dets,
        iou_thresholds=iou_thresholds,
        area_ranges=area_ranges,
        category_ids=category_ids,
        image_ids=image_ids,
        compat=compat,
    )
    return run_coco(load_ground_truth(gt), load_predictions(predictions), params)
