"""Per-class AP set against what each class looks like in the dataset, with a verdict.

Seed log 000 plotted each class's AP against its annotation count, box size and aspect ratio and
concluded by eye ("no relevance", "some relevance"). :func:`analyze_per_class` answers the same
question with numbers: per class AP (and AP50) beside its annotation count, median box area and
median aspect ratio, then Pearson's r and Spearman's rho with their two-sided p-values for each
attribute, and one sentence per attribute.

The verdict reads the rank correlation by default (``verdict_method="spearman"``): annotation
counts are skewed (one dominant class drags Pearson's r wherever it lies), and the question is
whether AP *rises or falls* with the attribute, not whether it does so linearly. Thresholds:

- ``p >= 0.05``: "no significant correlation";
- otherwise by ``|coefficient|``: below 0.3 "weak", 0.3 to 0.7 "moderate", above 0.7 "strong",
  with its sign: "moderate positive correlation, p = 0.012 (Spearman rho = +0.61, n = 15)".

With a handful of classes only a strong correlation can reach p < 0.05, so "no significant
correlation" on five classes means "cannot tell", not "none". Classes without ground truth
(AP -1) are left out with a note; fewer than three classes give no correlations at all.

p-values come from SciPy (``scipy.stats.pearsonr`` / ``spearmanr``), imported on first use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from detlab._deps import import_optional
from detlab.core.boxes import FloatArray
from detlab.core.dataset import Dataset
from detlab.errors import ConfigError
from detlab.metrics.result import COCOResult
from detlab.metrics.voc import VOCResult

__all__ = [
    "ATTRIBUTES",
    "ATTRIBUTE_LABELS",
    "METRIC_LABELS",
    "MIN_CLASSES",
    "MODERATE",
    "SIGNIFICANCE",
    "STRONG",
    "ClassRow",
    "Correlation",
    "ExcludedClass",
    "PerClassAnalysis",
    "analyze_class_rows",
    "analyze_per_class",
    "correlation_verdict",
]

#: The class attributes AP is set against, and how plots and sentences name them.
ATTRIBUTES = ("num_gt", "area_median", "aspect_ratio_median")
ATTRIBUTE_LABELS = {
    "num_gt": "number of annotations",
    "area_median": "median box area (px²)",
    "aspect_ratio_median": "median aspect ratio (w/h)",
}
METRIC_LABELS = {"ap": "AP", "ap50": "AP50"}

#: A p-value at or above this is "no significant correlation".
SIGNIFICANCE = 0.05
#: ``|coefficient|`` from which a significant correlation is "moderate", and above which "strong".
MODERATE, STRONG = 0.3, 0.7
#: Correlations need at least this many classes.
MIN_CLASSES = 3

_METHODS = {"spearman": ("Spearman", "rho"), "pearson": ("Pearson", "r")}


@dataclass(frozen=True)
class ClassRow:
    """One class: its AP (and AP50, when known) and its attributes in the dataset.

    ``num_gt`` is the evaluator's count (COCO: non-crowd boxes in the evaluated images; VOC:
    non-difficult ones); the medians are box ``w * h`` in px² and ``w / h`` over the class's
    *measured* boxes in ``ds``, the set ``detlab stats`` measures too: finite, width and height
    above zero, not crowd; ``None`` when the class has none.
    """

    category_id: int
    name: str
    ap: float
    ap50: float | None
    num_gt: int
    area_median: float | None
    aspect_ratio_median: float | None


@dataclass(frozen=True)
class Correlation:
    """How one metric goes with one attribute across ``n`` classes (``None``: undefined)."""

    metric: str
    attribute: str
    n: int
    pearson_r: float | None
    pearson_p: float | None
    spearman_rho: float | None
    spearman_p: float | None
    verdict: str

    @property
    def sentence(self) -> str:
        """``"AP vs number of annotations: no significant correlation (...)"``."""
        metric = METRIC_LABELS[self.metric]
        return f"{metric} vs {ATTRIBUTE_LABELS[self.attribute]}: {self.verdict}"


@dataclass(frozen=True)
class ExcludedClass:
    """A class left out of the analysis, and why."""

    category_id: int | None
    name: str
    reason: str


@dataclass(frozen=True)
class PerClassAnalysis:
    """Rows per class, correlations per (metric, attribute), and what was left out.

    ``correlations`` is ``None`` when fewer than :data:`MIN_CLASSES` classes remain; ``note``
    then says why (and is empty otherwise).
    """

    rows: tuple[ClassRow, ...]
    correlations: tuple[Correlation, ...] | None
    excluded: tuple[ExcludedClass, ...]
    note: str
    verdict_method: str

    def correlation(self, attribute: str, metric: str = "ap") -> Correlation | None:
        """The correlation of ``metric`` with ``attribute``, or ``None`` if not computed."""
        for c in self.correlations or ():
            if c.attribute == attribute and c.metric == metric:
                return c
        return None

    def values(self, attribute_or_metric: str) -> list[float | None]:
        """One column of the rows, in row order (``"ap"``, ``"num_gt"``, ...)."""
        return [getattr(row, attribute_or_metric) for row in self.rows]

    def summary(self) -> str:
        """The table of rows, then one sentence per correlation (or the note)."""
        head = f"{'class':<20} {'AP':>6} {'AP50':>6} {'#GT':>7} {'area med':>10} {'w/h med':>8}"
        lines = [head, "-" * len(head)]
        lines += [_row_line(row) for row in self.rows]
        lines += [f"(left out: {e.name}: {e.reason})" for e in self.excluded]
        lines.append("")
        if self.correlations is None:
            lines.append(self.note)
        else:
            lines += [c.sentence for c in self.correlations]
        return "\n".join(lines)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PerClassAnalysis:
        """Rebuild an analysis from :meth:`to_dict` (as the run store keeps it)."""
        correlations = data.get("correlations")
        return cls(
            rows=tuple(ClassRow(**row) for row in data["rows"]),
            correlations=None
            if correlations is None
            else tuple(
                Correlation(**{k: v for k, v in c.items() if k != "sentence"}) for c in correlations
            ),
            excluded=tuple(ExcludedClass(**e) for e in data.get("excluded", ())),
            note=str(data.get("note", "")),
            verdict_method=str(data.get("verdict_method", "spearman")),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (no NaN: undefined numbers are ``None``)."""
        return {
            "format": "detlab.per_class_analysis",
            "version": 1,
            "rows": [asdict(row) for row in self.rows],
            "correlations": None
            if self.correlations is None
            else [asdict(c) | {"sentence": c.sentence} for c in self.correlations],
            "excluded": [asdict(e) for e in self.excluded],
            "note": self.note,
            "verdict_method": self.verdict_method,
            "thresholds": {"significance": SIGNIFICANCE, "moderate": MODERATE, "strong": STRONG},
        }


