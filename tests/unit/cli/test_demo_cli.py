"""``detlab demo``: the main job, run twice in a fresh folder on the embedded default store."""

from __future__ import annotations

from pathlib import Path

from detlab.store import open_store
from tests.unit.cli.test_datasets_cli import detlab


def test_demo_quick_runs_the_whole_workflow(tmp_path: Path) -> None:
    for _ in range(2):  # a second run replaces the demo's runs instead of failing
        result = detlab("demo", "--quick", "--out", tmp_path / "demo", cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "2. Validation: 0 error(s)" in result.stdout
    for case in ("negative_width", "unknown_image_id", "missing_bbox", "nan_score", "broken_json"):
        assert case in result.stdout
    assert "(accepted)" not in result.stdout
    assert (tmp_path / "demo" / "data" / "voc" / "ImageSets" / "Main" / "trainval.txt").is_file()
    assert (tmp_path / "demo" / "data" / "yolo" / "data.yaml").is_file()
    assert "Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]" in result.stdout
    # the embedded default store, created under the working directory
    with open_store(f"sqlite:///{tmp_path / '.detlab' / 'detlab.db'}") as store:
        runs = {r.name: r for r in store.runs("detlab-demo", metric="val/AP50")}
        assert sorted(runs) == [
            "yolov3-r18-mosaic", "yolov3-r18-mosaic-adam", "yolov3-r18-sgd",
        ]  # fmt: skip
        assert runs["yolov3-r18-mosaic-adam"].status == "early_stopped"
        assert [r.reason for r in store.restarts("detlab-demo", "yolov3-r18-mosaic")] == ["nan"]
        deltas = store.deltas("detlab-demo", "yolov3-r18-mosaic", "val/AP50")
        best, baseline = runs["yolov3-r18-mosaic"].best, runs["yolov3-r18-sgd"].best
        assert best is not None
        assert baseline is not None
        assert deltas["baseline"].points == round(100 * (best.value - baseline.value), 2)
        assert f"{deltas['baseline'].points:+.2f}" in result.stdout
