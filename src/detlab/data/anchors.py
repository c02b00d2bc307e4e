"""Anchors fitted to a dataset: YOLO anchor boxes, and ``anchor_ratios`` for two-stage detectors.

YOLO anchors (:func:`compute_anchors`) are fitted to box widths and heights at training scale:
each image is scaled, keeping its aspect ratio, until its longer side is ``img_size`` (YOLO's
letterbox), and its boxes with it. Boxes are the *measured* ones: finite, width and height
above zero, not crowd regions.

1. k-means with the distance ``1 - IoU`` (YOLOv2's dimension clusters), box and anchor compared
   as if they shared a centre: k-means++ seeding, Lloyd steps whose centres are the
   box-weighted mean width and height of their cluster, the best of ``restarts`` seeded runs
   by mean best IoU.
2. Optionally ``evolve`` generations of YOLOv5-style mutation
   (:func:`detlab.data.anchor_fit.evolve_anchors`): each coordinate is multiplied, with
   probability 0.9, by ``1 + r * N(0, 1) * 0.1`` (``r`` uniform per generation, the factor
   clipped to [0.3, 3]), anchors kept at least ``min_size``; a mutant replaces the anchors
   only if its fitness is strictly higher.
   Fitness (:data:`FITNESSES`) is the mean over boxes of the best IoU (``iou``, the default)
   or of the best ratio metric (``ratio``, YOLOv5's), a box below its threshold counting 0.
3. Anchors are rounded to whole pixels (as YOLO configs write them) and sorted by area.

Fitting uses the boxes with a side of at least ``min_size`` px (YOLOv5 leaves out smaller
labels), as distinct ``(w, h)`` pairs weighted by their counts, which is exact; with more than
``max_samples`` distinct pairs, the distinct pairs of ``max_samples`` boxes drawn at random
(seeded) instead. The figures always cover every measured box, for the rounded anchors.

Figures (:func:`anchor_fitness`, :class:`AnchorMetrics`) follow two criteria:

- **ratio** (YOLOv5 autoanchor and its training assignment): for box ``(w, h)`` and anchor
  ``(aw, ah)``, ``x = min(w/aw, aw/w, h/ah, ah/h)``. A box is recallable when its best anchor
  has ``x > 1 / ratio_threshold`` (``ratio_threshold`` is YOLOv5's ``anchor_t``, 4.0): ``bpr``
  is the share of recallable boxes, ``anchors_above_threshold`` the mean number of anchors per
  box with ``x > 1 / ratio_threshold``, ``mean_best_ratio`` the mean best ``x``.
- **IoU** (darknet; the k-means distance): the IoU of box and anchor sharing a centre;
  ``iou_recall`` is the share of boxes whose best IoU is ``>= iou_threshold``,
  ``mean_best_iou`` the mean best IoU.

Two-stage ``anchor_ratios`` (height / width) live in :mod:`detlab.data.anchor_ratios` and are
re-exported here. ``docs/analysis-anchors.md`` explains how to read the figures.

>>> from detlab.data.synthetic import make_sequential_dataset
>>> ds = make_sequential_dataset(num_sequences=2, frames_per_sequence=5)
>>> result = compute_anchors(ds, n=3, img_size=320, evolve=0)
>>> result.anchors.shape, result.metrics.num_boxes == int(result.counts.sum())
((3, 2), True)
>>> parse_anchors("10,13, 16,30").tolist()
[[10.0, 13.0], [16.0, 30.0]]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt

from detlab.core.boxes import FloatArray
from detlab.core.dataset import Dataset
from detlab.core.ids import IntArray
from detlab.data.anchor_fit import (
    BoxScan,
    as_wh,
    dataset_name,
    evolve_anchors,
    fit_kmeans,
    measured_boxes,
    parse_numbers,
    unique_shapes,
    wh_iou,
)
from detlab.data.anchor_ratios import (
    ASPECT_QUANTILES,
    DEFAULT_ANCHOR_RATIOS,
    RatioFit,
    RatioSuggestion,
    parse_anchor_ratios,
    ratio_fitness,
    shape_iou_bound,
    suggest_anchor_ratios,
)
from detlab.errors import ConfigError, InvalidInputError

__all__ = [
    "ASPECT_QUANTILES",
    "DEFAULT_ANCHOR_RATIOS",
    "FITNESSES",
    "AnchorMetrics",
    "AnchorResult",
    "Fitness",
    "RatioFit",
    "RatioSuggestion",
    "anchor_fitness",
    "assign_boxes",
    "compute_anchors",
    "format_anchor_levels",
    "format_anchors",
    "parse_anchor_ratios",
    "parse_anchors",
    "ratio_fitness",
    "scale_box_sizes",
    "shape_iou_bound",
    "suggest_anchor_ratios",
    "wh_iou",
]

Fitness = Literal["iou", "ratio"]
#: What evolution maximises (module doc).
FITNESSES: tuple[Fitness, ...] = get_args(Fitness)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AnchorMetrics:
    """How well ``num_anchors`` anchors fit ``num_boxes`` boxes, under both criteria."""

    num_anchors: int
    num_boxes: int
    ratio_threshold: float
    bpr: float
    anchors_above_threshold: float
    mean_best_ratio: float
    iou_threshold: float
    iou_recall: float
    mean_best_iou: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class AnchorResult:
    """Anchors fitted by :func:`compute_anchors`, their figures and those of ``current``.

    ``anchors`` is ``(n, 2) float64`` ``(w, h)`` in px at ``img_size``: whole numbers, sorted
    by area; ``unrounded`` the same anchors before rounding. Per anchor, ``counts`` boxes have
    it as their best-IoU anchor (ties go to the smaller anchor), with mean IoU ``mean_iou``
    (NaN when none). Of the ``metrics.num_boxes`` measured boxes, ``num_fitted`` were big
    enough to fit to (``num_small`` were not), with ``num_distinct`` distinct shapes;
    k-means saw ``sample_size`` of them. ``fitness_kmeans`` and ``fitness`` are the fitness
    on those boxes before and after evolution (unrounded anchors).
    """

    anchors: FloatArray
    unrounded: FloatArray
    counts: IntArray
    mean_iou: FloatArray
    metrics: AnchorMetrics
    current_anchors: FloatArray | None
    current: AnchorMetrics | None
    img_size: int
    num_fitted: int
    num_small: int
    num_distinct: int
    sample_size: int
    seed: int
    evolve: int
    fitness_name: Fitness
    fitness_kmeans: float
    fitness: float

    @property
    def sampled(self) -> bool:
        """Whether k-means saw a random sample of the boxes rather than all of them."""
        return self.sample_size < self.num_fitted

    def to_dict(self) -> dict[str, Any]:
        current = self.current_anchors
        return {
            "anchors": _plain_pairs(self.anchors),
            "anchors_text": format_anchors(self.anchors),
            "unrounded": self.unrounded.tolist(),
            "counts": self.counts.tolist(),
            "mean_iou": [None if math.isnan(v) else v for v in self.mean_iou.tolist()],
            "metrics": self.metrics.to_dict(),
            "current_anchors": None if current is None else _plain_pairs(current),
            "current": None if self.current is None else self.current.to_dict(),
            "img_size": self.img_size,
            "num_fitted": self.num_fitted,
            "num_small": self.num_small,
            "num_distinct": self.num_distinct,
            "sample_size": self.sample_size,
            "sampled": self.sampled,
            "seed": self.seed,
            "evolve": self.evolve,
            "fitness_name": self.fitness_name,
            "fitness_kmeans": self.fitness_kmeans,
            "fitness": self.fitness,
        }


def _plain_pairs(anchors: FloatArray) -> list[list[int | float]]:
    return [[int(v) if v.is_integer() else v for v in pair] for pair in anchors.tolist()]


# --------------------------------------------------------------------------- text


def parse_anchors(text: str) -> FloatArray:
    """``(K, 2)`` anchors from ``"10,13, 16,30, ..."``, in the order given.

    Commas, semicolons, spaces and brackets all separate numbers, so darknet's ``anchors =``
    line and YOLOv5's ``[[10,13, 16,30, 33,23], ...]`` both read.
    """
    values = parse_numbers(text, "anchors")
    if values.size % 2:
        raise ConfigError(
            f"anchors {text!r} hold {values.size} numbers; anchors are width,height pairs, "
            "so give an even count, e.g. '10,13, 16,30, 33,23'"
        )
    return values.reshape(-1, 2)


def format_anchors(anchors: npt.ArrayLike) -> str:
    """``"10,13,  16,30, ..."``: darknet's ``anchors =`` line, which :func:`parse_anchors` reads."""
    return ",  ".join(f"{_num(w)},{_num(h)}" for w, h in as_wh(anchors, "anchors").tolist())


