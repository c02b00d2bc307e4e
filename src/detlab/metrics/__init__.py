"""COCO and Pascal VOC evaluation: bit-identical to pycocotools by default, NumPy at the core.

The streaming evaluator and VOC evaluation load on first use: a one-off COCO evaluation in a
fresh process does not pay for their imports.

>>> from detlab.metrics import evaluate_coco  # doctest: +SKIP
>>> evaluate_coco("instances_val2017.json", "detections.json").summary()  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'detlab.metrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
