from __future__ import annotations

import json
from pathlib import Path

from detlab.data.formats import write_coco
from detlab.data.synthetic import make_sequential_dataset
from detlab.data.validate import validate, validate_dataset


def test_valid_dataset_has_no_errors(tmp_path: Path) -> None:
    ds = make_sequential_dataset(num_sequences=1, frames_per_sequence=4)
    write_coco(ds, tmp_path / "gt.json")
    report = validate(tmp_path / "gt.json")
    assert report.ok
    assert report.format == "coco"
    assert report.dataset is not None
    assert report.dataset.num_annotations == ds.num_annotations


def test_structural_and_semantic_problems_are_all_listed(tmp_path: Path) -> None:
    obj = {
        "images": [{"id": 1, "width": 10, "height": 10}, {"id": 1, "width": 10, "height": 10}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1]},
            {"id": 2, "image_id": 3, "category_id": 1, "bbox": [0, 0, 20, 1]},
        ],
        "categories": [{"id": 1, "name": "a"}],
    }
    (tmp_path / "gt.json").write_text(json.dumps(obj))
    report = validate(tmp_path / "gt.json")
    assert not report.ok
    assert sorted(p.field for p in report.errors) == ["bbox", "id", "image_id"]
    assert report.dataset is None


def test_predictions_are_checked_against_the_dataset(tmp_path: Path) -> None:
    ds = make_sequential_dataset(num_sequences=1, frames_per_sequence=2)
    write_coco(ds, tmp_path / "gt.json")
    dets = [{"image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.3}]
    (tmp_path / "dt.json").write_text(json.dumps(dets))
    report = validate(tmp_path / "gt.json", predictions=tmp_path / "dt.json")
    assert [p.field for p in report.errors] == ["image_id"]
    assert report.errors[0].file == str(tmp_path / "dt.json")


def test_broken_json_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "gt.json").write_text("{")
    report = validate(tmp_path / "gt.json")
    assert not report.ok
    assert "broken JSON" in report.errors[0].message


def test_in_memory_dataset() -> None:
    assert validate_dataset(make_sequential_dataset(num_sequences=1, frames_per_sequence=3)).ok
