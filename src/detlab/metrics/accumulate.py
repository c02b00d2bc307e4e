"""Precision, recall and score arrays, as pycocotools' ``accumulate()`` builds them.

The float64 operations are pycocotools' own, in its order: cumulative true and false positive
counts as floats, ``rc = tp / npig``, ``pr = tp / (fp + tp + np.spacing(1))``, the right-to-left
running maximum, and ``np.searchsorted(rc, recThrs, side="left")`` to read precision (and the
score) at each recall threshold; thresholds past the last recall keep 0. Cells with no
non-ignored ground truth stay -1.

What differs is only bookkeeping: each category's detections are sorted once (stable, by
descending score, in image-id order like pycocotools' concatenation), and a smaller ``maxDets``
keeps the subset of that order whose rank inside its image is below it, which is the order
a stable sort of the subset gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray
from detlab.core.ids import IntArray

__all__ = ["Accumulated", "DetectionFlags", "accumulate"]


@dataclass(frozen=True, eq=False)
class DetectionFlags:
    """Per ``(area, threshold, detection)`` true/false positive flags and per-detection facts.

    Detections are in table order: by image, category, then rank inside the group.
    """

    tp: BoolArray  # (A, T, D)
    fp: BoolArray  # (A, T, D)
    scores: FloatArray  # (D,)
    rank: IntArray  # (D,)
    category: IntArray  # (D,) position in the evaluated category ids
    npig: IntArray  # (K, A) non-ignored ground truth per category and area range


@dataclass(frozen=True, eq=False)
class Accumulated:
    precision: FloatArray  # (T, R, K, A, M)
    recall: FloatArray  # (T, K, A, M)
    scores: FloatArray  # (T, R, K, A, M)


def accumulate(
    flags: DetectionFlags, recall_thresholds: FloatArray, max_dets: tuple[int, ...]
) -> Accumulated:
    """Fill the ``[T, R, K, A, M]`` arrays; see the module docstring."""
    n_area, n_thr, _ = flags.tp.shape
    n_cat, n_rec, n_max = flags.npig.shape[0], recall_thresholds.size, len(max_dets)
    out = Accumulated(
        precision=-np.ones((n_thr, n_rec, n_cat, n_area, n_max)),
        recall=-np.ones((n_thr, n_cat, n_area, n_max)),
        scores=-np.ones((n_thr, n_rec, n_cat, n_area, n_max)),
    )
    by_category = np.argsort(flags.category, kind="stable")
    bounds = np.searchsorted(flags.category[by_category], np.arange(n_cat + 1), side="left")
    for k in range(n_cat):
        rows = by_category[bounds[k] : bounds[k + 1]]
        rows = rows[np.argsort(-flags.scores[rows], kind="mergesort")]
        for m, max_det in enumerate(max_dets):
            kept = rows[flags.rank[rows] < max_det]
            for a in range(n_area):
                npig = int(flags.npig[k, a])
                if npig == 0:
                    continue
                _fill_cell(out, flags, kept, npig, recall_thresholds, (k, a, m))
    return out


def _fill_cell(
    out: Accumulated,
    flags: DetectionFlags,
    rows: IntArray,
    npig: int,
    recall_thresholds: FloatArray,
    cell: tuple[int, int, int],
) -> None:
    """One (category, area, maxDets) cell for every IoU threshold at once."""
    k, a, m = cell
    n_det = rows.size
    tp_sum = np.cumsum(flags.tp[a][:, rows], axis=1).astype(dtype=float)
    fp_sum = np.cumsum(flags.fp[a][:, rows], axis=1).astype(dtype=float)
    rc = tp_sum / npig
    pr = tp_sum / (fp_sum + tp_sum + np.spacing(1))
    out.recall[:, k, a, m] = rc[:, -1] if n_det else 0
    envelope = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
    sorted_scores = flags.scores[rows]
    for t in range(rc.shape[0]):
        inds = np.searchsorted(rc[t], recall_thresholds, side="left")
        valid = inds < n_det
        q = np.zeros(recall_thresholds.size)
        ss = np.zeros(recall_thresholds.size)
        q[valid] = envelope[t, inds[valid]]
        ss[valid] = sorted_scores[inds[valid]]
        out.precision[t, :, k, a, m] = q
        out.scores[t, :, k, a, m] = ss