def _row_line(row: ClassRow) -> str:
    ap50 = "-" if row.ap50 is None else f"{row.ap50:.3f}"
    area = "-" if row.area_median is None else f"{row.area_median:.0f}"
    ratio = "-" if row.aspect_ratio_median is None else f"{row.aspect_ratio_median:.2f}"
    name = row.name[:20]
    return f"{name:<20} {row.ap:6.3f} {ap50:>6} {row.num_gt:7d} {area:>10} {ratio:>8}"


def analyze_per_class(
    result: COCOResult | VOCResult, ds: Dataset, *, verdict_method: str = "spearman"
) -> PerClassAnalysis:
    """Set each class's AP against its annotation count, median box area and aspect ratio.

    ``result`` comes from :func:`~detlab.metrics.evaluate_coco` (AP is AP@[.5:.95], AP50 beside
    it) or :func:`~detlab.metrics.evaluate_voc` (AP at its threshold, which is also AP50 when
    that is 0.5); ``ds`` is the ground truth it was evaluated on. ``verdict_method`` picks the
    coefficient the verdicts read, ``"spearman"`` or ``"pearson"`` (both are always computed).
    """
    if verdict_method not in _METHODS:
        raise ConfigError(f"verdict_method={verdict_method!r}: use 'spearman' or 'pearson'")
    if isinstance(result, COCOResult):
        rows, excluded = _coco_rows(result, ds)
    elif isinstance(result, VOCResult):
        rows, excluded = _voc_rows(result, ds)
    else:
        raise ConfigError(
            f"analyze_per_class takes a COCOResult or VOCResult, got {type(result).__name__}"
        )
    return analyze_class_rows(rows, excluded, verdict_method=verdict_method)


def analyze_class_rows(
    rows: Sequence[ClassRow],
    excluded: Sequence[ExcludedClass] = (),
    *,
    verdict_method: str = "spearman",
) -> PerClassAnalysis:
    """The correlations for rows built elsewhere (a stored evaluation beside stored dataset
    statistics, say): what :func:`analyze_per_class` does once it has its rows."""
    if verdict_method not in _METHODS:
        raise ConfigError(f"verdict_method={verdict_method!r}: use 'spearman' or 'pearson'")
    if len(rows) < MIN_CLASSES:
        note = (
            f"correlations need at least {MIN_CLASSES} classes with ground truth; "
            f"this evaluation has {len(rows)}"
        )
        return PerClassAnalysis(tuple(rows), None, tuple(excluded), note, verdict_method)
    correlations = tuple(
        _correlate(rows, metric, attribute, verdict_method)
        for metric in ("ap", "ap50")
        if all(getattr(row, metric) is not None for row in rows)
        for attribute in ATTRIBUTES
    )
    return PerClassAnalysis(tuple(rows), correlations, tuple(excluded), "", verdict_method)


# --------------------------------------------------------------------------- rows


