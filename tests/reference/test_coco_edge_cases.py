"""The edge-case matrix: each case runs detlab and pycocotools on the same input.

Cases that trigger a pycocotools quirk must also raise detlab's DetlabWarning.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from detlab.data.formats.coco import parse_coco
from detlab.errors import DetlabWarning
from detlab.metrics import evaluate_coco
from tests.reference.cocoapi import assert_bit_identical, run_cocoeval
from tests.reference.scenes import random_scene

Scene = tuple[dict[str, Any], list[dict[str, Any]]]


def base(seed: int = 7, **kw: Any) -> Scene:
    options: dict[str, Any] = {"n_images": 6, "n_categories": 3, "max_gt": 6, "max_dets": 12}
    options.update(kw)
    return random_scene(seed, **options)


def no_predictions() -> Scene:
    gt, _ = base()
    return gt, []


def no_annotations() -> Scene:
    gt, dets = base()
    gt["annotations"] = []
    return gt, dets


def images_without_gt() -> Scene:
    gt, dets = base()
    empty = {a["image_id"] for a in gt["annotations"][:3]}
    gt["annotations"] = [a for a in gt["annotations"] if a["image_id"] not in empty]
    return gt, dets


def category_without_gt() -> Scene:
    gt, dets = base()
    gt["categories"].append({"id": 500, "name": "ghost"})
    dets += [dict(d, category_id=500) for d in dets[:5]]
    return gt, dets


def many_crowds() -> Scene:
    return base(crowd_rate=0.5)


def zero_area_boxes() -> Scene:
    gt, dets = base(integer_boxes=True)
    for ann in gt["annotations"][::3]:
        ann["bbox"][2] = 0.0
        ann["area"] = 0.0
    for det in dets[::4]:
        det["bbox"][3] = 0.0
    return gt, dets


def all_scores_tied() -> Scene:
    return base(score_levels=1, max_dets=20)


def integer_boxes_exact_ious() -> Scene:
    gt, dets = base(integer_boxes=True)
    # A detection sharing half of a box's width: IoU exactly 0.5 at an exact threshold.
    for ann in gt["annotations"][:4]:
        x, y, w, h = ann["bbox"]
        dets.append(
            {
                "image_id": ann["image_id"],
                "category_id": ann["category_id"],
                "bbox": [x, y, w / 2, h],
                "score": 0.5,
            }
        )
    return gt, dets


def predictions_of_unknown_category() -> Scene:
    gt, dets = base()
    dets += [dict(d, category_id=999) for d in dets[:3]]
    return gt, dets


def annotation_id_zero() -> Scene:
    gt, dets = base(seed=3)
    gt["annotations"][0]["id"] = 0
    gt["annotations"][0]["iscrowd"] = 0
    first = gt["annotations"][0]
    dets.append(
        {
            "image_id": first["image_id"],
            "category_id": first["category_id"],
            "bbox": list(first["bbox"]),
            "score": 0.99,
        }
    )
    return gt, dets


def duplicate_annotation_ids() -> Scene:
    gt, dets = base(seed=5)
    for i, ann in enumerate(gt["annotations"]):
        ann["id"] = i // 2 + 1
    return gt, dets


def ignore_flag() -> Scene:
    gt, dets = base(seed=11)
    for ann in gt["annotations"][::2]:
        ann["ignore"] = 1
    return gt, dets


Case = tuple[Callable[[], Scene], dict[str, Any], bool]

#: id -> (scene, options, whether a DetlabWarning is expected)
CASES: dict[str, Case] = {
    "empty-predictions": (no_predictions, {}, False),
    "empty-gt-annotations": (no_annotations, {}, False),
    "images-without-gt": (images_without_gt, {}, False),
    "category-without-gt": (category_without_gt, {}, False),
    "crowd": (many_crowds, {}, False),
    "zero-area-boxes": (zero_area_boxes, {}, False),
    "score-ties": (all_scores_tied, {}, False),
    "exact-iou-ties": (integer_boxes_exact_ious, {}, False),
    "unknown-prediction-category": (predictions_of_unknown_category, {}, True),
    "annotation-id-0": (annotation_id_zero, {}, True),
    "ignore-flag-overwritten": (ignore_flag, {}, True),
    "max-dets-1-10-100-shuffled": (base, {"max_dets": [100, 1, 10]}, False),
    "max-dets-1-10-300": (base, {"max_dets": [1, 10, 300]}, True),
    "max-dets-2-5-8-300": (base, {"max_dets": [2, 5, 8, 300]}, True),
    "max-dets-0-1-100": (base, {"max_dets": [0, 1, 100]}, False),
    "iou-thresholds-custom": (base, {"iou_thresholds": [0.1, 0.5, 0.75, 1.0]}, False),
    "area-ranges-custom": (
        base,
        {
            "area_ranges": {
                "all": (0, 1e10),
                "small": (0, 100),
                "medium": (100, 2000),
                "large": (2000, 1e10),
                "tiny": (0, 16),
            }
        },
        False,
    ),
    "area-ranges-without-labels": (
        base,
        {"area_ranges": {"near": (0, 500), "far": (500, 1e9)}},
        False,
    ),
}


def _category_subset() -> tuple[Scene, dict[str, Any]]:
    gt, dets = base()
    return (gt, dets), {"category_ids": [c["id"] for c in gt["categories"][:2]]}


def _image_subset() -> tuple[Scene, dict[str, Any]]:
    gt, dets = base()
    return (gt, dets), {"image_ids": [i["id"] for i in gt["images"][::2]] + [123456]}


def _oracle_options(options: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, list) else v for k, v in options.items()}


def _check(
    scene: Scene, options: dict[str, Any], expect_warning: bool, gt_input: Any = None
) -> None:
    gt, dets = scene
    summarize = "max_dets" not in options or len(options["max_dets"]) >= 3
    oracle = run_cocoeval(
        copy.deepcopy(gt), copy.deepcopy(dets), summarize=summarize, **_oracle_options(options)
    )
    if expect_warning:
        with pytest.warns(DetlabWarning):
            result = evaluate_coco(gt if gt_input is None else gt_input, dets, **options)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = evaluate_coco(gt, dets, **options)
    assert_bit_identical(result, oracle, summary=summarize)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_edge_case_matches_pycocotools(case: str) -> None:
    make, options, expect_warning = CASES[case]
    _check(make(), options, expect_warning)


@pytest.mark.parametrize(
    "make", [_category_subset, _image_subset], ids=["category-ids", "image-ids"]
)
def test_subsets_match_pycocotools(make: Callable[[], tuple[Scene, dict[str, Any]]]) -> None:
    scene, options = make()
    _check(scene, options, False)


def test_duplicate_annotation_ids_match_pycocotools() -> None:
    """The reader rejects repeated ids, so the Dataset gets them after parsing."""
    gt, dets = duplicate_annotation_ids()
    unique = copy.deepcopy(gt)
    for i, ann in enumerate(unique["annotations"]):
        ann["id"] = i + 1
    ds = parse_coco(unique)
    ds = dataclasses.replace(
        ds,
        annotations=dataclasses.replace(
            ds.annotations, ids=np.array([a["id"] for a in gt["annotations"]], dtype=np.int64)
        ),
    )
    _check((gt, dets), {}, True, gt_input=ds)
