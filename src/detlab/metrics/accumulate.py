"""Precision, recall and score arrays, as pycocotools' ``accumulate()`` builds them.

The float64 operations are pycocotools' own: ``rc = tp / npig``,
``pr = tp / (fp + tp + np.spacing(1))`` on the cumulative counts, the right-to-left running
maximum of ``pr``, and ``np.searchsorted(rc, recThrs, side="left")`` to read precision (and the
score) at each recall threshold; thresholds past the last recall keep 0. Cells with no
non-ignored ground truth stay -1. Each category's detections are ordered as pycocotools
concatenates and sorts them: by descending score with a stable sort over image-id order; a
smaller ``maxDets`` keeps the subset whose rank inside its image is below it, which is the
order a stable sort of the subset gives.

A cell (threshold, category, area range, ``maxDets``) is filled from its true positives alone:

- ``rc`` only grows at a true positive, so the first position where ``rc >= r`` is the
  ``c``-th true positive, ``c`` the smallest count with ``c / npig >= r`` (division is
  monotone, so ``c`` is found with integers and checked with that very division); ``r = 0``
  gives the first detection.
- ``pr`` falls at a false positive and stays at an ignored detection, so its maximum over a
  suffix is the maximum over the true positives in it (or 0 when there is none).
- The suffix maxima needed, at a cell's 101 positions, are maxima of the blocks between
  consecutive positions (one ``np.maximum.reduceat``) carried right to left across the blocks.

At a true positive, ``tp`` is its number in the cell and ``fp`` the false positives before it,
both exact integers, so ``pr`` and ``rc`` are the very floats pycocotools computes there. The
false positives are counted once for all detections (the largest ``maxDets``); a smaller
``maxDets`` subtracts those of the detections it drops.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import numpy.typing as npt

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray
from detlab.core.ids import IntArray
from detlab.metrics.matching import Matches
from detlab.metrics.sorting import stable_argsort

__all__ = [
    "FALSE_POSITIVE",
    "IGNORED",
    "TRUE_POSITIVE",
    "Accumulated",
    "DetectionFlags",
    "accumulate",
    "compiled_available",
    "recall_counts",
]

#: A detection's status at one area range and threshold (TRUE_POSITIVE counts twice in sums).
IGNORED, FALSE_POSITIVE, TRUE_POSITIVE = 0, 1, 2

StatusArray = npt.NDArray[np.int8]


@dataclass(frozen=True, eq=False)
class DetectionFlags:
    """Everything that decides each detection's status, detections in table order.

    A detection matched to ground truth that is ignored for the area range is ignored; one
    matched to ``void`` ground truth (pycocotools reads an annotation id of 0 as "no match")
    counts as unmatched, except that it is ignored when matched to ignored ground truth. An
    unmatched detection is a false positive inside the area range and ignored outside it.
    Table order is by image, category, then rank inside the group.
    """

    matches: Matches
    gt_ignore: BoolArray  # (A, G)
    void: BoolArray  # (G,)
    outside: BoolArray  # (A, D)
    scores: FloatArray  # (D,)
    rank: IntArray  # (D,)
    score_rank: IntArray  # (D,) dense rank of the score, 0 for the highest
    category: IntArray  # (D,) position in the evaluated category ids
    npig: IntArray  # (K, A) non-ignored ground truth per category and area range


@dataclass(frozen=True, eq=False)
class Accumulated:
    precision: FloatArray  # (T, R, K, A, M)
    recall: FloatArray  # (T, K, A, M)
    scores: FloatArray  # (T, R, K, A, M)


def recall_counts(npig: IntArray, recall_thresholds: FloatArray) -> IntArray:
    """``(K, A, R)``: the fewest true positives ``c`` with ``c / npig >= r`` (as float64)."""
    total = np.maximum(npig, 1).astype(np.float64)[:, :, None]
    c = np.maximum(np.ceil(recall_thresholds * total), 0)
    while True:  # ceil() of a rounded product can be one off: settle on the exact test
        lower = (c > 0) & ((c - 1) / total >= recall_thresholds)
        higher = c / total < recall_thresholds
        if not (lower.any() or higher.any()):
            return c.astype(np.int64)
        c = c - lower + higher


def accumulate(
    flags: DetectionFlags,
    recall_thresholds: FloatArray,
    max_dets: tuple[int, ...],
    *,
    compiled: bool | None = None,
) -> Accumulated:
    """Fill the ``[T, R, K, A, M]`` arrays; see the module docstring.

    ``compiled`` picks the C loop (``_accumulate.c``; the default when it is built) or the
    NumPy formulation (``False``; the default without it). Both give identical arrays.
    """
    n_thr = flags.matches.plain.shape[0]
    n_cat, n_area = flags.npig.shape
    # Filled as (A, M, T, K, R), each column written contiguously, then transposed once.
    shape = (n_area, len(max_dets), n_thr, n_cat, recall_thresholds.size)
    precision, scores, recall = np.zeros(shape), np.zeros(shape), np.zeros(shape[:-1])
    if compiled and _EXTENSION is None:
        raise RuntimeError("the compiled accumulation (detlab.metrics._accumulate) is not built")
    if n_cat:
        ordered = _Ordered.build(flags, n_cat)
        counts = recall_counts(flags.npig, recall_thresholds)
        chunks = [_Codes(flags, ordered, c) for c in range(-(-n_area // _AREA_BITS))]
        if _EXTENSION is not None and compiled is not False and len(max_dets) <= _KEEP_BITS:
            kernel = _Kernel(_EXTENSION, ordered, max_dets, n_thr)
            for a in range(n_area):
                status = _full_statuses(ordered, flags, a, chunks[a // _AREA_BITS])
                kernel.fill(status, flags.npig[:, a], counts[:, a], (precision, scores, recall), a)
        else:
            kept = [_Kept.build(ordered, max_det) for max_det in max_dets]
            for a in range(n_area):
                full = _FullArea.build(ordered, flags, a, chunks[a // _AREA_BITS])
                for m, keep in enumerate(kept):
                    cell = _fill(full.true_positives(keep), flags.npig[:, a], counts[:, a])
                    precision[a, m], scores[a, m], recall[a, m] = cell
    empty = flags.npig.T == 0  # (A, K): pycocotools leaves these cells at -1
    precision.transpose(0, 3, 1, 2, 4)[empty] = -1
    scores.transpose(0, 3, 1, 2, 4)[empty] = -1
    recall.transpose(0, 3, 1, 2)[empty] = -1
    return Accumulated(
        precision=np.ascontiguousarray(precision.transpose(2, 4, 3, 0, 1)),
        recall=np.ascontiguousarray(recall.transpose(2, 3, 0, 1)),
        scores=np.ascontiguousarray(scores.transpose(2, 4, 3, 0, 1)),
    )


def _load_extension() -> ModuleType | None:
    try:
        return importlib.import_module("detlab.metrics._accumulate")
    except ImportError:  # not compiled (an install without a C compiler): the NumPy path
        return None


_EXTENSION = _load_extension()
_KEEP_BITS = 8  # the C loop's keep mask has a bit per maxDets value


def compiled_available() -> bool:
    """Whether the C accumulation loop (``_accumulate.c``) is built."""
    return _EXTENSION is not None


class _Kernel:
    """The arguments of the C loop that do not depend on the area range."""

    def __init__(
        self, extension: ModuleType, ordered: _Ordered, max_dets: tuple[int, ...], n_thr: int
    ) -> None:
        self.extension, self.n_thr, self.n_max = extension, n_thr, len(max_dets)
        # Bit m: kept by the m-th maxDets.
        self.keep = np.zeros(ordered.rank.size, dtype=np.uint8)
        for m, max_det in enumerate(max_dets):
            self.keep |= (ordered.rank < max_det).view(np.uint8) << np.uint8(m)
        self.segments = np.ascontiguousarray(ordered.segments, dtype=np.int64)
        self.scores = np.ascontiguousarray(ordered.scores, dtype=np.float64)

    def fill(
        self,
        status: StatusArray,
        npig: IntArray,
        counts: IntArray,
        out: tuple[FloatArray, FloatArray, FloatArray],
        a: int,
    ) -> None:
        """Write area range ``a``'s ``(M, T, K, R)`` precision and scores, ``(M, T, K)`` recall."""
        self.extension.fill_area(
            status,
            self.n_thr,
            self.keep,
            self.n_max,
            self.segments,
            self.scores,
            np.ascontiguousarray(npig, dtype=np.int64),
            np.ascontiguousarray(counts, dtype=np.int64),
            out[0][a],
            out[1][a],
            out[2][a],
        )


