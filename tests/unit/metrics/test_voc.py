"""Pascal VOC AP: the known answer of rafaelpadilla/Object-Detection-Metrics, and the rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from detlab.metrics import VOCResult, evaluate_voc
from detlab.metrics.voc import voc_ap

FIXTURES = Path(__file__).parents[2] / "fixtures" / "voc_padilla"


@pytest.mark.parametrize(
    ("method", "expected"), [("area", 0.2457), ("11point", 0.2684)], ids=["area", "11point"]
)
def test_padilla_toy_set(method: str, expected: float) -> None:
    r = evaluate_voc(
        FIXTURES / "groundtruth.json",
        FIXTURES / "detections.json",
        iou_threshold=0.3,
        method=method,
    )
    assert round(r.ap["person"], 4) == expected
    assert r.map == r.ap["person"]


def _gt(difficult: list[int]) -> dict:
    anns = [
        {
            "id": i + 1,
            "image_id": 1,
            "category_id": 1,
            "bbox": [i * 20.0, 0, 10, 10],
            "area": 100.0,
            "iscrowd": 0,
            "difficult": d,
        }
        for i, d in enumerate(difficult)
    ]
    return {
        "images": [{"id": 1, "width": 100, "height": 100}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "empty"}],
    }


def test_difficult_is_neither_and_duplicates_are_false_positives() -> None:
    dets = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.8},
        {"image_id": 1, "category_id": 1, "bbox": [20, 0, 10, 10], "score": 0.7},
    ]
    r = evaluate_voc(_gt([0, 1]), dets, method="area")
    curve = r.curves["a"]
    assert curve.num_gt == 1
    assert curve.recall.tolist() == [1.0, 1.0, 1.0]
    assert curve.precision.tolist() == [1.0, 0.5, 0.5]
    assert "empty" not in r.ap


def test_threshold_is_strict() -> None:
    # IoU exactly 0.5 without the +1 convention: not a match under ovmax > 0.5.
    dets = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 5], "score": 0.9}]
    r = evaluate_voc(_gt([0]), dets, legacy_coordinates=False, method="area")
    assert r.ap["a"] == 0.0


def test_voc_ap_11point() -> None:
    assert voc_ap(np.array([1.0]), np.array([1.0])) == pytest.approx(1.0)


def test_round_trip() -> None:
    r = evaluate_voc(FIXTURES / "groundtruth.json", FIXTURES / "detections.json")
    back = VOCResult.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back.to_dict() == r.to_dict()
