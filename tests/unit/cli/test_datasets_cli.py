"""The dataset commands, run as a user runs them: a real process, its exit code and streams."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from detlab.data.formats import write_coco
from detlab.data.synthetic import make_sequential_dataset


def detlab(
    *args: str | Path, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m detlab`` with a clean environment (plus ``env``) and no stdin."""
    return subprocess.run(
        [sys.executable, "-m", "detlab", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        stdin=subprocess.DEVNULL,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "NO_COLOR": "1", **(env or {})},
    )


@pytest.fixture
def gt(tmp_path: Path) -> Path:
    path = tmp_path / "gt.json"
    write_coco(make_sequential_dataset(num_sequences=2, frames_per_sequence=5), path)
    return path


def test_validate_valid_dataset_exits_0(gt: Path, tmp_path: Path) -> None:
    result = detlab("validate", gt, "--json", tmp_path / "report.json")
    assert result.returncode == 0, result.stderr
    assert "valid: 0 error(s)" in result.stdout
    assert "echinus" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["ok"] is True
    assert report["summary"]["num_images"] == 10


def test_validate_lists_every_error_and_exits_1(gt: Path, tmp_path: Path) -> None:
    obj = json.loads(gt.read_text())
    obj["annotations"][0]["bbox"][2] = -4
    obj["annotations"][3]["image_id"] = 4242
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(obj))
    result = detlab("validate", bad)
    assert result.returncode == 1
    assert f"{bad}: annotations[0] (id=1, image_id=1), field 'bbox': negative size" in result.stdout
    assert (
        "annotations[3] (id=4, image_id=4242), field 'image_id': unknown image id 4242"
        in result.stdout
    )
    assert "INVALID: 2 error(s)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_predictions_with_nan_score(gt: Path, tmp_path: Path) -> None:
    dt = tmp_path / "dt.json"
    dt.write_text('[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "score": NaN}]')
    result = detlab("validate", gt, "--predictions", dt)
    assert result.returncode == 1
    assert (
        f"{dt}: predictions[0] (image_id=1), field 'score': must be a finite number"
        in result.stdout
    )


def test_usage_errors_exit_2(gt: Path) -> None:
    assert detlab("validate", gt, "--no-such-option").returncode == 2
    result = detlab("validate", gt, "--format", "pascal")
    assert result.returncode == 2
    assert "coco, voc, yolo" in result.stderr


def test_reader_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"images": [}')
    result = detlab("info", broken)
    assert result.returncode == 1
    assert result.stderr.startswith(f"detlab: error: {broken}: line 1, column 13: broken JSON")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_unknown_folder_lists_the_formats(tmp_path: Path) -> None:
    result = detlab("info", tmp_path)
    assert result.returncode == 1
    assert "cannot tell the dataset format" in result.stderr
    assert "Pascal VOC" in result.stderr


def test_info_prints_counts(gt: Path, tmp_path: Path) -> None:
    result = detlab("info", gt, "--json", tmp_path / "s.json")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["num_boxes"] == sum(c["count"] for c in summary["per_class"])


def test_convert_to_voc_and_back(gt: Path, tmp_path: Path) -> None:
    result = detlab("convert", gt, tmp_path / "voc", "--to", "voc")
    assert result.returncode == 0, result.stderr
    back = detlab(
        "convert", tmp_path / "voc", tmp_path / "back.json", "--to", "coco", "--split", "trainval"
    )
    assert back.returncode == 0, back.stderr
    a = json.loads(gt.read_text())
    b = json.loads((tmp_path / "back.json").read_text())
    assert len(a["annotations"]) == len(b["annotations"])
    assert [x["bbox"] for x in a["annotations"]] == [x["bbox"] for x in b["annotations"]]


def test_version() -> None:
    result = detlab("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("detlab ")


def test_convert_to_yolo_links_the_images(tmp_path: Path) -> None:
    from detlab.data.render import render_images

    ds = make_sequential_dataset(num_sequences=1, frames_per_sequence=3)
    render_images(ds, tmp_path / "images")
    write_coco(ds, tmp_path / "gt.json")
    out = tmp_path / "yolo"
    result = detlab(
        "convert", tmp_path / "gt.json", out, "--to", "yolo", "--image-root", tmp_path / "images"
    )
    assert result.returncode == 0, result.stderr
    assert (out / "data.yaml").is_file()
    info = detlab("info", out / "data.yaml", "--json", tmp_path / "s.json")
    assert info.returncode == 0, info.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["num_images"] == 3
    assert summary["num_boxes"] == int((~ds.annotations.iscrowd).sum())