def _full_statuses(ordered: _Ordered, flags: DetectionFlags, a: int, codes: _Codes) -> StatusArray:
    """``(T, D)`` status of every detection in accumulation order, every detection kept."""
    outside = flags.outside[a][ordered.order]
    n_thr = flags.matches.plain.shape[0]
    status: StatusArray = np.empty((n_thr, outside.size), dtype=np.int8)
    status[:] = (~outside).view(np.int8)  # without candidate pairs: false positive inside
    status[:, ordered.cand_position] = _statuses(ordered, flags, a, outside, codes)
    return status


@dataclass(frozen=True, eq=False)
class _Ordered:
    """Detections in accumulation order: by category, descending score, image, rank.

    Detections with candidate pairs keep their own columns (``cand_position`` increasing).
    """

    order: IntArray  # (D,) table row at each position
    category: IntArray  # (D,)
    segments: IntArray  # (K + 1,) category k at positions segments[k]:segments[k + 1]
    seg_column: IntArray  # (K + 1,) first candidate column of each category
    scores: FloatArray  # (D,)
    rank: IntArray  # (D,)
    cand_position: IntArray  # (U,)
    column_order: IntArray  # (U,) column of each Matches column in position order
    matched: IntArray  # (T, U) in position order: ground-truth row + 1, 0 when unmatched

    @classmethod
    def build(cls, flags: DetectionFlags, n_cat: int) -> _Ordered:
        n_ranks = int(flags.score_rank.max(initial=-1)) + 1
        order = stable_argsort(flags.category * n_ranks + flags.score_rank, n_cat * n_ranks)
        position = np.empty_like(order)
        position[order] = np.arange(order.size)
        cand_position = position[flags.matches.rows]
        cand_column = stable_argsort(cand_position, max(order.size, 1))
        column_order = np.empty_like(cand_column)
        column_order[cand_column] = np.arange(cand_column.size)
        category = flags.category[order]
        segments = np.searchsorted(category, np.arange(n_cat + 1))
        cand_position = cand_position[cand_column]
        return cls(
            order=order,
            category=category,
            segments=segments,
            seg_column=np.searchsorted(cand_position, segments),
            scores=flags.scores[order],
            rank=flags.rank[order],
            cand_position=cand_position,
            column_order=column_order,
            matched=_shifted(np.take(flags.matches.plain, cand_column, axis=1)),
        )


