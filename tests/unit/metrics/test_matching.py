"""The vectorised matcher and the Python reference agree; grouped IoU equals the mask API's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detlab.metrics.iou import bbox_iou, grouped_bbox_iou, pair_offsets
from detlab.metrics.matching import (
    effective_thresholds,
    match_groups,
    match_groups_python,
)
from detlab.metrics.params import coco_iou_thresholds

boxes = st.lists(
    st.tuples(st.floats(0, 100), st.floats(0, 100), st.floats(0, 60), st.floats(0, 60)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(dt=boxes, gt=boxes, crowd_bits=st.integers(0, 2**12 - 1))
def test_bbox_iou_bit_identical_to_mask_api(dt: list, gt: list, crowd_bits: int) -> None:
    from pycocotools import mask as mask_api

    crowd = np.array([(crowd_bits >> i) & 1 for i in range(len(gt))], dtype=bool)
    theirs = mask_api.iou([list(b) for b in dt], [list(b) for b in gt], crowd.astype(int).tolist())
    ours = bbox_iou(np.array(dt), np.array(gt), crowd)
    assert np.array_equal(ours, np.asarray(theirs))


def _random_groups(rng: np.random.Generator, max_gt: int, max_det: int, span: int) -> tuple:
    n_groups = int(rng.integers(1, 6))
    ng, nd = rng.integers(0, max_gt + 1, n_groups), rng.integers(0, max_det + 1, n_groups)
    gt_start = np.concatenate(([0], np.cumsum(ng))).astype(np.int64)
    dt_start = np.concatenate(([0], np.cumsum(nd))).astype(np.int64)
    gt_boxes = rng.integers(0, span, (int(ng.sum()), 4)).astype(float)
    dt_boxes = rng.integers(0, span, (int(nd.sum()), 4)).astype(float)
    crowd = rng.random(int(ng.sum())) < 0.3
    ious = grouped_bbox_iou(dt_boxes, gt_boxes, crowd, gt_start, dt_start)
    ignore = rng.random((3, int(ng.sum()))) < rng.choice([0.0, 0.3, 1.0])
    return ious, pair_offsets(gt_start, dt_start), gt_start, dt_start, ignore, crowd


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_vectorised_matcher_equals_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Small integer boxes: many equal IoUs, so ties between ground truths are common.
    args = _random_groups(rng, max_gt=6, max_det=8, span=20)
    thresholds = np.array([0.1, 0.5, 0.9])
    assert np.array_equal(match_groups(*args, thresholds), match_groups_python(*args, thresholds))


@pytest.mark.parametrize("seed", range(5), ids=lambda s: f"seed{s}")
def test_vectorised_matcher_equals_reference_on_crowded_groups(seed: int) -> None:
    rng = np.random.default_rng(seed)
    args = _random_groups(rng, max_gt=25, max_det=60, span=12)
    thresholds = effective_thresholds(coco_iou_thresholds())
    assert np.array_equal(match_groups(*args, thresholds), match_groups_python(*args, thresholds))


def test_nan_iou_follows_the_reference() -> None:
    ious = np.array([np.nan, 0.7, 0.2, np.nan])
    args = (
        ious,
        np.array([0, 4]),
        np.array([0, 2]),
        np.array([0, 2]),
        np.zeros((1, 2), dtype=bool),
        np.zeros(2, dtype=bool),
        np.array([0.5]),
    )
    assert np.array_equal(match_groups(*args), match_groups_python(*args))
