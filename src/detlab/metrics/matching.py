"""Greedy matching of detections to ground truth, exactly as pycocotools' ``evaluateImg``.

For every group, area range and IoU threshold, detections (best score first) each take the
still-free ground truth with the highest IoU at or above the threshold; ties go to the later
ground truth (pycocotools replaces its best on ``>=``). Regular ground truth is searched first,
ignored ground truth (crowd, or outside the area range) only when no regular one matched. A
crowd region stays free, so many detections may match it.

Two implementations give identical output: a pure-Python reference, and the vectorised matcher
used by default. The vectorised one rests on three observations:

- A pair whose IoU is below every threshold never matches, so only *candidate* pairs (IoU at or
  above the lowest threshold) are visited; most detections have none, or one.
- Detections of different groups never compete, so the s-th candidate detection of every group
  is matched in one array step, for all thresholds at once; a step marks what it took, and the
  next step sees it. There are as many steps as the most candidate detections of one group.
- The regular-before-ignored rule only matters in a group whose ground truth is partly ignored
  for an area range. Everywhere else each area range gives the same matches, so they are found
  once, and only those mixed groups are matched again per area range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray
from detlab.core.ids import IntArray
from detlab.metrics.sorting import stable_argsort

__all__ = [
    "Matches",
    "effective_thresholds",
    "match_candidates",
    "match_groups",
    "match_groups_python",
]

MatchArray = npt.NDArray[np.int32]


def effective_thresholds(iou_thresholds: FloatArray) -> FloatArray:
    """``min(t, 1 - 1e-10)`` per threshold, as pycocotools starts each search."""
    return np.array([min(float(t), 1 - 1e-10) for t in iou_thresholds], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Matches:
    """Matched ground-truth rows, kept for the detections that have a candidate pair only.

    ``plain[t, i]`` is the ground-truth row detection ``rows[i]`` matched at threshold ``t``
    (-1: none) in every area range except where ``overrides`` say otherwise: per area range,
    ``(columns, gt)`` with ``gt[t, n]`` the match of detection ``rows[columns[n]]``. Every
    detection not in ``rows`` (which is increasing) is unmatched everywhere.
    """

    rows: IntArray  # (U,)
    plain: MatchArray  # (T, U)
    overrides: tuple[tuple[IntArray, MatchArray], ...]  # per area range

    def area(self, a: int) -> MatchArray:
        """``(T, U)`` matches for area range ``a``."""
        columns, gt = self.overrides[a]
        if columns.size == 0:
            return self.plain
        out: MatchArray = self.plain.copy()
        out[:, columns] = gt
        return out

    def dense(self, num_detections: int) -> MatchArray:
        """The ``(A, T, D)`` array: every detection's matched ground-truth row, or -1."""
        out = np.full(
            (len(self.overrides), self.plain.shape[0], num_detections), -1, dtype=np.int32
        )
        for a in range(len(self.overrides)):
            out[a][:, self.rows] = self.area(a)
        return out

    @classmethod
    def from_dense(cls, dense: MatchArray) -> Matches:
        rows = np.flatnonzero((dense >= 0).any(axis=(0, 1))).astype(np.int64)
        per_area = dense[:, :, rows]
        plain = np.ascontiguousarray(per_area[0])
        overrides = []
        for area in per_area:
            columns = np.flatnonzero((area != plain).any(axis=0))
            overrides.append((columns, np.ascontiguousarray(area[:, columns])))
        return cls(rows=rows, plain=plain, overrides=tuple(overrides))


# --------------------------------------------------------------------------- reference


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


# --------------------------------------------------------------------------- vectorised