def _shifted(matches: npt.NDArray[np.int32]) -> IntArray:
    """Matched rows + 1 (0: unmatched), as index-sized integers for gathers."""
    out: IntArray = matches.astype(np.intp)
    out += 1
    return out


@dataclass(frozen=True, eq=False)
class _Kept:
    """The detections one ``maxDets`` keeps, and what does not depend on the area range."""

    keep: BoolArray  # (D,) in accumulation order
    every: bool
    cand_dropped: IntArray  # candidate columns it drops
    dropped_before: IntArray  # (U + 1,) dropped candidate columns before each column
    first_score: FloatArray  # (K,) score of each category's first kept detection
    has_detections: BoolArray  # (K,)

    @classmethod
    def build(cls, ordered: _Ordered, max_det: int) -> _Kept:
        keep = ordered.rank < max_det
        is_dropped = ~keep[ordered.cand_position]
        dropped_before = np.zeros(is_dropped.size + 1, dtype=np.int64)
        np.cumsum(is_dropped, out=dropped_before[1:])
        first = np.searchsorted(np.flatnonzero(keep), ordered.segments)
        has_detections = first[1:] > first[:-1]
        first_score = np.zeros(has_detections.size)
        first_score[has_detections] = ordered.scores[
            np.flatnonzero(keep)[first[:-1][has_detections]]
        ]
        return cls(
            keep=keep,
            every=bool(keep.all()),
            cand_dropped=np.flatnonzero(is_dropped),
            dropped_before=dropped_before,
            first_score=first_score,
            has_detections=has_detections,
        )


@dataclass(frozen=True, eq=False)
class _TruePositives:
    """One (area range, ``maxDets``) column's true positives, by cell ``t * K + k``.

    ``cell_start`` (``T * K + 1`` offsets) delimits each cell's true positives.
    """

    cell_start: IntArray
    position: IntArray  # accumulation position of each true positive
    fp_before: IntArray  # false positives of the same cell before it
    first_score: FloatArray  # (K,) score of each category's first kept detection
    has_detections: BoolArray  # (K,)
    scores: FloatArray  # (D,) in accumulation order


