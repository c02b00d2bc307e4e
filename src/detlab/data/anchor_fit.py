"""The numeric engine behind :mod:`detlab.data.anchors` and :mod:`detlab.data.anchor_ratios`.

Which boxes count, IoU and ratio scans over anchors, k-means with the ``1 - IoU`` distance,
YOLOv5-style evolution, 1-D k-means for aspect ratios, and reading numbers from option text.
Everything is seeded by the caller's generator, so results are reproducible.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray, Dataset
from detlab.core.ids import IntArray
from detlab.errors import ConfigError, InvalidInputError

__all__ = [
    "BoxScan",
    "as_wh",
    "dataset_name",
    "evolve_anchors",
    "fit_kmeans",
    "fit_kmeans_1d",
    "measured_boxes",
    "parse_numbers",
    "unique_shapes",
    "wh_iou",
]

_MUTATION_PROB = 0.9
_MUTATION_SIGMA = 0.1
_MUTATION_CLIP = (0.3, 3.0)
_SEPARATORS = re.compile(r"[\s,;\[\]()]+")


# --------------------------------------------------------------------------- inputs


def dataset_name(ds: Dataset) -> str:
    return f"the dataset {ds.source}" if ds.source else "the dataset"


def measured_boxes(ds: Dataset) -> tuple[FloatArray, IntArray]:
    """The measured boxes ``(B, 4)`` xywh and their image positions ``(B,)``.

    Measured: finite, width and height above zero, not a crowd region (a crowd box outlines a
    group, not one object). Raises :class:`InvalidInputError` when there are none.
    """
    anns = ds.annotations
    finite = np.isfinite(anns.boxes).all(axis=1)
    with np.errstate(invalid="ignore"):
        keep: BoolArray = finite & (anns.boxes[:, 2] > 0) & (anns.boxes[:, 3] > 0) & ~anns.iscrowd
    if not keep.any():
        raise InvalidInputError(
            f"{dataset_name(ds)} has no boxes to fit anchors to: {len(anns)} annotation(s), "
            f"{int(anns.iscrowd.sum())} of them crowd regions, the others without a positive "
            "finite width and height"
        )
    return anns.boxes[keep], anns.image_index[keep]


def as_wh(values: npt.ArrayLike, name: str) -> FloatArray:
    """``values`` as a C-contiguous ``(K, 2) float64`` array of positive widths and heights."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name}: cannot read as numbers: {exc}") from exc
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] == 0:
        raise InvalidInputError(f"{name}: expected shape (K, 2) with K >= 1, got {array.shape}")
    if not (np.isfinite(array) & (array > 0)).all():
        raise InvalidInputError(f"{name}: widths and heights must be positive finite numbers")
    return np.ascontiguousarray(array)


def parse_numbers(text: str, what: str) -> FloatArray:
    """Positive numbers separated by commas, semicolons, spaces or brackets."""
    tokens = [t for t in _SEPARATORS.split(text) if t]
    if not tokens:
        raise ConfigError(f"{what} {text!r} hold no numbers")
    values = [_float_or_none(token) for token in tokens]
    for token, value in zip(tokens, values, strict=True):
        if value is None:
            raise ConfigError(
                f"{token!r} in {what} {text!r} is not a number; separate numbers with commas"
            )
    array = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(array) & (array > 0)))
    if bad.size:
        raise ConfigError(
            f"{tokens[int(bad[0])]!r} in {what} {text!r} is not a positive number; "
            "widths, heights and ratios must be above zero"
        )
    return array


