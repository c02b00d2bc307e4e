"""COCO and Pascal VOC evaluation: bit-identical to pycocotools by default, NumPy at the core.

>>> from detlab.metrics import evaluate_coco  # doctest: +SKIP
>>> evaluate_coco("instances_val2017.json", "detections.json").summary()  # doctest: +SKIP
"""

from detlab.metrics.coco import evaluate_coco
from detlab.metrics.params import COCOParams
from detlab.metrics.result import ClassMetrics, COCOResult
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
