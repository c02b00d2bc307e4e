"""The compiled accumulation loop and the NumPy formulation give identical arrays.

The oracle tests (``tests/reference``) hold the default path, the compiled one when it is built,
to pycocotools; these hold the NumPy path to the compiled one on random scenes, with every
``maxDets`` and area-range shape the C loop handles differently (one value, several, more
than eight; more area ranges than one match-code chunk holds).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detlab.errors import DetlabWarning
from detlab.metrics import accumulate as accumulate_module
from detlab.metrics import engine
from detlab.metrics.inputs import load_ground_truth, load_predictions
from detlab.metrics.params import COCOParams
from tests.reference.scenes import random_scene

pytestmark = pytest.mark.skipif(
    not accumulate_module.compiled_available(),
    reason="the C extension is not built (no compiler)",
)

FIELDS = ("precision", "recall", "scores")
SEVEN_RANGES = {f"r{i}": (i * 300.0, (i + 1) * 900.0) for i in range(6)} | {"all": (0, 1e10)}


def _both(monkeypatch: pytest.MonkeyPatch, gt: Any, dets: Any, params: COCOParams) -> int:
    """Evaluate once; every accumulation runs both ways and must agree. Returns the count."""
    seen = []
    original = accumulate_module.accumulate

    def checked(*args: Any) -> accumulate_module.Accumulated:
        compiled = original(*args, compiled=True)
        plain = original(*args, compiled=False)
        for field in FIELDS:
            assert np.array_equal(getattr(compiled, field), getattr(plain, field)), field
        seen.append(True)
        return compiled

    monkeypatch.setattr(engine, "accumulate", checked)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DetlabWarning)  # quirks are wanted here
        engine.run_coco(load_ground_truth(gt), load_predictions(dets), params)
    return len(seen)


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
param_options = st.fixed_dictionaries(
    {
        "max_dets": st.sampled_from([(1, 10, 100), (1, 3), (2,), (1, 2, 3, 4, 5, 6, 7, 8, 9)]),
        "area_ranges": st.sampled_from([None, SEVEN_RANGES]),
        "compat": st.sampled_from(["pycocotools", "fixed"]),
    }
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**32 - 1), scene=scene_options, options=param_options)
def test_compiled_equals_numpy_on_random_scenes(
    monkeypatch: pytest.MonkeyPatch, seed: int, scene: dict[str, Any], options: dict[str, Any]
) -> None:
    gt, dets = random_scene(seed, **scene)
    if options["compat"] == "pycocotools" and gt["annotations"]:
        gt["annotations"][0]["id"] = 0  # the id-0 quirk: void ground truth
    assert _both(monkeypatch, gt, dets, COCOParams.build(**options)) == 1


@pytest.mark.parametrize("seed", range(3), ids=lambda s: f"seed{s}")
def test_compiled_equals_numpy_on_a_larger_scene(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    gt, dets = random_scene(
        seed, n_images=60, n_categories=8, max_gt=12, max_dets=80, crowd_rate=0.05
    )
    assert _both(monkeypatch, gt, dets, COCOParams.build()) == 1


def test_compiled_equals_numpy_without_detections(monkeypatch: pytest.MonkeyPatch) -> None:
    gt, _ = random_scene(1, n_images=3, n_categories=2, max_gt=4)
    assert _both(monkeypatch, gt, [], COCOParams.build()) == 1


def test_compiled_rejects_inconsistent_sizes() -> None:
    from detlab.metrics import _accumulate

    status = np.zeros((2, 3), dtype=np.int8)
    keep = np.ones(3, dtype=np.uint8)
    segments = np.array([0, 3], dtype=np.int64)
    scores = np.zeros(3)
    npig = np.ones(1, dtype=np.int64)
    counts = np.ones((1, 4), dtype=np.int64)
    out = np.zeros((1, 2, 1, 4)), np.zeros((1, 2, 1, 4)), np.zeros((1, 2, 1))
    _accumulate.fill_area(status, 2, keep, 1, segments, scores, npig, counts, *out)
    with pytest.raises(ValueError, match="do not agree"):
        _accumulate.fill_area(status, 3, keep, 1, segments, scores, npig, counts, *out)
    bad = np.array([0, 4], dtype=np.int64)
    with pytest.raises(ValueError, match="do not agree"):
        _accumulate.fill_area(status, 2, keep, 1, bad, scores, npig, counts, *out)
