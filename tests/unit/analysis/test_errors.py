"""TIDE-style error breakdown and the confusion matrix.

The oracle for "AP after fixing" is the evaluator itself: fixing an error type by hand in the
predictions (or the ground truth) and running ``evaluate_coco`` must give the AP the breakdown
reports for that fix.
"""

from __future__ import annotations

import copy
import doctest
import json
import math
from typing import Any

import numpy as np
import pytest

from detlab.analysis import confusion as confusion_module
from detlab.analysis import errors as errors_module
from detlab.analysis.errors import (
    ERROR_TYPES,
    OUTCOMES,
    SPECIAL_ERROR_TYPES,
    analyze_errors,
    confusion_matrix,
)
from detlab.core import Predictions
from detlab.data.synthetic import make_sequential_dataset
from detlab.errors import ConfigError
from detlab.metrics import evaluate_coco

CAT, DOG, FOX = 1, 2, 3


def _ann(ann_id: int, cat: int, box: list[float], *, crowd: int = 0) -> dict[str, Any]:
    return {
        "id": ann_id,
        "image_id": 1,
        "category_id": cat,
        "bbox": box,
        "area": box[2] * box[3],
        "iscrowd": crowd,
    }


def _det(cat: int, box: list[float], score: float, image_id: int = 1) -> dict[str, Any]:
    return {"image_id": image_id, "category_id": cat, "bbox": box, "score": score}


def _gt(anns: list[dict[str, Any]], images: int = 1) -> dict[str, Any]:
    return {
        "images": [{"id": i, "width": 1000, "height": 1000} for i in range(1, images + 1)],
        "annotations": anns,
        "categories": [
            {"id": CAT, "name": "cat"},
            {"id": DOG, "name": "dog"},
            {"id": FOX, "name": "fox"},
        ],
    }


# One image where every error type happens exactly once (IoUs in the comments).
SCENE_GT = _gt(
    [
        _ann(1, CAT, [0, 0, 100, 100]),  # g1: found by d1
        _ann(2, DOG, [200, 0, 100, 100]),  # g2: only a cat detection on it (classification)
        _ann(3, CAT, [400, 0, 100, 100]),  # g3: only a misplaced cat (localisation)
        _ann(4, DOG, [600, 0, 100, 100]),  # g4: found by d7
        _ann(5, FOX, [0, 300, 100, 100]),  # g5: nothing near it (missed)
        _ann(6, CAT, [800, 0, 100, 100]),  # g6: found by d8, ranked last
    ]
)
SCENE_DETS = [
    _det(CAT, [0, 0, 100, 100], 0.95),  # d1 true positive on g1
    _det(CAT, [0, 10, 100, 100], 0.92),  # d2 duplicate of g1 (IoU 0.82)
    _det(CAT, [200, 0, 100, 100], 0.90),  # d3 classification: on g2, a dog
    _det(DOG, [50, 0, 100, 100], 0.88),  # d4 both: IoU 1/3 with cat g1, no dog near
    _det(CAT, [450, 0, 100, 100], 0.85),  # d5 localisation: IoU 1/3 with cat g3
    _det(DOG, [600, 0, 100, 100], 0.80),  # d6 true positive on g4
    _det(CAT, [700, 700, 50, 50], 0.70),  # d7 background: touches nothing
    _det(CAT, [800, 0, 100, 100], 0.30),  # d8 true positive on g6
]
EXPECTED = {
    "true_positive": [0, 5, 7],
    "duplicate": [1],
    "classification": [2],
    "both": [3],
    "localisation": [4],
    "background": [6],
}


def _ap50(gt: dict[str, Any], dets: list[dict[str, Any]]) -> float:
    return float(evaluate_coco(gt, dets, compat="fixed").stats[1])


def test_scene_has_every_error_type_once() -> None:
    b = analyze_errors(SCENE_GT, SCENE_DETS)
    assert b.counts == dict.fromkeys(ERROR_TYPES, 1)
    rec = b.records
    for outcome, rows in EXPECTED.items():
        got = rec.prediction_rows[rec.outcome == OUTCOMES.index(outcome)]
        assert sorted(got.tolist()) == rows, outcome
    assert rec.missed_annotation_rows.tolist() == [4]  # g5
    assert b.num_detections == 8
    assert b.num_ground_truth == 6