@dataclass(frozen=True, eq=False)
class _Candidates:
    """Candidate pairs sorted by (lane group, detection, ground truth).

    A *lane* is the plain matching (no ignored ground truth preferred against) or one area
    range's matching of its mixed groups; ``group`` and ``slot`` (the ground truth's cell in
    the "taken" table) are numbered per lane so that lanes never interfere.
    """

    det: IntArray
    gt: IntArray
    iou: FloatArray
    group: IntArray
    slot: IntArray
    crowd: BoolArray
    ignore: BoolArray

    def lane(
        self, keep: BoolArray, lane: int, n_groups: int, n_gt: int, ignore: BoolArray
    ) -> _Candidates:
        gt = self.gt[keep]
        return _Candidates(
            det=self.det[keep],
            gt=gt,
            iou=self.iou[keep],
            group=self.group[keep] + lane * n_groups,
            slot=gt + lane * n_gt,
            crowd=self.crowd[keep],
            ignore=ignore[gt],
        )

    @classmethod
    def concat(cls, parts: list[_Candidates]) -> _Candidates:
        return cls(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("det", "gt", "iou", "group", "slot", "crowd", "ignore")
            )
        )


def _candidates(
    ious: FloatArray,
    pair_start: IntArray,
    gt_start: IntArray,
    dt_start: IntArray,
    crowd: BoolArray,
    low: float,
) -> _Candidates:
    pair = np.flatnonzero(ious >= low)
    group = np.searchsorted(pair_start, pair, side="right") - 1
    local = pair - pair_start[group]
    width = gt_start[group + 1] - gt_start[group]
    gt = gt_start[group] + local % width
    return _Candidates(
        det=dt_start[group] + local // width,
        gt=gt,
        iou=ious[pair],
        group=group,
        slot=gt,
        crowd=crowd[gt],
        ignore=np.zeros(pair.size, dtype=bool),
    )


def _runs(values: IntArray, *more: IntArray) -> tuple[IntArray, IntArray]:
    """Start of each run of equal neighbours (in every column), and each element's run."""
    new = np.ones(values.size, dtype=bool)
    np.not_equal(values[1:], values[:-1], out=new[1:])
    for other in more:
        new[1:] |= other[1:] != other[:-1]
    return np.flatnonzero(new), np.cumsum(new) - 1


def _greedy(cand: _Candidates, thresholds: FloatArray, n_slots: int) -> tuple[IntArray, MatchArray]:
    """Match the candidates of every group, every threshold at once.

    Returns, per detection that has candidates (in candidate order), the index of its first
    candidate, and the ``(T, U)`` matched ground-truth rows.
    """
    det_first, cand_det = _runs(cand.det, cand.group)
    group_first, det_group = _runs(cand.group[det_first])
    step = np.arange(det_first.size) - group_first[det_group]
    # A detection with a single candidate needs no search among ground truths: its own step.
    single = np.diff(np.append(det_first, cand.det.size)) == 1
    kind = 2 * step[cand_det] + ~single[cand_det]
    n_kinds = 2 * (int(step.max()) + 1) if step.size else 0
    order = stable_argsort(kind, n_kinds)
    bounds = np.searchsorted(kind[order], np.arange(n_kinds + 1))
    out = np.full((thresholds.size, det_first.size), -1, dtype=np.int32)
    taken = np.zeros((thresholds.size, n_slots), dtype=bool)
    column = thresholds[:, None]
    for k in range(n_kinds):
        idx = order[bounds[k] : bounds[k + 1]]
        if idx.size == 0:
            continue
        if k % 2 == 0:
            out[:, cand_det[idx]] = _step_single(cand, idx, taken, column)
        else:
            starts, seg = _runs(cand_det[idx])
            out[:, cand_det[idx[starts]]] = _step(cand, idx, starts, seg, taken, column)
    return det_first, out


def _usable(
    cand: _Candidates, idx: IntArray, taken: BoolArray, thresholds: FloatArray
) -> BoolArray:
    """``(T, C)``: the ground truth is free (or a crowd region) and the IoU reaches ``t``."""
    free = np.take(taken, cand.slot[idx], axis=1)
    np.logical_not(free, out=free)
    free |= cand.crowd[idx]
    free &= cand.iou[idx] >= thresholds
    return free


def _step_single(
    cand: _Candidates, idx: IntArray, taken: BoolArray, thresholds: FloatArray
) -> MatchArray:
    """Detections with one candidate each (one per group): taken wherever usable."""
    usable = _usable(cand, idx, taken, thresholds)
    slot = cand.slot[idx]
    taken[:, slot] |= usable
    return np.where(usable, cand.gt[idx].astype(np.int32), np.int32(-1))


