"""``detlab eval`` run as a user runs it: exit codes, the printed summary and the JSON it writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from detlab.core.dataset import Dataset
from detlab.core.predictions import Predictions
from detlab.data.formats import (
    read_coco,
    write_coco,
    write_coco_results,
    write_voc,
    write_voc_detections,
)
from detlab.data.synthetic import make_sequential_dataset
from detlab.errors import DetlabWarning
from detlab.metrics import evaluate_coco, evaluate_voc
from tests.unit.cli.test_datasets_cli import detlab


def _noisy_predictions(ds: Dataset, seed: int = 0) -> Predictions:
    """One detection per box, shifted by whole pixels, and one false positive per image."""
    rng = np.random.default_rng(seed)
    ann = ds.annotations
    shift = rng.integers(-3, 4, size=(len(ann), 2)).astype(np.float64)
    boxes = ann.boxes.copy()
    boxes[:, :2] = np.round(boxes[:, :2]) + shift
    boxes[:, 2:] = np.round(boxes[:, 2:])
    fp = np.tile([5.0, 5.0, 20.0, 20.0], (ds.num_images, 1))
    return Predictions.build(
        np.concatenate([ds.images.ids[ann.image_index], ds.images.ids]),
        np.concatenate([ann.category_ids, np.full(ds.num_images, ds.categories[0].id)]),
        np.concatenate([boxes, fp]),
        np.round(rng.uniform(0.05, 1.0, size=len(ann) + ds.num_images), 2),
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    ds = make_sequential_dataset(num_sequences=2, frames_per_sequence=6)
    gt, dt = tmp_path / "gt.json", tmp_path / "dt.json"
    write_coco(ds, gt)
    write_coco_results(_noisy_predictions(ds), dt)
    return gt, dt


def test_coco_summary_and_json_match_the_api(files: tuple[Path, Path], tmp_path: Path) -> None:
    gt, dt = files
    out = tmp_path / "eval.json"
    result = detlab("eval", "--gt", gt, "--dt", dt, "--per-class", "--json", out)
    assert result.returncode == 0, result.stderr
    expected = evaluate_coco(gt, dt)
    for line in expected.summary_lines():
        assert line in result.stdout
    assert "echinus" in result.stdout  # the per-class table
    data = json.loads(out.read_text())
    assert list(data["metrics"]) == [
        "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
    ]  # fmt: skip
    assert list(data["metrics"].values()) == expected.stats.tolist()
    assert data["summary"] == list(expected.summary_lines())
    assert [c["name"] for c in data["per_class"]] == [c.name for c in expected.per_class]
    assert data["result"]["stats"] == expected.stats.tolist()


def test_unknown_image_and_category_ids_are_listed(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    gt, dt = files
    records = json.loads(dt.read_text())
    records += [
        {"image_id": 424242, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.5},
        {"image_id": 1, "category_id": 99, "bbox": [0, 0, 4, 4], "score": 0.5},
    ]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(records))
    result = detlab("eval", "--gt", gt, "--dt", bad)
    assert result.returncode == 1
    assert "bad.json" in result.stderr
    assert "field 'image_id'" in result.stderr
    assert "424242" in result.stderr
    assert "field 'category_id'" in result.stderr
    assert "99" in result.stderr
    assert "Average Precision" not in result.stdout


def test_unknown_categories_can_be_dropped_as_pycocotools_does(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    gt, dt = files
    records = json.loads(dt.read_text())
    records.append({"image_id": 1, "category_id": 99, "bbox": [0, 0, 4, 4], "score": 0.5})
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps(records))
    result = detlab("eval", "--gt", gt, "--dt", extra, "--allow-unknown-categories")
    assert result.returncode == 0, result.stderr
    assert evaluate_coco(gt, dt).summary_lines()[0] in result.stdout


@pytest.mark.parametrize(
    ("option", "value"),
    [("--protocol", "kitti"), ("--iou-type", "keypoints"), ("--max-dets", "1,ten")],
)
def test_bad_options_are_usage_errors(files: tuple[Path, Path], option: str, value: str) -> None:
    gt, dt = files
    result = detlab("eval", "--gt", gt, "--dt", dt, option, value)
    assert result.returncode == 2
    assert option in result.stderr


def test_missing_file_is_named(files: tuple[Path, Path], tmp_path: Path) -> None:
    gt, _ = files
    result = detlab("eval", "--gt", gt, "--dt", tmp_path / "nope.json")
    assert result.returncode == 2
    assert "nope.json" in result.stderr


def test_voc_folder_and_devkit_files_give_the_devkit_answer(tmp_path: Path) -> None:
    """A VOC folder is read in continuous coordinates, which is the devkit's ``+ 1`` rule."""
    ds = make_sequential_dataset(num_sequences=2, frames_per_sequence=6)
    gt_json = tmp_path / "gt.json"
    write_coco(ds, gt_json)
    ds = read_coco(gt_json)  # the boxes as written: integral after rounding below
    preds = _noisy_predictions(ds)
    with pytest.warns(DetlabWarning, match="crowd"):  # crowd boxes become difficult in VOC
        write_voc(ds, tmp_path / "VOC")
    write_voc_detections(preds, ds, tmp_path / "results", split="test")
    out = tmp_path / "voc.json"
    result = detlab(
        "eval", "--gt", tmp_path / "VOC", "--dt", tmp_path / "results", "--protocol", "voc",
        "--json", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = evaluate_voc(ds, preds, legacy_coordinates=False)
    data = json.loads(out.read_text())
    assert data["metrics"]["mAP"] == pytest.approx(expected.map, abs=1e-12)
    assert f"mAP {100 * expected.map:.2f}%" in result.stdout
    for name, ap in expected.ap.items():
        assert data["metrics"][f"AP/{name}"] == pytest.approx(ap, abs=1e-12)
