"""Analysis: per-class results set against dataset attributes, error breakdowns, statistics.

The names below load their modules on first use (SciPy and Matplotlib only when a p-value or a
figure is asked for).

>>> from detlab.analysis import analyze_per_class, analyze_errors  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from detlab._lazy import lazy_exports

if TYPE_CHECKING:
    from detlab.analysis.confusion import ConfusionMatrix, confusion_matrix
    from detlab.analysis.errors import ErrorBreakdown, ErrorRecords, analyze_errors
    from detlab.analysis.per_class import PerClassAnalysis, analyze_per_class
    from detlab.analysis.plots import write_label_plots
    from detlab.analysis.plots_per_class import (
        plot_confusion_matrix,
        plot_error_breakdown,
        plot_per_class,
    )

__all__ = [
    "ConfusionMatrix",
    "ErrorBreakdown",
    "ErrorRecords",
    "PerClassAnalysis",
    "analyze_errors",
    "analyze_per_class",
    "confusion_matrix",
    "plot_confusion_matrix",
    "plot_error_breakdown",
    "plot_per_class",
    "write_label_plots",
]

_LAZY = {
    "ConfusionMatrix": "detlab.analysis.confusion",
    "ErrorBreakdown": "detlab.analysis.errors",
    "ErrorRecords": "detlab.analysis.errors",
    "PerClassAnalysis": "detlab.analysis.per_class",
    "analyze_errors": "detlab.analysis.errors",
    "analyze_per_class": "detlab.analysis.per_class",
    "confusion_matrix": "detlab.analysis.confusion",
    "plot_confusion_matrix": "detlab.analysis.plots_per_class",
    "plot_error_breakdown": "detlab.analysis.plots_per_class",
    "plot_per_class": "detlab.analysis.plots_per_class",
    "write_label_plots": "detlab.analysis.plots",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
