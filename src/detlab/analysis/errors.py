"""Where the AP goes: TIDE's error types, the AP each would recover (and, re-exported from
``confusion.py``, a confusion matrix with background row and column).

Every evaluated detection that is not a true positive at ``fg_iou`` gets exactly one error
type, tested in TIDE's order (Bolya et al., *TIDE: A General Toolbox for Identifying Object
Detection Errors*, ECCV 2020; ``tidecv/quantify.py``), with IoU taken against the image's
non-crowd ground truth:

1. ``localisation``: its best IoU with ground truth of its own class is in ``[bg_iou, fg_iou)``;
2. ``classification``: IoU ``>= fg_iou`` with ground truth of another class;
3. ``duplicate``: IoU ``>= fg_iou`` with ground truth of its class that a higher-scoring
   detection already took;
4. ``background``: IoU ``<= bg_iou`` with every ground-truth box;
5. ``both``: the rest, i.e. ``bg_iou < IoU < fg_iou`` with ground truth of another class only
   (wrong class *and* badly placed).

A ground-truth object no detection took, and that no classification or localisation error
points at, is ``missed``. Detections the AP ignores (matched to a crowd region) get an error
type too, as in tidecv 1.0.1: they cost no AP, but one of them may be the detection that would
find an object, so that object is not missed.

What each type costs is measured as TIDE does, by an oracle that fixes only that type and
evaluates again (never cumulatively): a classification or localisation error becomes the true
positive of the object it points at, provided that object is still free and the detection is
the highest-scoring of the errors pointing at it (the others disappear); duplicate, background
and both errors disappear; missed objects are removed from the ground truth. ``delta_ap[t]``
is the AP so gained. The two special oracles: ``false_positive`` removes every false positive,
``false_negative`` every object not found.

AP is COCO's 101-point AP at ``fg_iou``, averaged over the categories with ground truth; the
baseline is exactly ``evaluate_coco(..., iou_thresholds=[fg_iou], compat="fixed")``'s. See
``docs/analysis-errors.md`` for how this differs from ``tidecv`` and why.

>>> gt = {"images": [{"id": 1, "width": 100, "height": 100}],
...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40],
...                        "area": 1600, "iscrowd": 0}],
...       "categories": [{"id": 1, "name": "fish"}, {"id": 2, "name": "crab"}]}
>>> dets = [{"image_id": 1, "category_id": 2, "bbox": [10, 10, 40, 40], "score": 0.9}]
>>> b = analyze_errors(gt, dets)
>>> b.counts["classification"], b.ap, round(b.delta_ap["classification"], 3)
(1, 0.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from detlab.analysis.confusion import ConfusionMatrix, confusion_matrix
from detlab.analysis.records import (
    MatchRecords,
    best_per_detection,
    check_thresholds,
    match_records,
)
from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray, Dataset
from detlab.core.ids import IntArray
from detlab.errors import ConfigError
from detlab.metrics.inputs import (
    GroundTruthLike,
    PredictionsLike,
    load_ground_truth,
    load_predictions,
)
from detlab.metrics.params import coco_recall_thresholds

__all__ = [
    "ERROR_TYPES",
    "OUTCOMES",
    "SHORT_NAMES",
    "SPECIAL_ERROR_TYPES",
    "ConfusionMatrix",
    "ErrorBreakdown",
    "ErrorRecords",
    "analyze_errors",
    "confusion_matrix",
]

#: The main error types, in TIDE's order.
ERROR_TYPES = ("classification", "localisation", "both", "duplicate", "background", "missed")
#: Oracles that fix every false positive, or every false negative, at once.
SPECIAL_ERROR_TYPES = ("false_positive", "false_negative")
#: What became of each evaluated detection (``ErrorRecords.outcome`` holds positions in this).
OUTCOMES = (
    "true_positive",
    "classification",
    "localisation",
    "both",
    "duplicate",
    "background",
)
#: TIDE's labels.
SHORT_NAMES = {
    "classification": "Cls",
    "localisation": "Loc",
    "both": "Both",
    "duplicate": "Dupe",
    "background": "Bkg",
    "missed": "Miss",
    "false_positive": "FalsePos",
    "false_negative": "FalseNeg",
}

_CODE = {name: np.int8(i) for i, name in enumerate(OUTCOMES)}
_TP, _CLS, _LOC, _BOTH, _DUPE, _BKG = (_CODE[n] for n in OUTCOMES)
_RECALL = coco_recall_thresholds()

CodeArray = npt.NDArray[np.int8]


# --------------------------------------------------------------------------- classification


@dataclass(frozen=True, eq=False)
class _Classified:
    """Per detection its outcome, the ground truth it points at (-1) and the IoU with it."""

    outcome: CodeArray
    target: IntArray
    target_iou: FloatArray
    fixable: BoolArray  # the one classification/localisation error that claims its object
    missed: BoolArray  # per ground truth


def _classify(rec: MatchRecords, fg: float, bg: float) -> _Classified:
    same = rec.det_category[rec.pair_det] == rec.gt_category[rec.pair_gt]
    taken = rec.gt_match[rec.pair_gt] >= 0
    s_iou, s_gt = best_per_detection(rec, same)
    o_iou, o_gt = best_per_detection(rec, ~same)
    u_iou, u_gt = best_per_detection(rec, same & taken)
    error = ~rec.true_positive  # detections on crowd regions too (tidecv >= 1.0.1)
    loc = error & (s_iou >= bg) & (s_iou < fg)
    cls = error & ~loc & (o_iou >= fg)
    dup = error & ~loc & ~cls & (u_iou >= fg)
    bkg = error & ~loc & ~cls & ~dup & (np.maximum(s_iou, o_iou) <= bg)
    outcome = np.full(rec.num_detections, _BOTH, dtype=np.int8)
    target = o_gt.copy()  # "both": the other-class object it half covers
    for mask, code, gt in ((loc, _LOC, s_gt), (cls, _CLS, o_gt), (dup, _DUPE, u_gt)):
        outcome[mask], target[mask] = code, gt[mask]
    outcome[bkg], target[bkg] = _BKG, -1
    tp = rec.true_positive
    outcome[tp], target[tp] = _TP, rec.det_match[tp]
    iou = _pair_iou(rec, target)
    fixable, usable = _claims(rec, outcome, target)
    missed = ~rec.gt_ignore & (rec.gt_match < 0) & ~usable
    return _Classified(outcome, target, iou, fixable, missed)


def _pair_iou(rec: MatchRecords, target: IntArray) -> FloatArray:
    """IoU of each detection with its target (-1 without one), looked up in the pair list."""
    g = max(int(rec.gt_rows.size), 1)
    keys = rec.pair_det * g + rec.pair_gt
    want = np.arange(rec.num_detections) * g + target
    order = np.argsort(keys, kind="stable")
    pos = np.searchsorted(keys[order], want).clip(0, max(keys.size - 1, 0))
    out = np.full(rec.num_detections, -1.0)
    has = target >= 0
    if keys.size:
        out[has] = rec.pair_iou[order[pos[has]]]
    return out


def _claims(rec: MatchRecords, outcome: CodeArray, target: IntArray) -> tuple[BoolArray, BoolArray]:
    """Which classification/localisation errors would take their object when fixed.

    An object already taken can be claimed by nobody; of the errors pointing at a free object,
    the highest score wins (ties: the earlier prediction), as TIDE's ``BestGTMatch``. An object
    pointed at (won or not) is *usable*, so it does not count as missed.
    """
    c = np.flatnonzero(((outcome == _LOC) | (outcome == _CLS)) & (target >= 0))
    c = c[rec.gt_match[target[c]] < 0]
    order = np.lexsort((rec.det_rows[c], -rec.det_scores[c], target[c]))
    c = c[order]
    first = np.ones(c.size, dtype=bool)
    np.not_equal(target[c][1:], target[c][:-1], out=first[1:])
    fixable = np.zeros(rec.num_detections, dtype=bool)
    fixable[c[first]] = True
    usable = np.zeros(rec.gt_rows.size, dtype=bool)
    usable[target[c]] = True
    return fixable, usable


# --------------------------------------------------------------------------- AP under oracles


def _oracle(
    rec: MatchRecords, cl: _Classified, fixed: frozenset[str]
) -> tuple[BoolArray, IntArray, BoolArray, IntArray]:
    """Kept detections, their class, true-positive flags and positives per class.

    A fixed classification or localisation error that wins its object joins the ranking as a
    true positive, even if the AP ignored it before (it lay on a crowd region).
    """
    k = rec.num_categories
    keep = ~rec.det_ignored
    cls, tp = rec.det_category.copy(), rec.true_positive.copy()
    npos = np.bincount(rec.gt_category[~rec.gt_ignore], minlength=k)
    for name in fixed & {"classification", "localisation"}:
        hit = cl.outcome == _CODE[name]
        win = hit & cl.fixable
        cls[win], tp[win] = rec.gt_category[cl.target[win]], True
        keep = (keep & ~hit) | win
    for name in fixed & {"both", "duplicate", "background"}:
        keep &= cl.outcome != _CODE[name]
    if "missed" in fixed:
        npos = npos - np.bincount(rec.gt_category[cl.missed], minlength=k)
    if "false_positive" in fixed:
        keep &= tp
    if "false_negative" in fixed:
        npos = np.bincount(cls[keep & tp], minlength=k)
    return keep, cls, tp, npos.astype(np.int64)


def _class_aps(
    rec: MatchRecords, keep: BoolArray, cls: IntArray, tp: BoolArray, npos: IntArray
) -> FloatArray:
    """COCO AP per category (NaN without positives): ranked by score, then image, then file."""
    idx = np.flatnonzero(keep)
    order = np.lexsort((rec.det_rows[idx], rec.det_image[idx], -rec.det_scores[idx], cls[idx]))
    idx = idx[order]
    bounds = np.searchsorted(cls[idx], np.arange(rec.num_categories + 1))
    flags = tp[idx]
    out = np.full(rec.num_categories, np.nan)
    for k in np.flatnonzero(npos > 0).tolist():
        out[k] = _coco_ap(flags[bounds[k] : bounds[k + 1]], int(npos[k]))
    return out


def _coco_ap(tp: BoolArray, npos: int) -> float:
    """101-point AP of detections ranked best first, with pycocotools' float operations."""
    tps = np.cumsum(tp).astype(np.float64)
    fps = np.cumsum(~tp).astype(np.float64)
    rc = tps / npos
    pr = tps / (fps + tps + np.spacing(1))
    pr = np.maximum.accumulate(pr[::-1])[::-1]
    at = np.searchsorted(rc, _RECALL, side="left")
    q = np.zeros(_RECALL.size)
    inside = at < tp.size
    q[inside] = pr[at[inside]]
    return float(np.mean(q))


