"""Evaluation parameters, built exactly as pycocotools' ``Params`` builds them.

The IoU and recall thresholds come from the same ``np.linspace`` calls as pycocotools, so the
float64 values are bit-identical (``np.arange`` would drift in the last bit, which decides
whether an IoU of exactly 0.75 matches). Parameters are plain tuples of Python numbers, so they
pickle, compare and serialise to JSON without losing a bit.

>>> p = COCOParams.build(max_dets=(300, 1, 10))
>>> p.max_dets, len(p.iou_thresholds), p.area_labels
((1, 10, 300), 10, ('all', 'small', 'medium', 'large'))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.errors import EvaluationError

__all__ = [
    "COCO_AREA_RANGES",
    "AreaRange",
    "COCOParams",
    "Compat",
    "IouType",
    "coco_iou_thresholds",
    "coco_recall_thresholds",
]

IouType = Literal["bbox", "segm"]
Compat = Literal["pycocotools", "fixed"]

#: ``(label, low, high)``: an object is inside when ``low <= area <= high``.
AreaRange = tuple[str, float, float]

#: pycocotools' ``areaRng`` and ``areaRngLbl`` (``0 ** 2, 1e5 ** 2`` evaluate to 0 and 1e10).
COCO_AREA_RANGES: tuple[AreaRange, ...] = (
    ("all", 0**2, 1e5**2),
    ("small", 0**2, 32**2),
    ("medium", 32**2, 96**2),
    ("large", 96**2, 1e5**2),
)


def coco_iou_thresholds() -> FloatArray:
    """``[.5:.05:.95]`` built with pycocotools' exact expression."""
    return np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)


def coco_recall_thresholds() -> FloatArray:
    """``[0:.01:1]`` (101 values) built with pycocotools' exact expression."""
    return np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


@dataclass(frozen=True)
class COCOParams:
    """Everything that shapes a COCO evaluation; see :meth:`build` for the defaults."""

    iou_type: IouType
    iou_thresholds: tuple[float, ...]
    recall_thresholds: tuple[float, ...]
    max_dets: tuple[int, ...]
    area_ranges: tuple[AreaRange, ...]
    category_ids: tuple[int, ...] | None
    image_ids: tuple[int, ...] | None
    compat: Compat

    @classmethod
    def build(
        cls,
        *,
        iou_type: str = "bbox",
        max_dets: Iterable[int] = (1, 10, 100),
        iou_thresholds: Iterable[float] | None = None,
        area_ranges: Mapping[str, Sequence[float]] | Iterable[AreaRange] | None = None,
        category_ids: Iterable[int] | None = None,
        image_ids: Iterable[int] | None = None,
        compat: str = "pycocotools",
    ) -> COCOParams:
        """Check and normalise the options; ``max_dets`` is sorted as pycocotools sorts it."""
        _check_choice("iou_type", iou_type, get_args(IouType))
        _check_choice("compat", compat, get_args(Compat))
        dets = tuple(sorted(int(m) for m in max_dets))
        if not dets or dets[0] < 0:
            raise EvaluationError(f"max_dets must be non-negative integers, got {dets}")
        thresholds = coco_iou_thresholds() if iou_thresholds is None else iou_thresholds
        ious = tuple(float(t) for t in thresholds)
        if not ious:
            raise EvaluationError("iou_thresholds is empty; give at least one threshold")
        return cls(
            iou_type=iou_type,  # type: ignore[arg-type]  # checked above
            iou_thresholds=ious,
            recall_thresholds=tuple(float(r) for r in coco_recall_thresholds()),
            max_dets=dets,
            area_ranges=_area_ranges(area_ranges),
            category_ids=None if category_ids is None else tuple(int(c) for c in category_ids),
            image_ids=None if image_ids is None else tuple(int(i) for i in image_ids),
            compat=compat,  # type: ignore[arg-type]  # checked above
        )

    @property
    def iou_array(self) -> FloatArray:
        return np.array(self.iou_thresholds, dtype=np.float64)

    @property
    def recall_array(self) -> FloatArray:
        return np.array(self.recall_thresholds, dtype=np.float64)

    @property
    def area_labels(self) -> tuple[str, ...]:
        return tuple(r[0] for r in self.area_ranges)

    @property
    def area_bounds(self) -> FloatArray:
        """``(A, 2) float64`` low and high area of each range."""
        return np.array([[r[1], r[2]] for r in self.area_ranges], dtype=np.float64).reshape(-1, 2)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data; :meth:`from_dict` gives back an equal object."""
        return {
            "iou_type": self.iou_type,
            "iou_thresholds": list(self.iou_thresholds),
            "recall_thresholds": list(self.recall_thresholds),
            "max_dets": list(self.max_dets),
            "area_ranges": [[label, lo, hi] for label, lo, hi in self.area_ranges],
            "category_ids": None if self.category_ids is None else list(self.category_ids),
            "image_ids": None if self.image_ids is None else list(self.image_ids),
            "compat": self.compat,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> COCOParams:
        cats, imgs = data["category_ids"], data["image_ids"]
        return cls(
            iou_type=data["iou_type"],
            iou_thresholds=tuple(float(t) for t in data["iou_thresholds"]),
            recall_thresholds=tuple(float(r) for r in data["recall_thresholds"]),
            max_dets=tuple(int(m) for m in data["max_dets"]),
            area_ranges=tuple((str(a), float(lo), float(hi)) for a, lo, hi in data["area_ranges"]),
            category_ids=None if cats is None else tuple(int(c) for c in cats),
            image_ids=None if imgs is None else tuple(int(i) for i in imgs),
            compat=data["compat"],
        )


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise EvaluationError(f"{name}={value!r} is not supported; use one of {', '.join(allowed)}")


def _area_ranges(
    ranges: Mapping[str, Sequence[float]] | Iterable[AreaRange] | None,
) -> tuple[AreaRange, ...]:
    """Named ranges as ``(label, low, high)``; a mapping keeps its insertion order."""
    if ranges is None:
        return tuple((label, float(lo), float(hi)) for label, lo, hi in COCO_AREA_RANGES)
    items = ranges.items() if isinstance(ranges, Mapping) else ((r[0], r[1:]) for r in ranges)
    out: list[AreaRange] = []
    for label, bounds in items:
        lo, hi = (float(v) for v in bounds)
        if not lo <= hi:
            raise EvaluationError(f"area range {label!r}: low {lo} is above high {hi}")
        out.append((str(label), lo, hi))
    if not out:
        raise EvaluationError("area_ranges is empty; give at least one named range")
    return tuple(out)
