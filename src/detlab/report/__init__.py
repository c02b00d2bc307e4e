"""Reports: the experiment log written from the store, in Markdown and self-contained HTML.

>>> from detlab.report import render_report  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from detlab._lazy import lazy_exports

if TYPE_CHECKING:
    from detlab.report.document import Document
    from detlab.report.html import render_html
    from detlab.report.markdown import render_markdown
    from detlab.report.render import build_report, render_report

__all__ = ["Document", "build_report", "render_html", "render_markdown", "render_report"]

_LAZY = {
    "Document": "detlab.report.document",
    "build_report": "detlab.report.render",
    "render_html": "detlab.report.html",
    "render_markdown": "detlab.report.markdown",
    "render_report": "detlab.report.render",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
