"""The report's figures as PNG bytes: curves per run, runs overlaid, per-class scatter plots.

Matplotlib (the ``plots`` extra) is imported on first use through its object-oriented API only
(a ``Figure`` with the Agg canvas; no pyplot state, no global settings). Without it,
:func:`plots_available` is false and the report notes where each figure would be.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from detlab._deps import import_optional
from detlab.core.runs import BestValue, MetricHistory, Restart

__all__ = ["curves_png", "figure_png", "overlay_png", "plots_available"]

_DPI = 80
#: Curve colours (Matplotlib's tab10), one per metric or run.
_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def plots_available() -> bool:
    try:
        import_optional("matplotlib.figure", purpose="to draw report figures")
    except ImportError:
        return False
    return True


def _figure(width: float, height: float) -> Any:
    """Fixed margins, not a layout engine: constrained layout measured every tick label and
    doubled the drawing time of a report's many small figures."""
    module = import_optional("matplotlib.figure", purpose="to draw report figures")
    fig = module.Figure(figsize=(width, height))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.9, wspace=0.18)
    return fig


def figure_png(fig: Any) -> bytes:
    """Render a Matplotlib figure to PNG bytes (no timestamp: the same figure, the same bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def curves_png(
    panels: Sequence[tuple[str, Sequence[tuple[MetricHistory, BestValue | None]]]],
    restarts: Sequence[Restart],
    *,
    labels: dict[str, str],
) -> bytes:
    """One panel per group (losses, validation metrics): each metric drawn segment by
    segment (a restart starts a new line), its best point marked, restarts as dashed lines.

    ``labels`` holds the translated words ``best``, ``restart`` (with ``{reason}``) and
    ``step``.
    """
    fig = _figure(5.2 * len(panels), 3.3)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, series) in zip(axes, panels, strict=True):
        for colour, (history, best) in zip(_cycle(len(series)), series, strict=True):
            _draw_segments(ax, history, colour)
            if best is not None:
                ax.plot(
                    [best.step],
                    [best.value],
                    marker="*",
                    markersize=11,
                    color=colour,
                    markeredgecolor="black",
                    linestyle="none",
                )
                ax.annotate(
                    f"{labels['best']} {_short(best.value)} @ {best.step}",
                    (best.step, best.value),
                    textcoords="offset points",
                    xytext=(-4, 6),
                    ha="right",
                    fontsize=7,
                )
        _draw_restarts(ax, restarts, labels["restart"])
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(labels["step"], fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left", framealpha=0.8)
    return figure_png(fig)


def overlay_png(
    series: Sequence[tuple[str, MetricHistory]], *, metric: str, step_label: str
) -> bytes:
    """``metric`` of several runs on one axis (latest value per step), one colour a run."""
    fig = _figure(7.0, 3.6)
    ax = fig.subplots()
    for colour, (name, history) in zip(_cycle(len(series)), series, strict=True):
        finite = np.isfinite(history.values)
        ax.plot(
            history.steps[finite], history.values[finite], color=colour, linewidth=1.2, label=name
        )
    ax.set_title(metric, fontsize=9)
    ax.set_xlabel(step_label, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.8)
    return figure_png(fig)


def _cycle(n: int) -> list[str]:
    return [_COLOURS[i % len(_COLOURS)] for i in range(n)]


def _draw_segments(ax: Any, history: MetricHistory, colour: str) -> None:
    """Each segment its own line, so a resumed run's re-logged epochs show as an overlap
    rather than a zigzag; non-finite points are gaps."""
    for n, segment in enumerate(np.unique(history.segments)):
        inside = history.segments == segment
        steps, values = history.steps[inside], history.values[inside]
        finite = np.isfinite(values)
        style = "-" if n == 0 else (0, (4, 1.5))
        ax.plot(
            steps[finite],
            values[finite],
            color=colour,
            linewidth=1.2,
            linestyle=style,
            label=history.key if n == 0 else None,
        )


def _draw_restarts(ax: Any, restarts: Sequence[Restart], label: str) -> None:
    for restart in restarts:
        if restart.epoch is None:
            continue
        ax.axvline(restart.epoch, color="#555555", linestyle="--", linewidth=0.8)
        ax.annotate(
            label.format(reason=restart.reason),
            (restart.epoch, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=6,
            va="top",
            ha="right",
            color="#555555",
        )


def _short(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"