def _float_or_none(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


# --------------------------------------------------------------------------- scans


def wh_iou(wh: npt.ArrayLike, anchors: npt.ArrayLike) -> FloatArray:
    """``(B, K)``: IoU of every box with every anchor, both centred at the same point."""
    a, k = as_wh(wh, "boxes"), as_wh(anchors, "anchors")
    inter = np.minimum(a[:, None, 0], k[None, :, 0]) * np.minimum(a[:, None, 1], k[None, :, 1])
    union = (a[:, 0] * a[:, 1])[:, None] + (k[:, 0] * k[:, 1])[None, :] - inter
    iou: FloatArray = inter / union
    return iou


class BoxScan:
    """Boxes ``(w, h)`` measured against anchors one anchor at a time.

    Columns are preallocated and reused, so a million boxes never build a ``(B, K)`` matrix
    and evolution's thousand fitness calls allocate almost nothing.
    """

    def __init__(self, wh: FloatArray) -> None:
        self.w = np.ascontiguousarray(wh[:, 0])
        self.h = np.ascontiguousarray(wh[:, 1])
        self.area = self.w * self.h
        self._a, self._b = np.empty_like(self.w), np.empty_like(self.w)

    @property
    def size(self) -> int:
        return int(self.w.size)

    def iou(self, aw: float, ah: float) -> FloatArray:
        """IoU of every box with anchor ``(aw, ah)``; a view into a reused buffer."""
        inter, union = self._a, self._b
        np.minimum(self.w, aw, out=inter)
        np.minimum(self.h, ah, out=union)
        inter *= union
        np.add(self.area, aw * ah, out=union)
        union -= inter
        np.divide(inter, union, out=inter)
        return inter

    def ratio(self, aw: float, ah: float) -> FloatArray:
        """YOLOv5's ratio metric ``min(w/aw, aw/w, h/ah, ah/h)``; a view into a reused buffer."""
        x, tmp = self._a, self._b
        np.divide(self.w, aw, out=x)
        np.divide(aw, self.w, out=tmp)
        np.minimum(x, tmp, out=x)
        np.divide(self.h, ah, out=tmp)
        np.minimum(x, tmp, out=x)
        np.divide(ah, self.h, out=tmp)
        np.minimum(x, tmp, out=x)
        return x

    def best(self, anchors: FloatArray, kind: str) -> FloatArray:
        """Per box, the best IoU (``kind="iou"``) or best ratio metric over ``anchors``."""
        measure = self.iou if kind == "iou" else self.ratio
        best = np.zeros_like(self.w)
        for aw, ah in anchors.tolist():
            np.maximum(best, measure(aw, ah), out=best)
        return best

    def best_iou(self, anchors: FloatArray) -> tuple[FloatArray, IntArray]:
        """Per box, the best IoU and the position of its anchor (the first one on ties)."""
        best, label = np.zeros_like(self.w), np.zeros(self.w.shape, dtype=np.int64)
        for j, (aw, ah) in enumerate(anchors.tolist()):
            iou = self.iou(aw, ah)
            better = iou > best
            best[better] = iou[better]
            label[better] = j
        return best, label

    def ratio_figures(self, anchors: FloatArray, threshold: float) -> tuple[FloatArray, IntArray]:
        """Per box, the best ratio metric and how many anchors have it above ``threshold``."""
        best, above = np.zeros_like(self.w), np.zeros(self.w.shape, dtype=np.int64)
        for aw, ah in anchors.tolist():
            x = self.ratio(aw, ah)
            np.maximum(best, x, out=best)
            above += x > threshold
        return best, above


# --------------------------------------------------------------------------- k-means


def unique_shapes(wh: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The distinct ``(w, h)`` rows (sorted) and how many times each occurs, as float weights.

    Viewing each row as one complex number makes this a 1-D ``np.unique``, several times
    faster than ``np.unique(axis=0)`` on a million rows.
    """
    as_complex = np.ascontiguousarray(wh, dtype=np.float64).view(np.complex128).ravel()
    values, counts = np.unique(as_complex, return_counts=True)
    shapes: FloatArray = np.ascontiguousarray(values).view(np.float64).reshape(-1, 2)
    return shapes, counts.astype(np.float64)


def fit_kmeans(
    scan: BoxScan,
    weights: FloatArray,
    n: int,
    rng: np.random.Generator,
    *,
    restarts: int,
    max_iter: int,
) -> FloatArray:
    """``(n, 2)`` centres: the best of ``restarts`` weighted k-means runs by mean best IoU.

    ``scan`` holds distinct shapes (at least ``n``); ``weights`` how many boxes each stands for.
    """
    best_centres, best_score = np.zeros((n, 2)), -1.0
    for _ in range(restarts):
        centres = _lloyd(scan, weights, _seed_centres(scan, weights, n, rng), max_iter)
        score = float(np.average(scan.best(centres, "iou"), weights=weights))
        if score > best_score:
            best_centres, best_score = centres, score
    return best_centres


def _seed_centres(
    scan: BoxScan, weights: FloatArray, n: int, rng: np.random.Generator
) -> FloatArray:
    """k-means++: each next centre drawn with probability ``weight * (1 - best IoU)^2``."""
    chosen = [_draw(weights, rng)]
    best = scan.iou(scan.w[chosen[0]], scan.h[chosen[0]]).copy()
    for _ in range(1, n):
        score = weights * (1.0 - best) ** 2
        if score.sum() > 0:
            pick = _draw(score, rng)
        else:  # shapes so alike that their IoU rounds to 1: take any shape not chosen yet
            pick = int(np.setdiff1d(np.arange(scan.size), chosen)[0])
        chosen.append(pick)
        np.maximum(best, scan.iou(scan.w[pick], scan.h[pick]), out=best)
    return np.stack([scan.w[chosen], scan.h[chosen]], axis=1)


def _draw(weights: FloatArray, rng: np.random.Generator) -> int:
    cumulative = np.cumsum(weights)
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(index, weights.size - 1)


def _lloyd(scan: BoxScan, weights: FloatArray, centres: FloatArray, max_iter: int) -> FloatArray:
    labels = np.full(scan.size, -1, dtype=np.int64)
    for _ in range(max_iter):
        best, new_labels = scan.best_iou(centres)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        centres = _cluster_means(scan, weights, labels, centres, best)
    return centres


def _cluster_means(
    scan: BoxScan, weights: FloatArray, labels: IntArray, centres: FloatArray, best: FloatArray
) -> FloatArray:
    """Box-weighted mean width and height per cluster; an empty one takes the worst-fit shape."""
    n = centres.shape[0]
    total = np.bincount(labels, weights=weights, minlength=n)
    out: FloatArray = centres.copy()
    filled = total > 0
    for column, values in enumerate((scan.w, scan.h)):
        sums = np.bincount(labels, weights=weights * values, minlength=n)
        out[filled, column] = sums[filled] / total[filled]
    empty = np.flatnonzero(~filled)
    if empty.size:
        worst = np.argsort(best, kind="stable")[: empty.size]
        out[empty, 0], out[empty, 1] = scan.w[worst], scan.h[worst]
    return out


# --------------------------------------------------------------------------- evolution


def evolve_anchors(
    anchors: FloatArray,
    fitness: Callable[[FloatArray], float],
    generations: int,
    rng: np.random.Generator,
    *,
    min_size: float,
) -> tuple[FloatArray, float]:
    """YOLOv5-style mutation: keep a mutant only if its fitness is strictly higher.

    Each generation multiplies every coordinate, with probability 0.9, by
    ``1 + r * N(0, 1) * 0.1`` (``r`` uniform in [0, 1) per generation, the factor clipped to
    [0.3, 3]) and keeps the anchors at least ``min_size``.
    """
    best = fitness(anchors)
    for _ in range(generations):
        mutant = np.maximum(anchors * _mutation(rng, anchors.shape), min_size)
        score = fitness(mutant)
        if score > best:
            anchors, best = mutant, score
    return anchors, best


def _mutation(rng: np.random.Generator, shape: tuple[int, ...]) -> FloatArray:
    while True:
        mutate = rng.random(shape) < _MUTATION_PROB
        step = rng.random() * rng.standard_normal(shape) * _MUTATION_SIGMA
        factor: FloatArray = np.clip(1.0 + mutate * step, *_MUTATION_CLIP)
        if (factor != 1.0).any():
            return factor


# --------------------------------------------------------------------------- 1-D k-means


def fit_kmeans_1d(
    values: FloatArray, weights: FloatArray, k: int, *, max_iter: int = 100
) -> FloatArray:
    """``(k,)`` sorted centres of weighted 1-D k-means on distinct sorted ``values``.

    Deterministic: the centres start at the ``(i + 0.5) / k`` quantiles of the *distinct*
    values (spread over the whole range, rare extremes included) and move to the weighted
    means of their intervals; an empty interval takes the value farthest from its centre.
    """
    centres = np.quantile(values, (np.arange(k) + 0.5) / k)
    for _ in range(max_iter):
        labels = np.searchsorted((centres[1:] + centres[:-1]) / 2, values)
        total = np.bincount(labels, weights=weights, minlength=k)
        sums = np.bincount(labels, weights=weights * values, minlength=k)
        new = centres.copy()
        filled = total > 0
        new[filled] = sums[filled] / total[filled]
        empty = np.flatnonzero(~filled)
        if empty.size:
            far = np.argsort(-np.abs(values - new[labels]), kind="stable")[: empty.size]
            new[empty] = values[far]
        new = np.sort(new)
        if np.array_equal(new, centres):
            break
        centres = new
    return centres
