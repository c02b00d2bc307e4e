"""The HTML report in a real headless Chromium: it loads with no console error, fetches nothing
but itself, shows every embedded figure, and a screenshot is taken.

Needs Debian's ``chromium`` (``.ci/run`` installs it) and Playwright (the dev group). Skipped
where either is missing, except in CI, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from detlab.report.render import render_report
from detlab.store.sql.store import SQLStore
from tests.unit.report.project import PROJECT, record_project

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Chromium as root in a sandbox-less container, and nothing that phones home.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_or_skip() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run should have installed it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


@pytest.mark.slow
def test_html_report_in_headless_chromium(store: SQLStore, tmp_path: Path) -> None:
    executable = _browser_or_skip()
    sync_api = pytest.importorskip("playwright.sync_api")
    record_project(store)
    html = render_report(
        store,
        PROJECT,
        out_dir=tmp_path,
        formats=("html",),
        compare=["r18-seed-sgd", "r18-low-obj-sgd"],
    )["html"]
    messages: list[tuple[str, str]] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: messages.append((m.type, m.text)))
            page.on("pageerror", lambda e: messages.append(("pageerror", str(e))))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            images = page.eval_on_selector_all(
                "figure img", "els => els.map(e => [e.complete, e.naturalWidth])"
            )
            title = page.title()
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert [m for m in messages if m[0] in ("error", "pageerror", "warning")] == []
    assert requests == [html.as_uri()]
    assert len(images) >= 3
    assert all(complete and width > 100 for complete, width in images)
    assert title == f"Experiment log: {PROJECT}"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000
