"""``render_report``: read a project from the store, build the document, write the files.

>>> paths = render_report(store, "voc-yolo", out_dir="report")  # doctest: +SKIP
>>> paths["md"]  # doctest: +SKIP
PosixPath('report/REPORT.md')
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from detlab.errors import ConfigError
from detlab.report.build import ReportOptions, build_document
from detlab.report.collect import collect_project
from detlab.report.document import Document
from detlab.report.html import render_html
from detlab.report.markdown import FIGURES_DIR, render_markdown
from detlab.report.messages import LANGUAGES
from detlab.report.plots import plots_available
from detlab.store.sql.store import SQLStore

__all__ = ["FORMATS", "build_report", "render_report"]

FORMATS = ("md", "html")
MARKDOWN_FILE = "REPORT.md"
HTML_FILE = "report.html"


def build_report(
    store: SQLStore,
    project: str,
    *,
    runs: Sequence[str] | None = None,
    metric: str | None = None,
    lang: str = "en",
    columns: Sequence[str] | None = None,
    compare: Sequence[str] = (),
    plots: bool | None = None,
    max_run_figures: int | None = 20,
    now: datetime | None = None,
) -> Document:
    """The report as a document (no files written): see :func:`render_report`."""
    if lang not in LANGUAGES:
        raise ConfigError(f"lang={lang!r}: use one of {', '.join(LANGUAGES)}")
    wanted = None if runs is None else list(dict.fromkeys([*runs, *compare]))
    data = collect_project(store, project, runs=wanted, metric=metric)
    options = ReportOptions(
        lang=lang,
        columns=columns,
        compare=compare,
        plots=plots_available() if plots is None else plots,
        max_run_figures=max_run_figures,
        now=now,
    )
    return build_document(data, options)


def render_report(
    store: SQLStore,
    project: str,
    *,
    out_dir: str | Path = "report",
    formats: Sequence[str] = FORMATS,
    runs: Sequence[str] | None = None,
    metric: str | None = None,
    lang: str = "en",
    columns: Sequence[str] | None = None,
    compare: Sequence[str] = (),
    plots: bool | None = None,
    max_run_figures: int | None = 20,
    now: datetime | None = None,
) -> dict[str, Path]:
    """Write ``out_dir/REPORT.md`` (figures in ``out_dir/figures/``) and/or
    ``out_dir/report.html`` (one self-contained file); returns the paths by format.

    ``runs``: the runs shown (default: all, by creation time); ``metric``: the primary metric
    (default ``val/AP50`` when logged); ``columns``: parameter columns of the summary table
    (default: those that differ between the runs shown); ``compare``: runs put side by side;
    ``plots``: ``None`` draws them when Matplotlib is installed; ``max_run_figures``: curves
    for at most that many runs (the best by ``metric``; ``None``: all).
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ConfigError(f"formats={list(formats)}: use md, html or both")
    doc = build_report(
        store,
        project,
        runs=runs,
        metric=metric,
        lang=lang,
        columns=columns,
        compare=compare,
        plots=plots,
        max_run_figures=max_run_figures,
        now=now,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    if "md" in formats:
        paths["md"] = _write_markdown(doc, out)
    if "html" in formats:
        paths["html"] = out / HTML_FILE
        paths["html"].write_text(render_html(doc), encoding="utf-8")
    return paths


def _write_markdown(doc: Document, out: Path) -> Path:
    figures = [f for f in doc.figures() if f.png is not None]
    if figures:
        folder = out / FIGURES_DIR
        folder.mkdir(exist_ok=True)
        for figure in figures:
            (folder / f"{figure.name}.png").write_bytes(figure.png or b"")
    path = out / MARKDOWN_FILE
    path.write_text(render_markdown(doc), encoding="utf-8")
    return path
