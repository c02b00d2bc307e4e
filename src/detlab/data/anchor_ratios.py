"""``anchor_ratios`` for two-stage detectors, suggested from a dataset's box shapes.

Ratios are **height / width**, as two-stage frameworks read them: mmdetection's
``AnchorGenerator(ratios=...)`` makes ``h = size * sqrt(ratio)`` and ``w = size / sqrt(ratio)``;
torchvision's ``aspect_ratios`` and detectron2's ``ASPECT_RATIOS`` do the same. A ratio of 2.0
is a tall anchor, 0.5 a wide one. (YOLO anchors are ``(w, h)`` pairs instead.) Ratios are taken
in the boxes' own pixels: resizing that keeps an image's aspect ratio (``keep_ratio=True`` in
mmdetection's configs, YOLO's letterbox) keeps every box's. Boxes are the measured ones (finite,
positive width and height, not crowd).

**Judging ratios** (:func:`ratio_fitness`). A box whose aspect ratio differs from an anchor's
by a factor ``q >= 1`` reaches at most IoU ``1 / (2 * sqrt(q) - 1)`` with it, at the best scale
and the same centre (a box of ratio 4 against a square anchor: 1/3). Anchor scales come in
steps, so real IoUs are lower; the figure isolates what the ratios cost. ``mean_best_iou`` is
its mean over boxes for the nearest ratio, ``coverage`` the share of boxes for which it is at
least ``iou_threshold`` (0.7, mmdetection's RPN positive threshold: ``q <= 1.47``).

**Suggesting ratios** (:func:`suggest_anchor_ratios`) maximises coverage first and
``mean_best_iou`` second: mAP averages over classes, so the few boxes of a rare tall or wide
class matter more than their count. It starts from 1-D k-means on ``log(h / w)`` weighted by
box count (deterministic; alone, it spends every ratio on the crowded middle), then moves one
ratio at a time to its best position on a grid 1 % apart (or at one of the boxes' own ratios)
until none moves, and rounds the ratios to two significant digits (equal ones merged).

>>> ratio_fitness([1.0, 4.0], [1.0]).mean_best_iou  # (1 + 1/3) / 2
0.6666666666666666
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from detlab.core.boxes import FloatArray
from detlab.core.dataset import Dataset
from detlab.data.anchor_fit import dataset_name, fit_kmeans_1d, measured_boxes, parse_numbers
from detlab.errors import ConfigError, InvalidInputError

__all__ = [
    "ASPECT_QUANTILES",
    "DEFAULT_ANCHOR_RATIOS",
    "RatioFit",
    "RatioSuggestion",
    "parse_anchor_ratios",
    "ratio_fitness",
    "shape_iou_bound",
    "suggest_anchor_ratios",
]

#: mmdetection's, torchvision's and detectron2's default ratios (height / width).
DEFAULT_ANCHOR_RATIOS = (0.5, 1.0, 2.0)
#: The quantiles of height / width a :class:`RatioSuggestion` reports.
ASPECT_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)

_GRID_STEP = 0.01  # candidate ratios 1 % apart (in log space)
_MAX_POINTS = 2000  # more distinct aspect ratios than this are binned ...
_BIN_WIDTH = 0.002  # ... into bins 0.2 % wide
_BLOCK = 256  # candidates scored at once
_MAX_SWEEPS = 50


@dataclass(frozen=True)
class RatioFit:
    """How well ``ratios`` (height / width) suit the shapes of ``num_boxes`` boxes (module doc)."""

    ratios: tuple[float, ...]
    num_boxes: int
    iou_threshold: float
    mean_best_iou: float
    coverage: float

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratios": list(self.ratios)}


@dataclass(frozen=True)
class RatioSuggestion:
    """Suggested ``anchor_ratios`` (height / width, ascending), judged with ``current``.

    ``aspect_quantiles`` pairs each of :data:`ASPECT_QUANTILES` with that quantile of the
    boxes' height / width (linear interpolation).
    """

    ratios: tuple[float, ...]
    num_boxes: int
    aspect_quantiles: tuple[tuple[float, float], ...]
    suggested: RatioFit
    current: RatioFit | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ratios": list(self.ratios),
            "num_boxes": self.num_boxes,
            "aspect_quantiles": {f"{q:g}": v for q, v in self.aspect_quantiles},
            "suggested": self.suggested.to_dict(),
            "current": None if self.current is None else self.current.to_dict(),
        }


def parse_anchor_ratios(text: str) -> tuple[float, ...]:
    """Ratios from ``"0.5, 1.0, 2.0"`` or ``"[0.2, 0.5, 1.0, 2.0, 5.0]"``, in the order given."""
    return tuple(float(v) for v in parse_numbers(text, "anchor ratios"))


def shape_iou_bound(aspect: npt.ArrayLike, ratio: npt.ArrayLike) -> FloatArray:
    """The best IoU a box of height / width ``aspect`` can reach with an anchor of ``ratio``.

    Both centred, the anchor at its best scale: ``1 / (2 * sqrt(q) - 1)`` for the mismatch
    ``q = max(aspect / ratio, ratio / aspect)``. Broadcasts like NumPy.

    >>> shape_iou_bound([1.0, 4.0, 0.25], 1.0).tolist()
    [1.0, 0.3333333333333333, 0.3333333333333333]
    """
    gap = np.abs(np.log(np.asarray(aspect, dtype=np.float64)) - np.log(ratio))
    return _bound(gap)


def _bound(log_gap: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (2.0 * np.exp(log_gap / 2.0) - 1.0)
    return out


def ratio_fitness(
    aspect: npt.ArrayLike, ratios: Sequence[float], *, iou_threshold: float = 0.7
) -> RatioFit:
    """Judge ``ratios`` against boxes of height / width ``aspect`` ``(B,)`` (module doc).

    >>> fit = ratio_fitness([0.5, 1.0, 3.0], [0.5, 1.0, 2.0])
    >>> fit.coverage, round(fit.mean_best_iou, 4)
    (0.6666666666666666, 0.8966)
    """
    values = np.asarray(aspect, dtype=np.float64).reshape(-1)
    if values.size == 0 or not (np.isfinite(values) & (values > 0)).all():
        raise InvalidInputError("aspect ratios must be positive finite numbers, at least one")
    chosen = _check_ratios(ratios)
    _check_iou(iou_threshold)
    best = _best_bound(np.log(values), np.log(np.asarray(chosen)))
    return RatioFit(
        ratios=chosen,
        num_boxes=int(values.size),
        iou_threshold=float(iou_threshold),
        mean_best_iou=float(best.mean()),
        coverage=float(np.mean(best >= iou_threshold)),
    )


def suggest_anchor_ratios(
    ds: Dataset,
    k: int = 3,
    *,
    iou_threshold: float = 0.7,
    current: Sequence[float] | None = DEFAULT_ANCHOR_RATIOS,
) -> RatioSuggestion:
    """``k`` ratios (height / width) for ``ds``'s boxes, judged together with ``current``.

    >>> from detlab.data.synthetic import make_sequential_dataset
    >>> suggest_anchor_ratios(make_sequential_dataset(), 3).ratios
    (0.52, 0.95, 2.9)
    """
    if k < 1:
        raise ConfigError(f"number of ratios {k} must be at least 1 (mmdetection uses 3)")
    _check_iou(iou_threshold)
    boxes, _ = measured_boxes(ds)
    aspect = boxes[:, 3] / boxes[:, 2]
    logs, counts = np.unique(np.log(aspect), return_counts=True)
    if k > logs.size:
        raise ConfigError(
            f"cannot suggest {k} ratios from {logs.size} distinct box aspect ratios in "
            f"{dataset_name(ds)}; ask for {logs.size} or fewer"
        )
    weights = counts.astype(np.float64)
    centres = fit_kmeans_1d(logs, weights, k)
    centres = _improve(*_points(logs, weights), centres, iou_threshold)
    ratios = tuple(sorted({_round_sig(math.exp(c)) for c in centres.tolist()}))
    quantiles = np.quantile(aspect, ASPECT_QUANTILES)
    return RatioSuggestion(
        ratios=ratios,
        num_boxes=int(aspect.size),
        aspect_quantiles=tuple(zip(ASPECT_QUANTILES, quantiles.tolist(), strict=True)),
        suggested=ratio_fitness(aspect, ratios, iou_threshold=iou_threshold),
        current=(
            None if current is None else ratio_fitness(aspect, current, iou_threshold=iou_threshold)
        ),
    )


def _best_bound(log_aspect: FloatArray, log_ratios: FloatArray) -> FloatArray:
    """Per box, the shape IoU bound with its nearest ratio."""
    gap = np.full_like(log_aspect, np.inf)
    for r in log_ratios.tolist():
        np.minimum(gap, np.abs(log_aspect - r), out=gap)
    return _bound(gap)


def _points(logs: FloatArray, weights: FloatArray) -> tuple[FloatArray, FloatArray, bool]:
    """The distinct log ratios, or when there are many, the weighted means of fine bins.

    The flag says whether the points are the distinct values themselves.
    """
    if logs.size <= _MAX_POINTS:
        return logs, weights, True
    bins = np.floor((logs - logs[0]) / _BIN_WIDTH).astype(np.int64)
    total = np.bincount(bins, weights=weights)
    sums = np.bincount(bins, weights=weights * logs)
    used = total > 0
    points: FloatArray = sums[used] / total[used]
    counts: FloatArray = total[used].astype(np.float64)
    return points, counts, False


def _improve(
    x: FloatArray, w: FloatArray, exact: bool, centres: FloatArray, threshold: float
) -> FloatArray:
    """Coordinate ascent: move one centre at a time to where (coverage, mean bound) is highest."""
    grid = np.arange(x[0], x[-1] + _GRID_STEP / 2, _GRID_STEP)
    candidates = np.union1d(grid, x) if exact else grid
    centres = centres.copy()
    per = _bound(np.abs(centres[:, None] - x[None, :]))
    tolerance = 1e-12 * float(w.sum())
    for _ in range(_MAX_SWEEPS):
        moved = False
        for i in range(centres.size):
            others = np.delete(per, i, axis=0).max(axis=0, initial=0.0)
            now = _scores(np.maximum(others, per[i])[None, :], w, threshold)
            place, cover, fit = _best_place(x, w, others, candidates, threshold)
            if cover > now[0][0] + tolerance or (
                cover > now[0][0] - tolerance and fit > now[1][0] + tolerance
            ):
                centres[i], per[i], moved = place, _bound(np.abs(x - place)), True
        if not moved:
            break
    return np.sort(centres)


def _scores(bound: FloatArray, w: FloatArray, threshold: float) -> tuple[FloatArray, FloatArray]:
    """Per row of ``bound`` ``(C, P)``: the covered weight and the weighted sum of the bound."""
    return (bound >= threshold).astype(np.float64) @ w, bound @ w


def _best_place(
    x: FloatArray, w: FloatArray, others: FloatArray, candidates: FloatArray, threshold: float
) -> tuple[float, float, float]:
    """The candidate with the highest (covered weight, bound sum), with those two sums."""
    best = (float(candidates[0]), -1.0, -1.0)
    for start in range(0, candidates.size, _BLOCK):
        block = candidates[start : start + _BLOCK]
        bound = np.maximum(_bound(np.abs(block[:, None] - x[None, :])), others[None, :])
        cover, fit = _scores(bound, w, threshold)
        j = int(np.lexsort((-fit, -cover))[0])
        if (cover[j], fit[j]) > best[1:]:
            best = (float(block[j]), float(cover[j]), float(fit[j]))
    return best


def _check_ratios(ratios: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(r) for r in ratios)
    if not values or not all(math.isfinite(r) and r > 0 for r in values):
        raise ConfigError(f"anchor ratios {list(values)} must be positive numbers, at least one")
    return values


def _check_iou(iou_threshold: float) -> None:
    if not 0 < iou_threshold <= 1:
        raise ConfigError(
            f"IoU threshold {iou_threshold!r} must be in (0, 1], e.g. 0.7 (mmdetection's RPN)"
        )


def _round_sig(value: float) -> float:
    """Two significant digits: 0.4731 -> 0.47, 2.857 -> 2.9, 1.0 -> 1.0."""
    return float(f"{value:.2g}")
