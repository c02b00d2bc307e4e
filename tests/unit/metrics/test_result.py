"""COCOResult: JSON round trip, per-class numbers, summary text."""

from __future__ import annotations

import json

import numpy as np
import pytest

from detlab.metrics import COCOParams, COCOResult, evaluate_coco
from detlab.metrics.summary import stat_names
from tests.reference.cocoapi import run_cocoeval
from tests.reference.scenes import random_scene


@pytest.fixture
def result() -> COCOResult:
    gt, dets = random_scene(9, n_images=8, max_dets=20)
    return evaluate_coco(gt, dets)


def test_to_dict_round_trips_exactly_through_json(result: COCOResult) -> None:
    data = json.loads(json.dumps(result.to_dict()))
    back = COCOResult.from_dict(data)
    for name in ("precision", "recall", "scores", "stats"):
        assert np.array_equal(getattr(back, name), getattr(result, name))
    assert back.per_class == result.per_class
    assert back.params == result.params
    assert back.to_dict() == result.to_dict()


def test_summary_is_what_pycocotools_prints() -> None:
    gt, dets = random_scene(10)
    assert evaluate_coco(gt, dets).summary() == run_cocoeval(gt, dets).summary


def test_per_class_counts_and_values(result: COCOResult) -> None:
    gt, dets = random_scene(9, n_images=8, max_dets=20)
    for row, k in zip(result.per_class, range(len(result.per_class)), strict=True):
        cat = row.category_id
        assert row.num_gt == sum(
            1 for a in gt["annotations"] if a["category_id"] == cat and not a["iscrowd"]
        )
        assert row.num_detections == sum(1 for d in dets if d["category_id"] == cat)
        cells = result.precision[:, :, k, 0, 2]
        expected = float(np.mean(cells[cells > -1])) if (cells > -1).any() else -1.0
        assert row.ap == expected


def test_stat_names_follow_the_summary_rows(result: COCOResult) -> None:
    assert list(result.metrics().values()) == result.stats.tolist()
    assert stat_names(COCOParams.build()) == (
        "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
    )  # fmt: skip
    assert stat_names(COCOParams.build(max_dets=(1, 10, 300), compat="fixed"))[8] == "AR300"
    names = stat_names(COCOParams.build(max_dets=(100,)))
    assert len(set(names)) == 12
    assert names[6:9] == ("AR100", "AR100_2", "AR100_3")
