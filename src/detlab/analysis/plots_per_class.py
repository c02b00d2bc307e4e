"""Figures for the per-class analysis and the error breakdown (needs ``detlab[plots]``).

Matplotlib is imported on first use, and only its object-oriented API is used (a
``matplotlib.figure.Figure`` with no pyplot state, no backend switch), so drawing never touches
global settings. Each function returns the figure; ``path=`` also saves it (the format follows
the suffix).

>>> fig = plot_per_class(analysis, path="per_class.png")  # doctest: +SKIP
>>> plot_confusion_matrix(cm, normalize="gt", path="confusion.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from detlab._deps import import_optional
from detlab.analysis.errors import (
    ERROR_TYPES,
    SHORT_NAMES,
    SPECIAL_ERROR_TYPES,
    ConfusionMatrix,
    ErrorBreakdown,
)
from detlab.analysis.per_class import (
    ATTRIBUTE_LABELS,
    ATTRIBUTES,
    METRIC_LABELS,
    PerClassAnalysis,
)
from detlab.errors import ConfigError

__all__ = ["plot_confusion_matrix", "plot_error_breakdown", "plot_per_class"]

#: Spread (max / min) from which an attribute axis is drawn on a log scale.
_LOG_SPREAD = 20.0


def _figure(width: float, height: float) -> Any:
    module = import_optional("matplotlib.figure", purpose="to draw analysis plots")
    return module.Figure(figsize=(width, height), layout="constrained")


def _save(fig: Any, path: str | Path | None) -> Any:
    if path is not None:
        fig.savefig(Path(path), dpi=120)
    return fig


def plot_per_class(
    analysis: PerClassAnalysis, *, metric: str = "ap", path: str | Path | None = None
) -> Any:
    """Three scatter plots, ``metric`` against each attribute, one labelled point per class.

    Each panel's title carries the verdict. Axes spanning more than a factor of 20 (counts,
    areas) are logarithmic.
    """
    if metric not in METRIC_LABELS:
        raise ConfigError(f"metric={metric!r}: use one of {', '.join(METRIC_LABELS)}")
    fig = _figure(5.0 * len(ATTRIBUTES), 4.6)
    axes = fig.subplots(1, len(ATTRIBUTES), sharey=True)
    names = [row.name for row in analysis.rows]
    y = analysis.values(metric)
    for ax, attribute in zip(axes, ATTRIBUTES, strict=True):
        _scatter(ax, analysis.values(attribute), y, names)
        ax.set_xlabel(ATTRIBUTE_LABELS[attribute])
        found = analysis.correlation(attribute, metric)
        verdict = found.verdict if found else analysis.note or "not computed"
        ax.set_title(_wrap(verdict), fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(METRIC_LABELS[metric])
    fig.suptitle(f"Per-class {METRIC_LABELS[metric]} against class attributes")
    return _save(fig, path)


def _scatter(ax: Any, x: list[Any], y: list[Any], names: list[str]) -> None:
    points = [
        (float(a), float(b), n)
        for a, b, n in zip(x, y, names, strict=True)
        if a is not None and b is not None
    ]
    if not points:
        return
    xs = np.array([p[0] for p in points])
    ax.scatter(xs, [p[1] for p in points], s=28, zorder=3)
    for px, py, name in points:
        ax.annotate(name, (px, py), xytext=(4, 3), textcoords="offset points", fontsize=8)
    if xs.min() > 0 and xs.max() / xs.min() > _LOG_SPREAD:
        ax.set_xscale("log")


def _wrap(text: str, width: int = 48) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def plot_confusion_matrix(
    cm: ConfusionMatrix, *, normalize: str | None = None, path: str | Path | None = None
) -> Any:
    """A heatmap, predicted class down, ground-truth class across, background last.

    ``normalize="gt"`` shows each ground-truth column as fractions (where its objects went),
    ``"pred"`` each row (what a class's detections found); ``None`` shows counts.
    """
    values = cm.counts.astype(np.float64) if normalize is None else cm.normalized(by=normalize)
    k = values.shape[0]
    side = min(max(4.0, 0.55 * k + 2.0), 24.0)
    fig = _figure(side + 1.0, side)
    ax = fig.subplots()
    image = ax.imshow(values, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8, label="count" if normalize is None else "fraction")
    labels = cm.labels
    ax.set_xticks(range(k), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(k), labels, fontsize=8)
    ax.set_xlabel("ground-truth class")
    ax.set_ylabel("predicted class")
    if k <= 30:
        _annotate_cells(ax, values, integer=normalize is None)
    ax.set_title(f"Confusion matrix (IoU >= {cm.iou_threshold:.2f}, score >= {cm.min_score:g})")
    return _save(fig, path)


def _annotate_cells(ax: Any, values: Any, *, integer: bool) -> None:
    top = float(values.max()) if values.size else 0.0
    for (i, j), v in np.ndenumerate(values):
        if v == 0:
            continue
        text = f"{int(v)}" if integer else f"{v:.2f}"
        color = "white" if top and v > 0.6 * top else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color=color)


def plot_error_breakdown(breakdown: ErrorBreakdown, *, path: str | Path | None = None) -> Any:
    """Horizontal bars of the AP each error type would recover (x100), counts beside them."""
    fig = _figure(8.0, 4.2)
    main_ax, special_ax = fig.subplots(1, 2, width_ratios=(3, 1.3))
    main = [100 * breakdown.delta_ap[t] for t in ERROR_TYPES]
    labels = [f"{SHORT_NAMES[t]} ({breakdown.counts[t]})" for t in ERROR_TYPES]
    main_ax.barh(labels[::-1], main[::-1], color="tab:red")
    main_ax.set_xlabel("dAP (AP x100 recovered when fixed)")
    main_ax.set_title(
        f"Main errors, {breakdown.iou_type} AP@{breakdown.fg_iou:.2f} = {100 * breakdown.ap:.1f}"
    )
    special = [100 * breakdown.special_delta_ap[t] for t in SPECIAL_ERROR_TYPES]
    special_ax.bar([SHORT_NAMES[t] for t in SPECIAL_ERROR_TYPES], special, color="tab:gray")
    special_ax.set_title("Special errors")
    for ax in (main_ax, special_ax):
        ax.grid(alpha=0.3, axis="x" if ax is main_ax else "y")
    return _save(fig, path)
