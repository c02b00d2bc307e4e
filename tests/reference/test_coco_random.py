"""Random scenes: detlab's COCO arrays are bit-identical to pycocotools' (both matchers)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detlab.metrics.engine import run_coco
from detlab.metrics.inputs import load_ground_truth, load_predictions
from detlab.metrics.params import COCOParams
from tests.reference.cocoapi import assert_bit_identical, run_cocoeval
from tests.reference.scenes import random_scene

scene_options = st.fixed_dictionaries(
    {
        "n_images": st.integers(1, 8),
        "n_categories": st.integers(1, 4),
        "max_gt": st.integers(0, 8),
        "max_dets": st.integers(0, 16),
        "crowd_rate": st.sampled_from([0.0, 0.1, 0.4]),
        "score_levels": st.sampled_from([1, 3, 10, 1000]),
        "integer_boxes": st.booleans(),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), options=scene_options)
def test_random_scene_matches_pycocotools(seed: int, options: dict) -> None:
    gt, dets = random_scene(seed, **options)
    oracle = run_cocoeval(gt, dets)
    for compiled in (True, False):
        result = run_coco(
            load_ground_truth(gt), load_predictions(dets), COCOParams.build(), compiled=compiled
        )
        assert_bit_identical(result, oracle)


@pytest.mark.parametrize("seed", range(3), ids=lambda s: f"seed{s}")
def test_larger_scene_matches_pycocotools(seed: int) -> None:
    gt, dets = random_scene(
        seed, n_images=40, n_categories=6, max_gt=12, max_dets=60, crowd_rate=0.05
    )
    oracle = run_cocoeval(gt, dets)
    result = run_coco(load_ground_truth(gt), load_predictions(dets), COCOParams.build())
    assert_bit_identical(result, oracle)
