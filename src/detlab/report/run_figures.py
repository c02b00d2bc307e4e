"""Figures of one run: losses and validation metrics per segment, best points, restarts."""

from __future__ import annotations

from collections.abc import Callable

from detlab.report.collect import ProjectData, RunData, metric_mode
from detlab.report.document import Figure
from detlab.report.formatting import anchor_for
from detlab.report.messages import Messages
from detlab.report.plots import curves_png

__all__ = ["figure_or_note", "run_curves"]

#: Curves per panel at most (the tracked metrics, or the first losses).
_PER_PANEL = 4


def figure_or_note(
    name: str, caption: str, make: Callable[[], bytes], t: Messages, *, plots: bool
) -> Figure:
    """A figure drawn by ``make``, or a note where it would be when Matplotlib is missing."""
    if not plots:
        return Figure(name, caption, None, t("plot_missing"))
    return Figure(name, caption, make())


def run_curves(
    run: RunData, data: ProjectData, t: Messages, *, plots: bool, left_out: str = ""
) -> Figure:
    """The run's curves, or ``left_out`` as a note in their place when it is given."""
    losses = sorted(k for k in run.histories if metric_mode(k) == "min")[:_PER_PANEL]
    tracked = [k for k in data.tracked if k in run.histories]
    if not tracked:
        tracked = sorted(k for k in run.histories if k not in losses)[:_PER_PANEL]
    groups = [(title, keys) for title, keys in (("loss", losses), ("metrics", tracked)) if keys]
    # Text inside figures stays ASCII: Matplotlib's bundled font has no CJK or Hangul glyphs,
    # and captions around the figure carry the language.
    labels = {"best": "best", "restart": "restart: {reason}", "step": "epoch"}

    def make() -> bytes:
        panels = [
            (title, [(run.histories[k], run.best.get(k)) for k in keys]) for title, keys in groups
        ]
        return curves_png(panels, run.restarts, labels=labels)

    name = f"curves-{run.number:02d}-{anchor_for(run.name)}"
    caption = f"{t('curves')}: {run.name}"
    if left_out:
        return Figure(name, caption, None, left_out)
    return figure_or_note(name, caption, make, t, plots=plots)
