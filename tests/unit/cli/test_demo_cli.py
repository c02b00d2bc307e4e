"""``detlab demo --quick``: the main job in a fresh folder on the embedded default store."""

from __future__ import annotations

from pathlib import Path

from detlab.sdk import init
from detlab.store import open_store
from detlab.store.sql.store import SQLStore
from tests.unit.cli.test_datasets_cli import detlab


def test_demo_quick_trains_supervises_and_reports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / '.detlab' / 'detlab.db'}"  # the embedded default store
    # an earlier demo's series is already there: this one must get a project of its own
    init("detlab-demo", "griddet-seed-sgd", store=url).finish()
    result = detlab("demo", "--quick", "--out", tmp_path / "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2. Validation: 0 error(s)" in result.stdout
    for case in ("negative_width", "unknown_image_id", "missing_bbox", "nan_score", "broken_json"):
        assert case in result.stdout
    assert "(accepted)" not in result.stdout
    assert (tmp_path / "demo" / "data" / "voc" / "ImageSets" / "Main" / "trainval.txt").is_file()
    assert (tmp_path / "demo" / "data" / "yolo" / "data.yaml").is_file()
    assert "Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]" in result.stdout
    with open_store(url) as store:
        assert sorted(store.projects()) == ["detlab-demo", "detlab-demo-2"]
        _check_series(store, result.stdout)
    _check_report(tmp_path / "demo" / "report" / "REPORT.md")


def _check_series(store: SQLStore, stdout: str) -> None:
    project = "detlab-demo-2"
    runs = {r.name: r for r in store.runs(project, metric="val/AP50")}
    assert len(runs) >= 6
    baseline = runs["griddet-seed-sgd"]
    steps, values = store.history(project, baseline.name, "val/AP50")
    assert list(steps) == list(range(12))
    assert max(values[4:]) > values[0]  # it learns
    restarted = runs["griddet-high-lr-sgd"]
    assert restarted.status == "finished"
    restart = store.restarts(project, restarted.name)[0]
    assert restart.reason == "nan"
    assert restart.seed == 28
    assert restart.loaded_epoch is not None
    assert restart.epoch is not None
    assert restart.loaded_epoch < restart.epoch
    assert restarted.params["optimizer.lr_after_resume"] == 1e-3
    loss_steps, _ = store.history(project, restarted.name, "train/loss")
    assert list(loss_steps) == list(range(12))  # continuous across the restart
    stopped = runs["griddet-high-obj-sgd"]
    assert stopped.status == "early_stopped"
    assert stopped.early_stop_step is not None
    longer = next(r for r in runs.values() if r.name.endswith("-long-sgd"))
    assert longer.parent in runs
    deltas = store.deltas(project, "griddet-low-obj-sgd", "val/AP50")
    best, base = runs["griddet-low-obj-sgd"].best, baseline.best
    assert best is not None
    assert base is not None
    assert deltas["baseline"].points == round(100 * (best.value - base.value), 2)
    assert f"{deltas['baseline'].points:+.2f}" in stdout
    assert f"{deltas['baseline'].points:+.2f} [baseline]" in runs["griddet-low-obj-sgd"].conclusion


def _check_report(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    assert "griddet-high-lr-sgd" in text
    assert "| nan |" in text.replace("  ", " ")  # the restart table's reason column
    assert "early\\_stopped" in text
    assert "\\[baseline\\]" in text  # Markdown-escaped
    assert "Split demo-interval-split (interval)" in text
    assert "Per-class AP against class attributes" in text
    assert (report.parent / "report.html").is_file()
