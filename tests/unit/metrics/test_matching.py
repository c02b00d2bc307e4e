"""The compiled matcher and the Python reference agree; grouped IoU equals the mask API's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detlab.metrics.iou import bbox_iou, grouped_bbox_iou, pair_offsets
from detlab.metrics.matching import match_groups, match_groups_python, numba_matcher

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


@pytest.mark.skipif(numba_matcher() is None, reason="numba not installed")
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_compiled_matcher_equals_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_groups = int(rng.integers(1, 6))
    ng, nd = rng.integers(0, 6, n_groups), rng.integers(0, 8, n_groups)
    gt_start = np.concatenate(([0], np.cumsum(ng))).astype(np.int64)
    dt_start = np.concatenate(([0], np.cumsum(nd))).astype(np.int64)
    gt_boxes = rng.integers(0, 20, (int(ng.sum()), 4)).astype(float)
    dt_boxes = rng.integers(0, 20, (int(nd.sum()), 4)).astype(float)
    crowd = rng.random(int(ng.sum())) < 0.3
    ious = grouped_bbox_iou(dt_boxes, gt_boxes, crowd, gt_start, dt_start)
    ignore = rng.random((3, int(ng.sum()))) < 0.3
    thresholds = np.array([0.1, 0.5, 0.9])
    args = (ious, pair_offsets(gt_start, dt_start), gt_start, dt_start, ignore, crowd, thresholds)
    assert np.array_equal(match_groups(*args), match_groups_python(*args))