def test_records_point_at_the_objects() -> None:
    rec = analyze_errors(SCENE_GT, SCENE_DETS).records
    by_row = dict(zip(rec.prediction_rows.tolist(), rec.annotation_rows.tolist(), strict=True))
    assert by_row == {0: 0, 1: 0, 2: 1, 3: 0, 4: 2, 5: 3, 6: -1, 7: 5}
    iou = dict(zip(rec.prediction_rows.tolist(), rec.iou.tolist(), strict=True))
    assert iou[4] == pytest.approx(1 / 3)
    assert iou[6] == -1.0
    fixable = rec.prediction_rows[rec.fixable].tolist()
    assert sorted(fixable) == [2, 4]
    assert rec.prediction_rows[rec.of_type("classification")].tolist() == [2]


def _fixed_by_hand(error: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    gt, dets = copy.deepcopy(SCENE_GT), copy.deepcopy(SCENE_DETS)
    if error == "classification":
        dets[2]["category_id"] = DOG
    elif error == "localisation":
        dets[4]["bbox"] = [400, 0, 100, 100]
    elif error == "missed":
        gt["annotations"] = [a for a in gt["annotations"] if a["id"] != 5]
    else:
        drop = {"duplicate": 1, "both": 3, "background": 6}[error]
        dets = [d for i, d in enumerate(dets) if i != drop]
    return gt, dets


def test_baseline_is_the_evaluators_ap50() -> None:
    b = analyze_errors(SCENE_GT, SCENE_DETS)
    assert b.ap == pytest.approx(_ap50(SCENE_GT, SCENE_DETS), abs=1e-12)
    per_class = evaluate_coco(SCENE_GT, SCENE_DETS, compat="fixed").per_class
    assert b.class_ap == {c.category_id: c.ap50 for c in per_class}


@pytest.mark.parametrize("error", ERROR_TYPES)
def test_delta_ap_is_the_ap_of_the_hand_fixed_input(error: str) -> None:
    b = analyze_errors(SCENE_GT, SCENE_DETS)
    expected = _ap50(*_fixed_by_hand(error))
    assert b.ap + b.delta_ap[error] == pytest.approx(expected, abs=1e-12)
    assert b.delta_ap[error] > 0  # each planted error costs something in this scene


def test_special_errors() -> None:
    b = analyze_errors(SCENE_GT, SCENE_DETS)
    tp_only = [SCENE_DETS[i] for i in EXPECTED["true_positive"]]
    assert b.ap + b.special_delta_ap["false_positive"] == pytest.approx(
        _ap50(SCENE_GT, tp_only), abs=1e-12
    )
    found = [a for a in SCENE_GT["annotations"] if a["id"] in (1, 4, 6)]
    found_gt = {**SCENE_GT, "annotations": found}
    assert b.ap + b.special_delta_ap["false_negative"] == pytest.approx(
        _ap50(found_gt, SCENE_DETS), abs=1e-12
    )


def test_fixing_every_error_gives_ap_one() -> None:
    b = analyze_errors(SCENE_GT, SCENE_DETS)
    assert b.ap_with_fixed(ERROR_TYPES) == pytest.approx(1.0, abs=1e-15)
    assert b.ap_with_fixed([]) == b.ap
    with pytest.raises(ConfigError, match="unknown error type"):
        b.ap_with_fixed(["typo"])


def test_a_taken_object_cannot_be_claimed() -> None:
    """A wrong-class detection on an object already found is removed, not turned into a hit."""
    gt = _gt([_ann(1, DOG, [0, 0, 100, 100])])
    dets = [_det(DOG, [0, 0, 100, 100], 0.5), _det(CAT, [0, 0, 100, 100], 0.9)]
    b = analyze_errors(gt, dets)
    assert b.counts["classification"] == 1
    assert not b.records.fixable.any()
    assert b.counts["missed"] == 0
    assert b.ap + b.delta_ap["classification"] == pytest.approx(_ap50(gt, dets[:1]))


def test_the_best_scoring_claimant_wins() -> None:
    gt = _gt([_ann(1, DOG, [0, 0, 100, 100])])
    dets = [
        _det(CAT, [0, 0, 100, 100], 0.6),  # classification
        _det(DOG, [60, 0, 100, 100], 0.8),  # localisation: IoU 40/160 = 0.25
    ]
    b = analyze_errors(gt, dets)
    assert b.counts["classification"] == b.counts["localisation"] == 1
    assert b.records.prediction_rows[b.records.fixable].tolist() == [1]  # the 0.8 one
    # fixing classification alone only removes the loser (TIDE's shared BestGTMatch)
    assert b.ap + b.delta_ap["classification"] == pytest.approx(_ap50(gt, dets[1:]))
    assert b.counts["missed"] == 0


def test_crowd_regions_and_images_without_ground_truth() -> None:
    gt = _gt([_ann(1, CAT, [0, 0, 100, 100]), _ann(2, CAT, [300, 300, 200, 200], crowd=1)], 2)
    dets = [
        _det(CAT, [0, 0, 100, 100], 0.9),
        _det(CAT, [320, 320, 50, 50], 0.8),  # inside the crowd region: ignored
        _det(DOG, [0, 0, 100, 100], 0.7, image_id=2),  # an image without objects
    ]
    b = analyze_errors(gt, dets)
    outcomes = [OUTCOMES[o] for o in b.records.outcome.tolist()]
    # the detection on the crowd region is not in the AP, but gets a type (as tidecv 1.0.1)
    assert outcomes == ["true_positive", "background", "background"]
    assert b.records.ignored.tolist() == [False, True, False]
    assert b.num_ground_truth == 1
    assert b.ap == pytest.approx(1.0, abs=1e-15)  # pycocotools' 1 / (1 + eps) precision
    assert b.delta_ap["background"] == 0.0  # removing the ignored one changes nothing


def test_an_ignored_detection_can_be_the_one_that_fixes_an_object() -> None:
    crowd = _ann(2, CAT, [0, 0, 400, 400], crowd=1)
    gt = _gt([_ann(1, CAT, [100, 100, 100, 100]), crowd])
    dets = [_det(CAT, [140, 100, 100, 100], 0.9)]  # inside the crowd: ignored; IoU 0.43
    b = analyze_errors(gt, dets)
    assert b.records.ignored.tolist() == [True]
    assert b.counts["localisation"] == 1
    assert b.counts["missed"] == 0  # an error points at it
    assert b.ap == 0.0
    assert b.delta_ap["localisation"] == pytest.approx(1.0, abs=1e-15)


def test_empty_inputs() -> None:
    nothing_found = analyze_errors(SCENE_GT, [])
    assert nothing_found.counts["missed"] == 6
    assert nothing_found.ap == 0.0
    assert math.isnan(nothing_found.delta_ap["missed"])  # no ground truth left to score
    assert nothing_found.to_dict()["delta_ap"]["missed"] is None
    no_objects = analyze_errors(_gt([]), SCENE_DETS)
    assert no_objects.counts["background"] == 8
    assert no_objects.to_dict()["ap"] is None
    assert analyze_errors(_gt([]), []).counts == dict.fromkeys(ERROR_TYPES, 0)
    assert confusion_matrix(SCENE_GT, []).counts[3].tolist() == [3, 2, 1, 0]
    assert confusion_matrix(_gt([]), SCENE_DETS).counts[:, 3].tolist() == [6, 2, 0, 0]


def test_thresholds_are_checked() -> None:
    with pytest.raises(ConfigError, match="bg_iou"):
        analyze_errors(SCENE_GT, SCENE_DETS, bg_iou=0.6)
    with pytest.raises(ConfigError, match="fg_iou"):
        analyze_errors(SCENE_GT, SCENE_DETS, fg_iou=0.0)


def test_to_dict_is_json_and_summary_names_every_type() -> None:
    b = analyze_errors(SCENE_GT, SCENE_DETS)
    data = json.loads(json.dumps(b.to_dict(), allow_nan=False))
    assert data["counts"] == dict.fromkeys(ERROR_TYPES, 1)
    assert set(data["special_delta_ap"]) == set(SPECIAL_ERROR_TYPES)
    assert [c["name"] for c in data["per_class"]] == ["cat", "dog", "fox"]
    assert data["per_class"][2]["counts"]["missed"] == 1
    text = b.summary()
    for short in ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss", "FalsePos", "FalseNeg"):
        assert short in text


def _random_scene(seed: int) -> tuple[Any, Predictions]:
    ds = make_sequential_dataset(num_sequences=3, frames_per_sequence=20, seed=seed)
    rng = np.random.default_rng(seed)
    ann = ds.annotations
    n = len(ann)
    boxes = ann.boxes.copy()
    boxes[:, :2] += rng.normal(0, 4, (n, 2))
    cats = np.where(rng.random(n) < 0.15, rng.choice(ds.category_ids, n), ann.category_ids)
    m = 80
    extra = np.c_[rng.uniform(0, 300, (m, 2)), rng.uniform(5, 40, (m, 2))]
    preds = Predictions.build(
        np.r_[ds.images.ids[ann.image_index], rng.choice(ds.images.ids, m)],
        np.r_[cats, rng.choice(ds.category_ids, m)],
        np.r_[boxes, extra],
        np.round(rng.random(n + m), 2),  # rounded: plenty of score ties
    )
    return ds, preds


@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
def test_random_scenes(seed: int) -> None:
    ds, preds = _random_scene(seed)
    b = analyze_errors(ds, preds)
    per_class = evaluate_coco(ds, preds, compat="fixed").per_class
    assert b.class_ap == {c.category_id: c.ap50 for c in per_class if c.ap50 >= 0}
    assert all(v >= 0 for v in b.delta_ap.values()), b.delta_ap
    assert all(v >= 0 for v in b.special_delta_ap.values())
    assert b.ap_with_fixed(ERROR_TYPES) == pytest.approx(1.0, abs=1e-15)
    outcomes = b.records.outcome
    assert outcomes.size == b.num_detections
    total = sum(b.counts[t] for t in ERROR_TYPES if t != "missed")
    assert total + int((outcomes == 0).sum()) == b.num_detections
    assert not (b.records.ignored & (outcomes == 0)).any()


def test_segmentation_masks() -> None:
    square = [[0.0, 0.0, 0.0, 100.0, 100.0, 100.0, 100.0, 0.0]]
    gt = _gt([{**_ann(1, CAT, [0, 0, 100, 100]), "segmentation": square}])
    half = [[0.0, 0.0, 0.0, 100.0, 40.0, 100.0, 40.0, 0.0]]  # IoU 0.4 with the square
    dets = [{**_det(CAT, [0, 0, 40, 100], 0.9), "segmentation": half}]
    b = analyze_errors(gt, dets, iou_type="segm")
    assert b.counts["localisation"] == 1
    assert b.records.iou[0] == pytest.approx(0.4, abs=0.02)


# --------------------------------------------------------------------------- confusion matrix


def test_confusion_matrix_counts() -> None:
    cm = confusion_matrix(SCENE_GT, SCENE_DETS)
    assert cm.labels == ("cat", "dog", "fox", "background")
    expected = [
        [2, 1, 0, 3],  # cat: d1, d8 found cats; d3 a dog; d2, d5 and d7 nothing
        [0, 1, 0, 1],  # dog: d6 a dog; d4 nothing
        [0, 0, 0, 0],  # fox: no detections
        [1, 0, 1, 0],  # nobody found g3 (cat) and g5 (fox)
    ]
    assert cm.counts.tolist() == expected
    objects = np.bincount([a["category_id"] - 1 for a in SCENE_GT["annotations"]])
    assert cm.counts[:, :3].sum(axis=0).tolist() == objects.tolist()


def test_confusion_matrix_min_score_and_normalised() -> None:
    cm = confusion_matrix(SCENE_GT, SCENE_DETS, min_score=0.5)
    assert cm.counts[0, 0] == 1  # d8 (0.3) is gone ...
    assert cm.counts[3, 0] == 2  # ... so g6 joins g3 among the cats nobody found
    by_gt = cm.normalized(by="gt")
    assert by_gt[:, :3].sum(axis=0) == pytest.approx([1.0, 1.0, 1.0])
    assert cm.normalized(by="pred")[:3].sum(axis=1) == pytest.approx([1.0, 1.0, 0.0])  # no fox
    with pytest.raises(ConfigError):
        cm.normalized(by="rows")
    data = json.loads(json.dumps(cm.to_dict()))
    assert data["labels"][-1] == "background"


def test_confusion_matrix_one_object_per_claim() -> None:
    gt = _gt([_ann(1, DOG, [0, 0, 100, 100])])
    dets = [_det(CAT, [0, 0, 100, 100], 0.6), _det(FOX, [0, 0, 100, 100], 0.9)]
    cm = confusion_matrix(gt, dets)
    assert cm.counts[2, 1] == 1  # the fox (0.9) claims the dog
    assert cm.counts[0, 3] == 1  # the cat finds nothing left
    assert cm.counts[3].sum() == 0


@pytest.mark.parametrize("module", [errors_module, confusion_module], ids=["errors", "confusion"])
def test_module_doctests(module: Any) -> None:
    assert doctest.testmod(module).failed == 0
