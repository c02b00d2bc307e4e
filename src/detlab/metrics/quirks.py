"""Warnings for inputs on which pycocotools' behaviour is surprising.

With ``compat="pycocotools"`` detlab reproduces these behaviours bit for bit, and says so with a
:class:`~detlab.errors.DetlabWarning`, so that a number that looks wrong has an explanation
next to it. docs/metrics.md describes each one.
"""

from __future__ import annotations

import warnings

import numpy as np

from detlab.core.dataset import Dataset
from detlab.core.predictions import Predictions
from detlab.errors import DetlabWarning
from detlab.metrics.params import COCOParams
from detlab.metrics.sorting import sorted_unique
from detlab.metrics.tables import EvalTables

__all__ = ["warn_quirks"]


def _warn(message: str) -> None:
    warnings.warn(message, DetlabWarning, stacklevel=4)


def warn_quirks(ds: Dataset, preds: Predictions, tables: EvalTables, params: COCOParams) -> None:
    """Warn about every quirk the inputs trigger (data quirks only in pycocotools mode)."""
    _warn_unknown_categories(ds, preds)
    if params.compat != "pycocotools":
        return
    _warn_id_zero(tables)
    _warn_duplicate_ids(ds)
    _warn_ignore_flag(ds, tables)
    _warn_max_dets(params)


def _warn_unknown_categories(ds: Dataset, preds: Predictions) -> None:
    unknown = ds.category_index.positions(preds.category_ids) < 0
    if unknown.any():
        ids = ", ".join(str(int(c)) for c in np.unique(preds.category_ids[unknown])[:10])
        _warn(
            f"{int(unknown.sum())} prediction(s) have category ids the ground truth does not "
            f"define ({ids}); they are not evaluated"
        )


def _warn_id_zero(tables: EvalTables) -> None:
    if (tables.gt.ids == 0).any():
        _warn(
            "a ground-truth annotation has id 0: pycocotools records matches by annotation id "
            "and reads 0 as 'unmatched', so a detection matching it counts as a false positive "
            "and it stays a missed object; renumber annotation ids from 1, or pass "
            "compat='fixed'"
        )


def _warn_duplicate_ids(ds: Dataset) -> None:
    ids = ds.annotations.ids
    if sorted_unique(ids).size != ids.size:
        _warn(
            "ground-truth annotation ids repeat: pycocotools looks annotations up by id, so "
            "every annotation sharing an id is replaced by the last one written with it; "
            "give every annotation its own id, or pass compat='fixed'"
        )


def _warn_ignore_flag(ds: Dataset, tables: EvalTables) -> None:
    rows = tables.gt.rows
    if (ds.annotations.ignore[rows] & ~ds.annotations.iscrowd[rows]).any():
        _warn(
            "annotations carry an 'ignore' flag, which pycocotools overwrites with 'iscrowd': "
            "they are evaluated as ordinary objects; pass compat='fixed' to honour 'ignore'"
        )


def _warn_max_dets(params: COCOParams) -> None:
    md = params.max_dets
    if 100 not in md:
        _warn(
            f"max_dets={md} lacks 100: pycocotools' summary asks for maxDets=100 in its first "
            "AP row, which is therefore -1; pass compat='fixed' to use the largest max_dets"
        )
    elif len(md) < 3 or md[2] != md[-1]:
        _warn(
            f"max_dets={md}: pycocotools' summary reads AP and AR at maxDets[2] "
            f"(the third value), not at the largest; pass compat='fixed' to use {md[-1]}"
        )
