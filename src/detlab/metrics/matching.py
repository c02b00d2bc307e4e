"""Greedy matching of detections to ground truth, exactly as pycocotools' ``evaluateImg``.

For every group, area range and IoU threshold, detections (best score first) each take the
still-free ground truth with the highest IoU at or above the threshold; ties go to the later
ground truth (pycocotools replaces its best on ``>=``). Regular ground truth is searched first,
ignored ground truth (crowd, or outside the area range) only when no regular one matched. A
crowd region stays free, so many detections may match it.

Two implementations give identical output: a pure-Python reference and a numba-compiled kernel
(used when numba is installed; it is imported lazily and cached on disk). Both write, per
``(area, threshold, detection)``, the matched ground-truth row or -1.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import numpy.typing as npt

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray
from detlab.core.ids import IntArray

__all__ = ["match_groups", "match_groups_python", "numba_matcher"]

MatchArray = npt.NDArray[np.int32]
Matcher = Callable[..., None]


def effective_thresholds(iou_thresholds: FloatArray) -> FloatArray:
    """``min(t, 1 - 1e-10)`` per threshold, as pycocotools starts each search."""
    return np.array([min(float(t), 1 - 1e-10) for t in iou_thresholds], dtype=np.float64)


def _match_group_python(
    block: list[list[float]],
    ignore: list[bool],
    crowd: list[bool],
    thresholds: list[float],
) -> list[list[int]]:
    """Per threshold, the matched local ground-truth index of each detection (-1: none)."""
    regular = [j for j, flag in enumerate(ignore) if not flag]
    ignored = [j for j, flag in enumerate(ignore) if flag]
    result = []
    for start in thresholds:
        taken = [False] * len(ignore)
        row_out = []
        for row in block:
            best, m = start, -1
            for candidates in (regular, ignored):
                if m > -1:
                    break
                for j in candidates:
                    if (taken[j] and not crowd[j]) or row[j] < best:
                        continue
                    best, m = row[j], j
            if m > -1:
                taken[m] = True
            row_out.append(m)
        result.append(row_out)
    return result


def match_groups_python(
    ious: FloatArray,
    pair_start: IntArray,
    gt_start: IntArray,
    dt_start: IntArray,
    gt_ignore: BoolArray,
    crowd: BoolArray,
    thresholds: FloatArray,
) -> MatchArray:
    """Reference matcher: ``(A, T, D) int32`` matched ground-truth rows, -1 where unmatched."""
    n_area, n_thr, n_det = gt_ignore.shape[0], thresholds.size, int(dt_start[-1])
    out = np.full((n_area, n_thr, n_det), -1, dtype=np.int32)
    thr = thresholds.tolist()
    for g in range(gt_start.size - 1):
        g0, g1, d0, d1 = (
            int(gt_start[g]),
            int(gt_start[g + 1]),
            int(dt_start[g]),
            int(dt_start[g + 1]),
        )
        if g0 == g1 or d0 == d1:
            continue
        block = ious[pair_start[g] : pair_start[g + 1]].reshape(d1 - d0, g1 - g0).tolist()
        crowd_g = crowd[g0:g1].tolist()
        for a in range(n_area):
            local = np.array(_match_group_python(block, gt_ignore[a, g0:g1].tolist(), crowd_g, thr))
            out[a, :, d0:d1] = np.where(local >= 0, local + g0, -1)
    return out


def _match_kernel(
    ious: FloatArray,
    pair_start: IntArray,
    gt_start: IntArray,
    dt_start: IntArray,
    gt_ignore: BoolArray,
    crowd: BoolArray,
    thresholds: FloatArray,
    out: MatchArray,
) -> None:  # pragma: no cover - runs compiled; the Python reference is tested against it
    """The same loops over flat arrays, written for numba (plain Python also runs it)."""
    taken = np.zeros(gt_ignore.shape[1], dtype=np.bool_)
    for g in range(gt_start.shape[0] - 1):
        g0, g1, d0, d1 = gt_start[g], gt_start[g + 1], dt_start[g], dt_start[g + 1]
        if g1 == g0 or d1 == d0:
            continue
        for a in range(gt_ignore.shape[0]):
            for t in range(thresholds.shape[0]):
                taken[g0:g1] = False
                for d in range(d0, d1):
                    base = pair_start[g] + (d - d0) * (g1 - g0) - g0
                    best, m = thresholds[t], -1
                    for want in (False, True):
                        if m > -1:
                            break
                        for j in range(g0, g1):
                            if gt_ignore[a, j] != want or (taken[j] and not crowd[j]):
                                continue
                            if ious[base + j] < best:
                                continue
                            best, m = ious[base + j], j
                    if m > -1:
                        taken[m] = True
                    out[a, t, d] = m


@cache
def numba_matcher() -> Matcher | None:
    """The kernel compiled by numba (cached on disk), or None when numba is not installed."""
    try:
        import numba
    except ImportError:
        return None
    compiled: Matcher = numba.njit(cache=True, nogil=True)(_match_kernel)
    return compiled


def match_groups(
    ious: FloatArray,
    pair_start: IntArray,
    gt_start: IntArray,
    dt_start: IntArray,
    gt_ignore: BoolArray,
    crowd: BoolArray,
    thresholds: FloatArray,
    *,
    compiled: bool = True,
) -> MatchArray:
    """Match every group; the compiled kernel when available, else the Python reference."""
    kernel = numba_matcher() if compiled else None
    if kernel is None:
        return match_groups_python(
            ious, pair_start, gt_start, dt_start, gt_ignore, crowd, thresholds
        )
    out = np.full((gt_ignore.shape[0], thresholds.size, int(dt_start[-1])), -1, dtype=np.int32)
    kernel(
        np.ascontiguousarray(ious, dtype=np.float64),
        pair_start.astype(np.int64),
        gt_start.astype(np.int64),
        dt_start.astype(np.int64),
        np.ascontiguousarray(gt_ignore, dtype=np.bool_),
        np.ascontiguousarray(crowd, dtype=np.bool_),
        thresholds.astype(np.float64),
        out,
    )
    return out