@dataclass(frozen=True, eq=False)
class _FullArea:
    """One area range with every detection kept: its true positives and their counts.

    Only detections with candidate pairs can be true positives; statuses ``(T, U)`` are kept
    for them. A detection without candidates is a false positive when inside the range.
    """

    ordered: _Ordered
    status: StatusArray  # (T, U)
    other_fp: BoolArray  # (D,) false positive without candidate pairs
    tp_thr: IntArray
    tp_column: IntArray  # candidate column (position order)
    tp_position: IntArray
    tp_segment: IntArray  # position where the true positive's category starts
    tp_seg_column: IntArray  # candidate column where it starts
    tp_cell: IntArray
    tp_fp: IntArray  # false positives among candidates before it in its cell
    n_cells: int

    @classmethod
    def build(cls, ordered: _Ordered, flags: DetectionFlags, a: int, codes: _Codes) -> _FullArea:
        outside = flags.outside[a][ordered.order]
        status = _statuses(ordered, flags, a, outside, codes)
        n_thr, n_cand = status.shape
        n_cat = ordered.segments.size - 1
        other_fp = ~outside
        other_fp[ordered.cand_position] = False
        summed = np.zeros((n_thr, n_cand + 1), dtype=np.int32)
        np.cumsum(status, axis=1, dtype=np.int32, out=summed[:, 1:])
        thr, column = np.divmod(np.flatnonzero(status == TRUE_POSITIVE), n_cand)
        position = ordered.cand_position[column]
        cat = ordered.category[position]
        cell = thr * n_cat + cat
        tp_before = np.arange(cell.size) - _run_start(cell)
        flat = thr * (n_cand + 1)
        # Status sums count a true positive twice and a false positive once.
        fp = (
            summed.ravel()[flat + column]
            - summed.ravel()[flat + ordered.seg_column[cat]]
            - 2 * tp_before
        )
        return cls(
            ordered=ordered,
            status=status,
            other_fp=other_fp,
            tp_thr=thr,
            tp_column=column,
            tp_position=position,
            tp_segment=ordered.segments[cat],
            tp_seg_column=ordered.seg_column[cat],
            tp_cell=cell,
            # Every detection kept (the largest maxDets): add those without candidates.
            tp_fp=fp + _count_before(other_fp, position, ordered.segments[cat]),
            n_cells=n_thr * n_cat,
        )

    def true_positives(self, kept: _Kept) -> _TruePositives:
        fp, cell, position = self.tp_fp, self.tp_cell, self.tp_position
        if not kept.every:
            other = _count_before(self.other_fp & ~kept.keep, position, self.tp_segment)
            fp = fp - other - self._dropped_fp_before(kept)
            tp_keep = kept.keep[position]
            fp, cell, position = fp[tp_keep], cell[tp_keep], position[tp_keep]
        return _TruePositives(
            cell_start=np.searchsorted(cell, np.arange(self.n_cells + 1)),
            position=position,
            fp_before=fp,
            first_score=kept.first_score,
            has_detections=kept.has_detections,
            scores=self.ordered.scores,
        )

    def _dropped_fp_before(self, kept: _Kept) -> IntArray:
        """False positives among dropped candidates before each true positive."""
        dropped, index = kept.cand_dropped, kept.dropped_before
        counts = np.zeros((self.status.shape[0], dropped.size + 1), dtype=np.int32)
        np.cumsum(self.status[:, dropped] == FALSE_POSITIVE, axis=1, out=counts[:, 1:])
        flat = self.tp_thr * (dropped.size + 1)
        start = index[self.tp_seg_column]
        before: IntArray = (
            counts.ravel()[flat + index[self.tp_column]] - counts.ravel()[flat + start]
        )
        return before


def _count_before(flags: BoolArray, position: IntArray, segment: IntArray) -> IntArray:
    """Per query, the flags set from its ``segment`` start up to (not at) its ``position``."""
    counts = np.zeros(flags.size + 1, dtype=np.int32)
    np.cumsum(flags, out=counts[1:])
    before: IntArray = counts[position] - counts[segment]
    return before


def _run_start(sorted_values: IntArray) -> IntArray:
    """Per element, the index where its run of equal values starts."""
    new = np.ones(sorted_values.size, dtype=bool)
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=new[1:])
    starts: IntArray = np.flatnonzero(new)
    run_start: IntArray = starts[np.cumsum(new) - 1]
    return run_start


# Match codes: bit a (within a chunk of areas) set when the ground truth is ignored for area
# range a; VOID for void ground truth; UNMATCHED (code 0's own) when there is no match.
_AREA_BITS, _VOID, _UNMATCHED = 6, np.uint8(64), np.uint8(128)