def format_anchor_levels(anchors: npt.ArrayLike, *, per_level: int = 3) -> tuple[str, ...]:
    """YOLOv5 ``anchors:`` items, ``per_level`` anchors a level, from P3 (stride 8) up.

    >>> format_anchor_levels([[10, 13], [16, 30], [33, 23]])
    ('- [10,13, 16,30, 33,23]  # P3/8',)
    """
    wh = as_wh(anchors, "anchors")
    if per_level < 1 or wh.shape[0] % per_level:
        raise ConfigError(f"{wh.shape[0]} anchors do not split into levels of {per_level}")
    lines = []
    for level in range(wh.shape[0] // per_level):
        chunk = wh[level * per_level : (level + 1) * per_level].tolist()
        pairs = ", ".join(f"{_num(w)},{_num(h)}" for w, h in chunk)
        lines.append(f"- [{pairs}]  # P{level + 3}/{2 ** (level + 3)}")
    return tuple(lines)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --------------------------------------------------------------------------- figures


def scale_box_sizes(ds: Dataset, img_size: int) -> FloatArray:
    """``(B, 2)``: width and height of the measured boxes, each image's longer side ``img_size``."""
    _check_img_size(img_size)
    boxes, image_index = measured_boxes(ds)
    widths = ds.images.widths[image_index].astype(np.float64)
    heights = ds.images.heights[image_index].astype(np.float64)
    unsized = np.flatnonzero(~(np.minimum(widths, heights) > 0))
    if unsized.size:
        at = int(unsized[0])
        image = int(image_index[at])
        raise InvalidInputError(
            f"{dataset_name(ds)}: image id {int(ds.images.ids[image])} "
            f"({ds.images.file_names[image]}) has size {int(widths[at])}x{int(heights[at])} "
            "but holds boxes; anchors need every image's width and height to scale its boxes "
            "to the training size: fix the image sizes"
        )
    wh: FloatArray = boxes[:, 2:4] * (img_size / np.maximum(widths, heights))[:, None]
    return wh


def anchor_fitness(
    wh: npt.ArrayLike,
    anchors: npt.ArrayLike,
    *,
    ratio_threshold: float = 4.0,
    iou_threshold: float = 0.5,
) -> AnchorMetrics:
    """Both criteria's figures for boxes ``wh`` ``(B, 2)`` and ``anchors`` ``(K, 2)``, in px.

    >>> m = anchor_fitness([[10, 20], [40, 40]], [[10, 20], [20, 20]])
    >>> m.bpr, m.iou_recall, m.mean_best_iou
    (1.0, 0.5, 0.625)
    """
    _check_thresholds(ratio_threshold, iou_threshold)
    scan = BoxScan(as_wh(wh, "boxes"))
    return _metrics(scan, as_wh(anchors, "anchors"), ratio_threshold, iou_threshold)[0]


def assign_boxes(wh: npt.ArrayLike, anchors: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
    """Per box, the position of its best-IoU anchor (the first one on ties) and that IoU."""
    best, label = BoxScan(as_wh(wh, "boxes")).best_iou(as_wh(anchors, "anchors"))
    return label, best


def _metrics(
    scan: BoxScan, anchors: FloatArray, ratio_threshold: float, iou_threshold: float
) -> tuple[AnchorMetrics, FloatArray, IntArray]:
    best_iou, label = scan.best_iou(anchors)
    best_x, above = scan.ratio_figures(anchors, 1.0 / ratio_threshold)
    metrics = AnchorMetrics(
        num_anchors=int(anchors.shape[0]),
        num_boxes=scan.size,
        ratio_threshold=float(ratio_threshold),
        bpr=float(np.mean(best_x > 1.0 / ratio_threshold)),
        anchors_above_threshold=float(np.mean(above)),
        mean_best_ratio=float(np.mean(best_x)),
        iou_threshold=float(iou_threshold),
        iou_recall=float(np.mean(best_iou >= iou_threshold)),
        mean_best_iou=float(np.mean(best_iou)),
    )
    return metrics, best_iou, label


def _check_thresholds(ratio_threshold: float, iou_threshold: float) -> None:
    if not (math.isfinite(ratio_threshold) and ratio_threshold > 1):
        raise ConfigError(
            f"ratio threshold {ratio_threshold!r} must be a finite number above 1 "
            "(YOLOv5's anchor_t, 4.0 by default)"
        )
    if not 0 < iou_threshold <= 1:
        raise ConfigError(f"IoU threshold {iou_threshold!r} must be in (0, 1], e.g. 0.5")


def _check_img_size(img_size: int) -> None:
    if not img_size > 0:
        raise ConfigError(
            f"image size {img_size} must be above zero: the training size in px of an "
            "image's longer side, e.g. 640"
        )


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class _Options:
    n: int
    img_size: int
    seed: int
    evolve: int
    fitness: Fitness
    ratio_threshold: float
    iou_threshold: float
    min_size: float
    max_samples: int
    restarts: int
    max_iter: int

    def check(self) -> None:
        if self.n < 1:
            raise ConfigError(f"number of anchors {self.n} must be at least 1 (YOLO uses 9)")
        _check_img_size(self.img_size)
        _check_thresholds(self.ratio_threshold, self.iou_threshold)
        if self.evolve < 0:
            raise ConfigError(f"evolve {self.evolve} must be a number of generations, 0 for none")
        if self.fitness not in FITNESSES:
            known = ", ".join(FITNESSES)
            raise ConfigError(f"unknown fitness {self.fitness!r}; use one of {known}")
        if not (math.isfinite(self.min_size) and self.min_size >= 0):
            raise ConfigError(f"min_size {self.min_size!r} must be a finite number of px >= 0")
        for name in ("max_samples", "restarts", "max_iter"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} {getattr(self, name)} must be at least 1")


@dataclass(frozen=True)
class _Fitted:
    raw: FloatArray
    num_fitted: int
    num_distinct: int
    sample_size: int
    fitness_kmeans: float
    fitness: float


def compute_anchors(
    ds: Dataset,
    n: int = 9,
    img_size: int = 640,
    *,
    seed: int = 0,
    evolve: int = 1000,
    fitness: Fitness = "iou",
    current: npt.ArrayLike | None = None,
    ratio_threshold: float = 4.0,
    iou_threshold: float = 0.5,
    min_size: float = 2.0,
    max_samples: int = 50_000,
    restarts: int = 3,
    max_iter: int = 300,
) -> AnchorResult:
    """``n`` anchors for ``ds`` at ``img_size``, every step as the module doc gives it.

    ``evolve`` is the number of generations of mutation (0 for none), ``fitness`` what they
    maximise; ``current`` are anchors ``(K, 2)`` in px at ``img_size`` to report the same
    figures for. The same arguments always give the same anchors.
    """
    options = _Options(
        n=n,
        img_size=img_size,
        seed=seed,
        evolve=evolve,
        fitness=fitness,
        ratio_threshold=ratio_threshold,
        iou_threshold=iou_threshold,
        min_size=min_size,
        max_samples=max_samples,
        restarts=restarts,
        max_iter=max_iter,
    )
    options.check()
    current_wh = None if current is None else as_wh(current, "current anchors")
    wh = scale_box_sizes(ds, img_size)
    return _summarise(wh, _fit(wh, options, dataset_name(ds)), current_wh, options)


def _fit(wh: FloatArray, options: _Options, name: str) -> _Fitted:
    big = wh[wh.max(axis=1) >= options.min_size]
    if big.shape[0] == 0:
        raise InvalidInputError(
            f"{name}: all {wh.shape[0]} boxes are under {options.min_size:g} px at image size "
            f"{options.img_size}; fit anchors at a larger image size"
        )
    rng = np.random.default_rng(options.seed)
    shapes, weights = unique_shapes(big)
    distinct, sample_size = shapes.shape[0], big.shape[0]
    if distinct > options.max_samples:
        rows = np.sort(rng.choice(big.shape[0], size=options.max_samples, replace=False))
        shapes, weights = unique_shapes(big[rows])
        sample_size = options.max_samples
    if options.n > shapes.shape[0]:
        where = "" if sample_size == big.shape[0] else f" in a sample of {sample_size} boxes"
        raise ConfigError(
            f"cannot fit {options.n} anchors to {shapes.shape[0]} distinct box shapes{where} "
            f"(width, height at image size {options.img_size}) in {name}; "
            f"ask for {shapes.shape[0]} or fewer"
        )
    scan = BoxScan(shapes)
    raw = fit_kmeans(
        scan, weights, options.n, rng, restarts=options.restarts, max_iter=options.max_iter
    )
    score = _fitness_function(scan, weights, options)
    kmeans_score = score(raw)
    raw, evolved_score = evolve_anchors(raw, score, options.evolve, rng, min_size=options.min_size)
    return _Fitted(raw, big.shape[0], distinct, sample_size, kmeans_score, evolved_score)


def _fitness_function(
    scan: BoxScan, weights: FloatArray, options: _Options
) -> Callable[[FloatArray], float]:
    """Mean best IoU (or ratio metric) over the boxes, a box below its threshold counting 0."""
    kind = options.fitness
    total = float(weights.sum())

    def fitness(anchors: FloatArray) -> float:
        best = scan.best(anchors, kind)
        if kind == "iou":
            best[best < options.iou_threshold] = 0.0
        else:
            best[best <= 1.0 / options.ratio_threshold] = 0.0
        return float(np.dot(weights, best)) / total

    return fitness


def _summarise(
    wh: FloatArray, fitted: _Fitted, current: FloatArray | None, options: _Options
) -> AnchorResult:
    rounded = np.maximum(np.round(fitted.raw), 1.0)
    order = np.lexsort((rounded[:, 0], rounded[:, 0] * rounded[:, 1]))
    anchors = rounded[order]
    scan = BoxScan(wh)
    thresholds = (options.ratio_threshold, options.iou_threshold)
    metrics, best_iou, label = _metrics(scan, anchors, *thresholds)
    counts = np.bincount(label, minlength=options.n).astype(np.int64)
    sums = np.bincount(label, weights=best_iou, minlength=options.n)
    mean_iou = np.full(options.n, np.nan)
    np.divide(sums, counts, out=mean_iou, where=counts > 0)
    return AnchorResult(
        anchors=anchors,
        unrounded=fitted.raw[order],
        counts=counts,
        mean_iou=mean_iou,
        metrics=metrics,
        current_anchors=current,
        current=None if current is None else _metrics(scan, current, *thresholds)[0],
        img_size=options.img_size,
        num_fitted=fitted.num_fitted,
        num_small=scan.size - fitted.num_fitted,
        num_distinct=fitted.num_distinct,
        sample_size=fitted.sample_size,
        seed=options.seed,
        evolve=options.evolve,
        fitness_name=options.fitness,
        fitness_kmeans=fitted.fitness_kmeans,
        fitness=fitted.fitness,
    )
