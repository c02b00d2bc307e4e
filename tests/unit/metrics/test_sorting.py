"""The radix-based sorts and the recall-threshold counts agree with their NumPy definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detlab.metrics.accumulate import recall_counts
from detlab.metrics.params import coco_recall_thresholds
from detlab.metrics.sorting import descending_ranks, sorted_unique, stable_argsort


@pytest.mark.parametrize("bound", [1, 200, 70_000, 5_000_000, 2**40], ids=lambda b: f"bound{b}")
def test_stable_argsort_equals_numpy_stable_sort(bound: int) -> None:
    rng = np.random.default_rng(bound)
    keys = rng.integers(0, bound, 5000).astype(np.int64)
    assert np.array_equal(stable_argsort(keys, bound), np.argsort(keys, kind="stable"))


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.sampled_from([0.0, -0.0, 0.25, 0.5, 0.9, 1.0, np.nan]), max_size=40))
def test_descending_ranks_sort_like_negated_values(values: list[float]) -> None:
    array = np.array(values, dtype=np.float64)
    ranks = descending_ranks(array)
    order = stable_argsort(ranks, int(ranks.max(initial=-1)) + 1)
    assert np.array_equal(order, np.argsort(-array, kind="stable"))


def test_sorted_unique_equals_numpy_unique() -> None:
    values = np.random.default_rng(0).integers(-50, 50, 1000)
    assert np.array_equal(sorted_unique(values), np.unique(values))
    assert sorted_unique(np.array([], dtype=np.int64)).size == 0


@settings(max_examples=60, deadline=None)
@given(npig=st.lists(st.integers(0, 100_000), min_size=1, max_size=20))
def test_recall_counts_are_the_fewest_true_positives(npig: list[int]) -> None:
    totals = np.array(npig, dtype=np.int64).reshape(-1, 1)
    thresholds = coco_recall_thresholds()
    counts = recall_counts(totals, thresholds)[:, 0, :]
    for total, row in zip(npig, counts, strict=True):
        if total == 0:
            continue
        c = row.astype(np.float64)
        assert (c / total >= thresholds).all()  # pycocotools' rc = tp / npig reaches r ...
        assert ((row == 0) | ((c - 1) / total < thresholds)).all()  # ... and not one earlier
