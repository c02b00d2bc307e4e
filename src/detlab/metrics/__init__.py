"""COCO and Pascal VOC evaluation: bit-identical to pycocotools by default, NumPy at the core.

The streaming evaluator and VOC evaluation load on first use: a one-off COCO evaluation in a
fresh process does not pay for their imports.

>>> from detlab.metrics import evaluate_coco  # doctest: +SKIP
>>> evaluate_coco("instances_val2017.json", "detections.json").summary()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from detlab._lazy import lazy_exports
from detlab.metrics.coco import evaluate_coco
from detlab.metrics.params import COCOParams
from detlab.metrics.result import ClassMetrics, COCOResult

if TYPE_CHECKING:
    from detlab.metrics.streaming import COCOEvaluator
    from detlab.metrics.voc import VOCCurve, VOCResult, evaluate_voc

__all__ = [
    "COCOEvaluator",
    "COCOParams",
    "COCOResult",
    "ClassMetrics",
    "VOCCurve",
    "VOCResult",
    "evaluate_coco",
    "evaluate_voc",
]

_LAZY = {
    "COCOEvaluator": "detlab.metrics.streaming",
    "VOCCurve": "detlab.metrics.voc",
    "VOCResult": "detlab.metrics.voc",
    "evaluate_voc": "detlab.metrics.voc",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