def _box_medians(ds: Dataset, category_id: int) -> tuple[float | None, float | None]:
    ann = ds.annotations
    boxes = ann.boxes[(ann.category_ids == category_id) & ~ann.iscrowd]
    w, h = boxes[:, 2], boxes[:, 3]
    measured = np.isfinite(boxes).all(axis=1) & (w > 0) & (h > 0)
    if not measured.any():
        return None, None
    w, h = w[measured], h[measured]
    return float(np.median(w * h)), float(np.median(w / h))


def _coco_rows(result: COCOResult, ds: Dataset) -> tuple[list[ClassRow], list[ExcludedClass]]:
    rows, excluded = [], []
    for c in result.per_class:
        if c.ap < 0:
            excluded.append(
                ExcludedClass(c.category_id, c.name, "no ground truth in the evaluated images")
            )
            continue
        area, ratio = _box_medians(ds, c.category_id)
        rows.append(ClassRow(c.category_id, c.name, c.ap, c.ap50, c.num_gt, area, ratio))
    return rows, excluded


def _voc_rows(result: VOCResult, ds: Dataset) -> tuple[list[ClassRow], list[ExcludedClass]]:
    ids = {c.name: c.id for c in ds.categories}
    at_50 = math.isclose(result.iou_threshold, 0.5)
    rows: list[ClassRow] = []
    excluded = [
        ExcludedClass(ids[name], name, "no non-difficult ground truth")
        for name in ds.category_names
        if name not in result.ap
    ]
    for name, ap in result.ap.items():
        if name not in ids:
            excluded.append(ExcludedClass(None, name, "not a category of the dataset"))
            continue
        area, ratio = _box_medians(ds, ids[name])
        num_gt = result.curves[name].num_gt
        rows.append(ClassRow(ids[name], name, ap, ap if at_50 else None, num_gt, area, ratio))
    return rows, excluded


# --------------------------------------------------------------------------- statistics


def _correlate(rows: Sequence[ClassRow], metric: str, attribute: str, method: str) -> Correlation:
    pairs = [
        (float(getattr(r, attribute)), float(getattr(r, metric)))
        for r in rows
        if getattr(r, attribute) is not None
    ]
    x = np.array([p[0] for p in pairs], dtype=np.float64)
    y = np.array([p[1] for p in pairs], dtype=np.float64)
    reason = _undefined(x, y, metric, attribute)
    if reason:
        return Correlation(metric, attribute, x.size, None, None, None, None, reason)
    (r, p_r), (rho, p_rho) = pearson(x, y), spearman(x, y)
    chosen = (rho, p_rho) if method == "spearman" else (r, p_r)
    verdict = correlation_verdict(*chosen, n=x.size, method=method)
    return Correlation(metric, attribute, x.size, r, p_r, rho, p_rho, verdict)


def _undefined(x: FloatArray, y: FloatArray, metric: str, attribute: str) -> str:
    if x.size < MIN_CLASSES:
        return f"undefined: {x.size} class(es) have this attribute, {MIN_CLASSES} are needed"
    if np.all(x == x[0]):
        return f"undefined: every class has the same {ATTRIBUTE_LABELS[attribute]}"
    if np.all(y == y[0]):
        return f"undefined: every class has the same {METRIC_LABELS[metric]}"
    return ""


def _stats() -> Any:
    return import_optional("scipy.stats", purpose="for correlation p-values")


def pearson(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Pearson's r and its two-sided p-value (``scipy.stats.pearsonr``)."""
    r, p = _stats().pearsonr(x, y)
    return float(r), float(p)


def spearman(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Spearman's rho (ties get average ranks) and its two-sided p-value (``spearmanr``)."""
    rho, p = _stats().spearmanr(x, y)
    return float(rho), float(p)


def correlation_verdict(
    coefficient: float, p_value: float, *, n: int, method: str = "spearman"
) -> str:
    """One sentence for a coefficient and its p-value (thresholds in the module docstring).

    >>> correlation_verdict(0.52, 0.031, n=17)
    'moderate positive correlation, p = 0.031 (Spearman rho = +0.52, n = 17)'
    >>> correlation_verdict(-0.2, 0.41, n=5, method="pearson")
    'no significant correlation, p = 0.410 (Pearson r = -0.20, n = 5)'
    """
    name, symbol = _METHODS[method]
    detail = f"({name} {symbol} = {coefficient:+.2f}, n = {n})"
    p_text = "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"
    if not (math.isfinite(coefficient) and math.isfinite(p_value)):
        return f"undefined {detail}"
    if p_value >= SIGNIFICANCE:
        return f"no significant correlation, {p_text} {detail}"
    size = abs(coefficient)
    strength = "strong" if size > STRONG else "moderate" if size >= MODERATE else "weak"
    sign = "positive" if coefficient > 0 else "negative"
    return f"{strength} {sign} correlation, {p_text} {detail}"