def _mean(values: FloatArray) -> float:
    defined = values[~np.isnan(values)]
    return float(np.mean(defined)) if defined.size else float("nan")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class ErrorRecords:
    """One row per evaluated detection (evaluator order), to find examples of each error.

    ``outcome[i]`` is a position in :data:`OUTCOMES`; ``annotation_rows[i]`` the dataset row of
    the ground truth the outcome refers to (the match, or the object the error points at; -1
    for background), ``iou`` the IoU with it (-1 without). ``ignored`` marks the detections the
    AP ignores (on a crowd region), ``fixable`` the classification and localisation errors the
    oracle turns into true positives.
    ``prediction_rows`` are positions in the predictions; ``missed_annotation_rows`` the
    dataset rows of the missed objects.
    """

    prediction_rows: IntArray
    image_ids: IntArray
    category_ids: IntArray
    scores: FloatArray
    outcome: CodeArray
    annotation_rows: IntArray
    iou: FloatArray
    ignored: BoolArray
    fixable: BoolArray
    missed_annotation_rows: IntArray

    def of_type(self, outcome: str) -> IntArray:
        """Positions (in these records) with ``outcome``, highest score first."""
        if outcome not in _CODE:
            raise ConfigError(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
        hits = np.flatnonzero(self.outcome == _CODE[outcome])
        return hits[np.argsort(-self.scores[hits], kind="stable")]


@dataclass(frozen=True, eq=False)
class ErrorBreakdown:
    """TIDE's error counts and the AP each type would recover (see the module docstring).

    AP values are 0-1 (TIDE prints them x100); an AP is NaN (``None`` in :meth:`to_dict`) when
    no category has ground truth, e.g. ``delta_ap["missed"]`` when nothing at all was found.
    ``class_ap`` maps category id to its AP at
    ``fg_iou`` (categories with ground truth only); ``class_counts`` the errors per category:
    detections' errors under the predicted category, missed objects under theirs.
    """

    ap: float
    class_ap: dict[int, float]
    counts: dict[str, int]
    delta_ap: dict[str, float]
    special_delta_ap: dict[str, float]
    class_counts: dict[int, dict[str, int]]
    category_names: dict[int, str]
    iou_type: str
    fg_iou: float
    bg_iou: float
    max_dets: int
    num_detections: int
    num_ground_truth: int
    num_unevaluated: int
    records: ErrorRecords = field(repr=False)
    _state: tuple[MatchRecords, _Classified] = field(repr=False)

    def ap_with_fixed(self, error_types: Iterable[str]) -> float:
        """AP with several error types fixed at once (all of :data:`ERROR_TYPES` gives 1.0)."""
        fixed = frozenset(error_types)
        unknown = fixed - set(ERROR_TYPES) - set(SPECIAL_ERROR_TYPES)
        if unknown:
            raise ConfigError(
                f"unknown error type(s) {sorted(unknown)}; use {', '.join(ERROR_TYPES)}"
                f" or {', '.join(SPECIAL_ERROR_TYPES)}"
            )
        rec, cl = self._state
        return _mean(_class_aps(rec, *_oracle(rec, cl, fixed)))

    def summary(self) -> str:
        """A text table like TIDE's ``summarize()`` (AP and dAP x100)."""
        main = [SHORT_NAMES[t] for t in ERROR_TYPES]
        special = [SHORT_NAMES[t] for t in SPECIAL_ERROR_TYPES]
        lines = [
            f"{self.iou_type} AP @ {self.fg_iou:.2f}: {100 * self.ap:.2f}",
            "",
            "Main errors   " + "".join(f"{n:>8}" for n in main),
            "  dAP         " + "".join(f"{100 * self.delta_ap[t]:8.2f}" for t in ERROR_TYPES),
            "  count       " + "".join(f"{self.counts[t]:8d}" for t in ERROR_TYPES),
            "",
            "Special errors" + "".join(f"{n:>10}" for n in special),
            "  dAP         "
            + "".join(f"{100 * self.special_delta_ap[t]:10.2f}" for t in SPECIAL_ERROR_TYPES),
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (the per-detection records are left out)."""
        return {
            "format": "detlab.error_breakdown",
            "version": 1,
            "iou_type": self.iou_type,
            "fg_iou": self.fg_iou,
            "bg_iou": self.bg_iou,
            "max_dets": self.max_dets,
            "ap": _json_float(self.ap),
            "counts": dict(self.counts),
            "delta_ap": {k: _json_float(v) for k, v in self.delta_ap.items()},
            "special_delta_ap": {k: _json_float(v) for k, v in self.special_delta_ap.items()},
            "per_class": [
                {
                    "category_id": cid,
                    "name": name,
                    "ap": _json_float(self.class_ap[cid]) if cid in self.class_ap else None,
                    "counts": dict(self.class_counts[cid]),
                }
                for cid, name in self.category_names.items()
            ],
            "num_detections": self.num_detections,
            "num_ground_truth": self.num_ground_truth,
            "num_unevaluated": self.num_unevaluated,
        }


def _json_float(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def analyze_errors(
    gt: GroundTruthLike,
    predictions: PredictionsLike,
    *,
    iou_type: str = "bbox",
    fg_iou: float = 0.5,
    bg_iou: float = 0.1,
    max_dets: int = 100,
) -> ErrorBreakdown:
    """Break the AP at ``fg_iou`` down into TIDE's error types (see the module docstring).

    ``gt`` and ``predictions`` take the forms :func:`detlab.metrics.evaluate_coco` takes;
    ``max_dets`` caps the detections per (image, category), as the evaluator does.
    """
    check_thresholds(fg_iou, bg_iou)
    ds = load_ground_truth(gt)
    rec = match_records(
        ds,
        load_predictions(predictions),
        iou_type=iou_type,
        iou_threshold=fg_iou,
        max_dets=max_dets,
    )
    cl = _classify(rec, fg_iou, bg_iou)
    base = _class_aps(rec, *_oracle(rec, cl, frozenset()))
    ap = _mean(base)
    fixed = {t: _mean(_class_aps(rec, *_oracle(rec, cl, frozenset([t])))) for t in ERROR_TYPES}
    special = {
        t: _mean(_class_aps(rec, *_oracle(rec, cl, frozenset([t])))) for t in SPECIAL_ERROR_TYPES
    }
    cats = rec.category_ids.tolist()
    names = {c.id: c.name for c in ds.categories}
    return ErrorBreakdown(
        ap=ap,
        class_ap={c: v for c, v in zip(cats, base.tolist(), strict=True) if not math.isnan(v)},
        counts=_counts(cl),
        delta_ap={t: v - ap for t, v in fixed.items()},
        special_delta_ap={t: v - ap for t, v in special.items()},
        class_counts=_class_counts(rec, cl),
        category_names={c: names.get(c, str(c)) for c in cats},
        iou_type=iou_type,
        fg_iou=float(fg_iou),
        bg_iou=float(bg_iou),
        max_dets=int(max_dets),
        num_detections=rec.num_detections,
        num_ground_truth=int((~rec.gt_ignore).sum()),
        num_unevaluated=rec.num_unevaluated,
        records=_records(ds, rec, cl),
        _state=(rec, cl),
    )


def _counts(cl: _Classified) -> dict[str, int]:
    return {
        t: int(cl.missed.sum()) if t == "missed" else int((cl.outcome == _CODE[t]).sum())
        for t in ERROR_TYPES
    }


def _class_counts(rec: MatchRecords, cl: _Classified) -> dict[int, dict[str, int]]:
    k = rec.num_categories
    table = {
        t: np.bincount(rec.det_category[cl.outcome == _CODE[t]], minlength=k)
        for t in ERROR_TYPES
        if t != "missed"
    }
    table["missed"] = np.bincount(rec.gt_category[cl.missed], minlength=k)
    return {
        int(cid): {t: int(table[t][i]) for t in ERROR_TYPES}
        for i, cid in enumerate(rec.category_ids.tolist())
    }


def _records(ds: Dataset, rec: MatchRecords, cl: _Classified) -> ErrorRecords:
    rows = np.full(cl.target.size, -1, dtype=np.int64)
    has = cl.target >= 0
    rows[has] = rec.gt_rows[cl.target[has]]
    return ErrorRecords(
        prediction_rows=rec.det_rows,
        image_ids=rec.image_ids[rec.det_image],
        category_ids=rec.category_ids[rec.det_category],
        scores=rec.det_scores,
        outcome=cl.outcome,
        annotation_rows=rows,
        iou=cl.target_iou,
        ignored=rec.det_ignored,
        fixable=cl.fixable,
        missed_annotation_rows=rec.gt_rows[cl.missed],
    )
