from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from detlab.data.formats import (
    parse_coco,
    parse_coco_results,
    predictions_to_list,
    read_coco_results,
    write_coco_results,
)
from detlab.errors import AnnotationParseError

GT = {
    "images": [{"id": 1, "file_name": "a.jpg", "width": 50, "height": 50}],
    "annotations": [],
    "categories": [{"id": 3, "name": "fish"}],
}


def _det(**kw):
    record = {"image_id": 1, "category_id": 3, "bbox": [1.5, 2, 3, 4], "score": 0.5}
    record.update(kw)
    return record


def test_round_trip_keeps_order_and_values(tmp_path: Path) -> None:
    records = [_det(score=0.9), _det(score=0.9, bbox=[0, 0, 1, 1]), _det(score=0.1)]
    preds = parse_coco_results(records)
    write_coco_results(preds, tmp_path / "r.json")
    back = read_coco_results(tmp_path / "r.json")
    assert predictions_to_list(back) == predictions_to_list(preds)
    assert back.scores.tolist() == [0.9, 0.9, 0.1]
    np.testing.assert_array_equal(back.boxes[1], [0, 0, 1, 1])


def test_segmentation_only_detection_gets_the_polygon_box() -> None:
    preds = parse_coco_results(
        [{"image_id": 1, "category_id": 3, "score": 1.0, "segmentation": [[2, 3, 10, 3, 10, 9]]}]
    )
    np.testing.assert_array_equal(preds.boxes[0], [2, 3, 8, 6])
    assert preds.has_segmentation


def test_rle_detection_box_matches_pycocotools() -> None:
    mask_api = pytest.importorskip("pycocotools.mask")
    mask = np.zeros((20, 30), dtype=np.uint8, order="F")
    mask[4:9, 5:17] = 1
    rle = mask_api.encode(mask)
    rle["counts"] = rle["counts"].decode()
    preds = parse_coco_results(
        [{"image_id": 1, "category_id": 3, "score": 1.0, "segmentation": rle}]
    )
    np.testing.assert_array_equal(preds.boxes[0], [5, 4, 12, 5])


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        pytest.param(_det(score=float("nan")), "score", "finite", id="nan-score"),
        pytest.param(_det(score="high"), "score", "expected a number", id="string-score"),
        pytest.param(
            {k: v for k, v in _det().items() if k != "bbox"}, "bbox", "missing", id="no-bbox"
        ),
        pytest.param(_det(image_id="img1"), "image_id", "string id", id="string-image-id"),
        pytest.param(
            _det(image_id=2), "image_id", "not in the ground truth: 2", id="unknown-image"
        ),
        pytest.param(
            _det(category_id=9), "category_id", "not in the ground truth: 9", id="unknown-category"
        ),
        pytest.param(_det(bbox=[0, 0, -1, 2]), "bbox", "negative size", id="negative-width"),
    ],
)
def test_bad_predictions_name_record_and_field(tmp_path: Path, record, field, message) -> None:
    path = tmp_path / "dt.json"
    path.write_text(json.dumps([_det(), record]))  # stdlib json writes NaN, as many tools do
    with pytest.raises(AnnotationParseError) as info:
        read_coco_results(path, gt=parse_coco(GT))
    problem = info.value.problems[0]
    assert (problem.file, problem.field) == (str(path), field)
    assert problem.record.startswith("predictions[1]")
    assert message in problem.message


def test_unknown_ids_are_listed_together() -> None:
    records = [_det(image_id=i) for i in (7, 8, 7, 1)]
    with pytest.raises(
        AnnotationParseError,
        match=r"3 prediction\(s\) name image ids not in the ground truth: 7, 8",
    ):
        parse_coco_results(records, gt=parse_coco(GT))


def test_not_a_list_explains_the_format() -> None:
    with pytest.raises(AnnotationParseError, match=r"expected a JSON list of detections"):
        parse_coco_results({"annotations": []})


def test_empty_list_is_valid() -> None:
    assert len(parse_coco_results([])) == 0
