"""COCOEvaluator: batches, pickled halves and targets all give the one-shot result."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from detlab.data.formats.coco import parse_coco
from detlab.errors import EvaluationError
from detlab.metrics import COCOEvaluator, evaluate_coco
from tests.reference.scenes import random_scene


def _same(a: object, b: object) -> None:
    for name in ("precision", "recall", "scores", "stats"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_batches_equal_single_call() -> None:
    gt, dets = random_scene(1, n_images=10, max_dets=20)
    ev = COCOEvaluator(gt)
    for start in range(0, len(dets), 7):
        ev.update(dets[start : start + 7])
    _same(ev.compute(), evaluate_coco(gt, dets))


def test_pickled_halves_merge_into_the_whole() -> None:
    gt, dets = random_scene(2, n_images=10, max_dets=20)
    images = sorted({d["image_id"] for d in dets})
    first = set(images[: len(images) // 2])
    left, right = COCOEvaluator(gt), COCOEvaluator(gt)
    left.update([d for d in dets if d["image_id"] in first])
    right.update([d for d in dets if d["image_id"] not in first])
    restored = pickle.loads(pickle.dumps(right))
    left.merge(restored)
    _same(left.compute(), evaluate_coco(gt, dets))


def test_targets_per_batch_equal_single_call() -> None:
    gt, dets = random_scene(3, n_images=8, max_dets=10)
    ds = parse_coco(gt)
    ev = COCOEvaluator()
    for part in (range(4), range(4, 8)):
        sub = ds.subset(np.array(part))
        ids = set(sub.images.ids.tolist())
        ev.update([d for d in dets if d["image_id"] in ids], targets=sub)
    _same(ev.compute(), evaluate_coco(gt, dets))


def test_reset_forgets_batches() -> None:
    gt, dets = random_scene(4)
    ev = COCOEvaluator(gt)
    ev.update(dets)
    ev.reset()
    ev.update(dets[:3])
    _same(ev.compute(), evaluate_coco(gt, dets[:3]))


def test_merge_refuses_other_parameters() -> None:
    gt, _ = random_scene(5)
    with pytest.raises(EvaluationError, match="parameters"):
        COCOEvaluator(gt).merge(COCOEvaluator(gt, max_dets=(1, 10, 50)))


def test_update_needs_exactly_one_ground_truth() -> None:
    gt, dets = random_scene(6)
    with pytest.raises(EvaluationError, match="exactly one"):
        COCOEvaluator(gt).update(dets, targets=gt)