def _step(
    cand: _Candidates,
    idx: IntArray,
    starts: IntArray,
    seg: IntArray,
    taken: BoolArray,
    thresholds: FloatArray,
) -> MatchArray:
    """One detection per group: its best free ground truth per threshold, then marked taken."""
    usable = _usable(cand, idx, taken, thresholds)
    ignore = cand.ignore[idx]
    if ignore.any():
        regular = usable & ~ignore
        has_regular = np.logical_or.reduceat(regular, starts, axis=1)
        usable = regular | (usable & ~has_regular[:, seg])
    value = np.where(usable, cand.iou[idx], -np.inf)
    best = np.maximum.reduceat(value, starts, axis=1)
    winner = usable & (value == best[:, seg])
    # The last of the tied best: pycocotools replaces its pick on >=.
    last = np.maximum.reduceat(np.where(winner, np.arange(idx.size), -1), starts, axis=1)
    thr, col = np.nonzero(last >= 0)
    pick = last[thr, col]
    taken[thr, cand.slot[idx][pick]] = True
    won = np.full(last.shape, -1, dtype=np.int32)
    won[thr, col] = cand.gt[idx][pick]
    return won


def _mixed_groups(gt_ignore: BoolArray, gt_start: IntArray) -> BoolArray:
    """``(A, G)``: the group has both ignored and regular ground truth for the area range."""
    counts = np.zeros((gt_ignore.shape[0], gt_ignore.shape[1] + 1), dtype=np.int64)
    np.cumsum(gt_ignore, axis=1, out=counts[:, 1:])
    ignored = counts[:, gt_start[1:]] - counts[:, gt_start[:-1]]
    return (ignored > 0) & (ignored < np.diff(gt_start)[None, :])


def match_candidates(
    ious: FloatArray,
    pair_start: IntArray,
    gt_start: IntArray,
    dt_start: IntArray,
    gt_ignore: BoolArray,
    crowd: BoolArray,
    thresholds: FloatArray,
) -> Matches:
    """Match every group with the vectorised matcher (see the module docstring)."""
    if np.isnan(ious).any() or np.isnan(thresholds).any():
        # NaN compares false both ways, which the reference follows comparison by comparison.
        dense = match_groups_python(
            ious, pair_start, gt_start, dt_start, gt_ignore, crowd, thresholds
        )
        return Matches.from_dense(dense)
    n_area, n_gt, n_groups = gt_ignore.shape[0], crowd.size, gt_start.size - 1
    plain = _candidates(ious, pair_start, gt_start, dt_start, crowd, float(thresholds.min()))
    mixed = _mixed_groups(gt_ignore, gt_start)
    lanes = [plain] + [
        plain.lane(mixed[a, plain.group], a + 1, n_groups, n_gt, gt_ignore[a])
        for a in range(n_area)
        if mixed[a].any()
    ]
    cand = _Candidates.concat(lanes) if len(lanes) > 1 else plain
    first, won = _greedy(cand, thresholds, (n_area + 1) * n_gt)
    lane = cand.slot[first] // max(n_gt, 1)
    rows = cand.det[first[lane == 0]]
    overrides = []
    for a in range(n_area):
        here = np.flatnonzero(lane == a + 1)
        columns = np.searchsorted(rows, cand.det[first[here]])
        overrides.append((columns, np.ascontiguousarray(won[:, here])))
    return Matches(
        rows=rows, plain=np.ascontiguousarray(won[:, : rows.size]), overrides=tuple(overrides)
    )


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
    """``(A, T, D) int32`` matched rows: the vectorised matcher, or with ``compiled=False`` the
    pure-Python reference."""
    args = (ious, pair_start, gt_start, dt_start, gt_ignore, crowd, thresholds)
    if not compiled:
        return match_groups_python(*args)
    return match_candidates(*args).dense(int(dt_start[-1]))
