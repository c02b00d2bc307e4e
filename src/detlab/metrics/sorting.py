"""Stable argsort of non-negative integer keys in linear time.

NumPy's stable argsort is a radix sort for 8- and 16-bit integers and a merge sort for wider
ones, about twenty times slower on a few hundred thousand keys. Keys below ``2**32`` are sorted
here by two 16-bit digits, least significant first: each pass is stable, so the result is the
order ``np.argsort(keys, kind="stable")`` gives.

Float keys are first turned into integer ranks (:func:`descending_ranks`), which needs only an
unstable sort, the fast kind: ties get equal ranks whatever order that sort left them in.

>>> stable_argsort(np.array([70_000, 3, 70_000, 1]), bound=70_001).tolist()
[3, 1, 0, 2]
>>> descending_ranks(np.array([0.5, 0.9, 0.5, np.nan])).tolist()
[1, 0, 1, 2]
"""

from __future__ import annotations

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.ids import IntArray

__all__ = ["descending_ranks", "sorted_unique", "stable_argsort"]

_DIGIT = 16
_DIGIT_MASK = (1 << _DIGIT) - 1


def stable_argsort(keys: IntArray, bound: int) -> IntArray:
    """The stable sorting order of ``keys``, all of them in ``[0, bound)``."""
    order: IntArray
    if bound <= 1 << 8:
        order = np.argsort(keys.astype(np.uint8), kind="stable")
    elif bound <= 1 << _DIGIT:
        order = np.argsort(keys.astype(np.uint16), kind="stable")
    elif bound <= 1 << (2 * _DIGIT):
        low = np.argsort((keys & _DIGIT_MASK).astype(np.uint16), kind="stable")
        high = (keys[low] >> _DIGIT).astype(np.uint16)
        order = low[np.argsort(high, kind="stable")]
    else:
        order = np.argsort(keys, kind="stable")
    return order


def descending_ranks(values: FloatArray) -> IntArray:
    """Dense ranks, 0 for the largest value; equal values (and all NaNs) share a rank.

    Sorting by these ranks stably is sorting ``-values`` stably (NaN last, as NumPy sorts).
    """
    order = np.argsort(-values)
    ordered = values[order]
    change = ordered[1:] != ordered[:-1]
    change &= ~(np.isnan(ordered[1:]) & np.isnan(ordered[:-1]))
    ranks = np.empty(values.size, dtype=np.int64)
    ranks[order] = np.concatenate(
        [np.zeros(min(values.size, 1), dtype=np.int64), np.cumsum(change)]
    )
    return ranks


def sorted_unique(values: IntArray, *, sorted_runs: bool = False) -> IntArray:
    """``np.unique`` of integers by sorting (whose first call also imports ``numpy.ma``).

    ``sorted_runs``: ``values`` are a few ascending runs back to back (sorted columns
    concatenated); a stable sort (timsort for 64-bit integers) then only merges them.
    """
    flat = np.asarray(values, dtype=np.int64).reshape(-1)
    ordered = np.sort(flat, kind="stable") if sorted_runs else np.sort(flat)
    if ordered.size == 0:
        return ordered
    distinct = np.ones(ordered.size, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    return ordered[distinct]
