"""The written report: golden Markdown and HTML of a fixed project, edge cases, files, CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detlab.cli.app import app
from detlab.errors import NotFoundError
from detlab.report.build import ReportOptions, build_document
from detlab.report.collect import collect_project
from detlab.report.html import render_html
from detlab.report.markdown import render_markdown
from detlab.report.messages import LANGUAGES
from detlab.report.render import render_report
from detlab.store.sql.store import SQLStore
from tests.unit.report.project import PROJECT, T0, collected, record_project

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "report"
#: Set to 1 to rewrite the golden files (then review the diff).
UPDATE = os.environ.get("DETLAB_UPDATE_GOLDEN") == "1"


@pytest.fixture
def recorded(store: SQLStore) -> SQLStore:
    record_project(store)
    return store


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with DETLAB_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_markdown_and_html_match_the_golden_files(recorded: SQLStore, lang: str) -> None:
    doc = build_document(collected(recorded), ReportOptions(lang=lang, plots=False, now=T0))
    _golden(f"REPORT.{lang}.md", render_markdown(doc))
    _golden(f"report.{lang}.html", render_html(doc))


def test_the_report_says_what_the_seed_logs_write_by_hand(recorded: SQLStore) -> None:
    doc = build_document(collected(recorded), ReportOptions(plots=False, now=T0))
    md = render_markdown(doc)
    # best value and epoch, and the delta against the labelled baseline in points
    assert "max val/AP50: 60.00% @ epoch 7, +10.00 \\[baseline\\]" in md
    # the restart table, with the normal start first
    assert "| 0 | -1 | 29 | normal start |" in md
    assert "| 3 | 2 | 28 | nan | loss NaN |" in md
    assert "EARLY STOP @ epoch 3" in md
    # significant changes against the parent, as a code block
    assert "```python\nbatch_size = 64\nlambda_obj = 10.0\n```" in md
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]" in md
    assert "Split urpc-interval (interval): boxes per class" in md
    assert "| public-lb | 54.5 |" in md
    errors = md[md.index("### Error breakdown (r18-low-obj-sgd, TIDE)") :]
    assert "| localisation |" in errors
    assert "| background |" in errors


def test_missing_pieces_become_notes_not_crashes(recorded: SQLStore) -> None:
    md = render_markdown(build_document(collected(recorded), ReportOptions(plots=False, now=T0)))
    orphan = md[md.index('<a id="orphan"></a>') :]
    assert "deleted-run (not in the store: deleted or never recorded)" in orphan
    assert "\\[renaissance\\] never-recorded: not in the store" in orphan
    assert "No metrics were logged." in orphan
    # epoch 2 went NaN and the restart resumed from epoch 3: the NaN stays, and is said
    assert "val/AP50 was not finite at 1 epoch(s) (2)" in md
    assert "Plot not drawn: Matplotlib is not installed" in md


def test_nan_epochs_that_stay_are_noted(store: SQLStore) -> None:
    import detlab

    with detlab.init(project="p", name="nan", store=store) as run:
        for epoch, value in enumerate([0.1, float("nan"), 0.3, float("inf")]):
            run.log({"val/AP50": value}, step=epoch)
    md = render_markdown(build_document(collect_project(store, "p"), ReportOptions(plots=False)))
    assert "max val/AP50: 30.00% @ epoch 2" in md
    assert "val/AP50 was not finite at 2 epoch(s) (1, 3)" in md


def test_files_figures_and_a_self_contained_html(recorded: SQLStore, tmp_path: Path) -> None:
    paths = render_report(
        recorded, PROJECT, out_dir=tmp_path / "out", compare=["r18-seed-sgd", "r18-low-obj-sgd"]
    )
    md = paths["md"].read_text(encoding="utf-8")
    figures = sorted(p.name for p in (tmp_path / "out" / "figures").iterdir())
    assert "compare-overlay.png" in figures
    assert any(name.startswith("per-class-") for name in figures)
    for name in figures:
        assert f"figures/{name}" in md
    assert (tmp_path / "out" / "figures" / figures[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = paths["html"].read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(figures)
    # nothing the browser would fetch: every src is inline data, every href an anchor
    assert re.findall(r'src="(?!data:)', html) == []
    assert re.findall(r'href="(?!#)', html) == []
    assert "<script" not in html


def test_unknown_runs_and_options_are_refused(recorded: SQLStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no run\(s\) \['nope'\]; its runs: "):
        render_report(recorded, PROJECT, out_dir=tmp_path, runs=["nope"])
    with pytest.raises(NotFoundError, match="--compare"):
        build_document(
            collect_project(recorded, PROJECT, runs=["orphan"]),
            ReportOptions(compare=["r18-seed-sgd"]),
        )


def test_cli_writes_both_files_and_fails_cleanly(store_url: str, tmp_path: Path) -> None:
    from detlab.store import open_store

    with open_store(store_url) as store:
        record_project(store)
    runner = CliRunner()
    out = tmp_path / "rep"
    ok = runner.invoke(
        app,
        [
            "report",
            "--store",
            store_url,
            "-o",
            str(out),
            "--lang",
            "ko",
            "--runs",
            "r18-seed-sgd,r18-low-obj-sgd",
            "--no-plots",
        ],
    )
    assert ok.exit_code == 0, ok.output
    text = (out / "REPORT.md").read_text(encoding="utf-8")
    assert "실험 기록: voc-yolo" in text
    assert "orphan" not in text
    assert (out / "report.html").exists()
    assert runner.invoke(app, ["report", "--store", store_url, "--format", "pdf"]).exit_code == 2
    before = (out / "REPORT.md").read_bytes()
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "detlab",
            "report",
            "--store",
            store_url,
            "-o",
            str(out),
            "--runs",
            "x",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("detlab: error: project 'voc-yolo' has no run(s) ['x']")
    assert "Traceback" not in bad.stderr
    assert (out / "REPORT.md").read_bytes() == before  # nothing written over