class _Codes:
    """Per (threshold, candidate) match codes for one chunk of up to six area ranges."""

    def __init__(self, flags: DetectionFlags, ordered: _Ordered, chunk: int) -> None:
        first = chunk * _AREA_BITS
        ignore = flags.gt_ignore[first : first + _AREA_BITS]
        table = np.zeros(flags.void.size + 1, dtype=np.uint8)
        table[0] = _UNMATCHED
        for bit, row in enumerate(ignore):
            table[1:] |= row.astype(np.uint8) << bit
        table[1:] |= np.where(flags.void, _VOID, 0).astype(np.uint8)
        self.table, self.first = table, first
        self.codes = np.take(table, ordered.matched)
        self.any_void = bool(flags.void.any())


def _statuses(
    ordered: _Ordered, flags: DetectionFlags, a: int, outside: BoolArray, codes: _Codes
) -> StatusArray:
    """``(T, U)`` status of each candidate in position order (1 false, 2 true positive)."""
    code = codes.codes
    columns, gt = flags.matches.overrides[a]
    if columns.size:
        code = code.copy()
        code[:, ordered.column_order[columns]] = np.take(codes.table, gt.astype(np.intp) + 1)
    bit = np.uint8(1 << (a - codes.first))
    tp = (code & (_UNMATCHED | _VOID | bit)) == 0
    fp = code >= _UNMATCHED
    if codes.any_void:
        fp |= (code & (_VOID | bit)) == _VOID
    fp &= ~outside[ordered.cand_position]
    status: StatusArray = np.left_shift(tp.view(np.int8), 1)
    status |= fp.view(np.int8)
    return status


def _fill(
    tps: _TruePositives, npig: IntArray, counts: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Precision and scores ``(T, K, R)`` and recall ``(T, K)`` of one (area, maxDets)."""
    n_cat = npig.size
    n_thr = (tps.cell_start.size - 1) // n_cat
    n_tp = np.diff(tps.cell_start)
    tp = (np.arange(tps.position.size) - np.repeat(tps.cell_start[:-1], n_tp) + 1).astype(
        np.float64
    )
    pr = tp / (tps.fp_before.astype(np.float64) + tp + np.spacing(1))
    # (T, K, R) by broadcasting the (K, R) counts over thresholds; rows are cells t * K + k.
    c1 = np.maximum(counts, 1)
    found = (c1 <= n_tp.reshape(n_thr, n_cat, 1)).reshape(n_thr * n_cat, -1)
    position = (tps.cell_start[:-1].reshape(n_thr, n_cat, 1) + (c1 - 1)).reshape(found.shape)
    precision = _suffix_max(pr, position, found, tps.cell_start)
    # Scores: at the c-th true positive, or at the category's first detection when c = 0.
    at_tp = np.zeros(found.shape)
    at_tp[found] = tps.scores[tps.position[position[found]]]
    at_first = (counts == 0) & tps.has_detections[:, None]
    scores = np.where(at_first, tps.first_score[:, None], at_tp.reshape(n_thr, n_cat, -1))
    recall = np.where(tps.has_detections, n_tp.reshape(n_thr, n_cat) / np.maximum(npig, 1), 0.0)
    return precision.reshape(n_thr, n_cat, -1), scores, recall


def _suffix_max(
    values: FloatArray, position: IntArray, found: BoolArray, cell_start: IntArray
) -> FloatArray:
    """Per cell and threshold, the maximum of ``values`` from ``position`` to the cell's end.

    Positions are non-decreasing along a cell's row. The blocks between consecutive positions
    (the last one closed by the cell's end) are reduced with ``np.maximum.reduceat``; where two
    positions coincide, reduceat yields the value at that position, which lies in the suffix
    anyway. Right-to-left running maxima over the blocks then give each suffix maximum.
    """
    end = cell_start[1:, None]
    index = np.empty((found.shape[0], found.shape[1] + 1), dtype=position.dtype)
    np.copyto(index[:, :-1], np.where(found, position, end))
    index[:, -1:] = end
    blocks = np.maximum.reduceat(np.append(values, 0.0), index.reshape(-1)).reshape(index.shape)
    blocks = np.where(found, blocks[:, :-1], 0.0)
    suffix = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1]
    result: FloatArray = np.where(found, suffix, 0.0)
    return result
