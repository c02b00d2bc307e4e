"""What :func:`detlab.data.stats.dataset_stats` returns: frozen dataclasses, plain JSON out.

Every distribution is a :class:`Quantiles`; a figure with nothing to describe (a class without
boxes, a dataset without images) is ``None``, never NaN, so ``to_dict()`` is strict JSON.
The definitions are in ``docs/analysis-stats.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BoxIssues",
    "ClassStats",
    "DatasetStats",
    "ImageSize",
    "IssueCount",
    "Quantiles",
    "SizeShares",
]


@dataclass(frozen=True)
class Quantiles:
    """A distribution in six numbers; quantiles by linear interpolation (NumPy's default)."""

    min: float
    q1: float
    median: float
    q3: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: npt.ArrayLike) -> Quantiles | None:
        """The quantiles of ``values``, or ``None`` when there are none."""
        array = np.asarray(values, dtype=np.float64).reshape(-1)
        if array.size == 0:
            return None
        lo, q1, median, q3, hi = (float(v) for v in np.quantile(array, (0, 0.25, 0.5, 0.75, 1)))
        return cls(min=lo, q1=q1, median=median, q3=q3, max=hi, mean=float(array.mean()))


@dataclass(frozen=True)
class SizeShares:
    """Shares (0..1) of measured boxes with area < 32², in [32², 96²) and >= 96²."""

    small: float | None
    medium: float | None
    large: float | None


@dataclass(frozen=True)
class ClassStats:
    """One category. ``count``, ``share`` and ``images`` cover all its boxes, crowd included;
    the area, aspect-ratio and relative-size figures cover its ``measured`` boxes only."""

    id: int
    name: str
    count: int
    share: float | None
    images: int
    crowd: int
    measured: int
    area_median: float | None
    area_q1: float | None
    area_q3: float | None
    aspect_ratio_median: float | None
    aspect_ratio_q1: float | None
    aspect_ratio_q3: float | None
    relative_size_median: float | None
    size_shares: SizeShares
    coco_size_shares: SizeShares


@dataclass(frozen=True)
class ImageSize:
    width: int
    height: int
    count: int


@dataclass(frozen=True)
class IssueCount:
    """How many boxes have one problem, and the annotation ids of the first few."""

    count: int
    examples: tuple[int, ...]


@dataclass(frozen=True)
class BoxIssues:
    """Boxes that are probably mistakes; a box may have more than one problem.

    ``duplicates`` counts every box that repeats an earlier one exactly (same image, category
    and coordinates): a pair is one duplicate, three equal boxes are two.
    """

    zero_size: IssueCount
    negative_size: IssueCount
    non_finite: IssueCount
    outside_image: IssueCount
    duplicates: IssueCount
    unknown_category: IssueCount

    @property
    def degenerate(self) -> int:
        """Boxes of zero or negative width or height."""
        return self.zero_size.count + self.negative_size.count


@dataclass(frozen=True)
class DatasetStats:
    """Everything :func:`dataset_stats` measures; ``to_dict()`` is plain JSON."""

    num_images: int
    num_boxes: int
    num_categories: int
    measured_boxes: int
    empty_images: int
    crowd: int
    difficult: int
    ignored: int
    truncated: int
    boxes_per_image: Quantiles | None
    area: Quantiles | None
    aspect_ratio: Quantiles | None
    relative_size: Quantiles | None
    relative_width: Quantiles | None
    relative_height: Quantiles | None
    size_shares: SizeShares
    coco_size_shares: SizeShares
    image_width: Quantiles | None
    image_height: Quantiles | None
    distinct_image_sizes: int
    image_sizes: tuple[ImageSize, ...]
    issues: BoxIssues
    per_class: tuple[ClassStats, ...]

    def to_dict(self) -> dict[str, Any]:
        """The statistics as JSON-ready dicts and lists (``issues`` gains ``degenerate``)."""
        out: dict[str, Any] = _plain(self)
        out["issues"]["degenerate"] = self.issues.degenerate
        return out


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
