"""Running pycocotools itself: the oracle every COCO test compares against."""

from __future__ import annotations

import contextlib
import copy
import io
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Oracle:
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    stats: np.ndarray
    summary: str


def coco_from_dict(data: dict[str, Any]) -> Any:
    from pycocotools.coco import COCO

    coco = COCO()
    coco.dataset = copy.deepcopy(data)
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def load_results(gt: Any, dets: list[dict[str, Any]]) -> Any:
    """``loadRes``, except that an empty list (which loadRes rejects) gives an empty set."""
    from pycocotools.coco import COCO

    if dets:
        return gt.loadRes(copy.deepcopy(dets))
    res = COCO()
    res.dataset = {"images": list(gt.dataset["images"]), "annotations": [], "categories": []}
    res.createIndex()
    return res


def run_cocoeval(
    gt: dict[str, Any],
    dets: list[dict[str, Any]],
    *,
    iou_type: str = "bbox",
    max_dets: list[int] | None = None,
    iou_thresholds: list[float] | None = None,
    area_ranges: dict[str, tuple[float, float]] | None = None,
    category_ids: list[int] | None = None,
    image_ids: list[int] | None = None,
    summarize: bool = True,
) -> Oracle:
    from pycocotools.cocoeval import COCOeval

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        coco_gt = coco_from_dict(gt)
        coco_dt = load_results(coco_gt, dets)
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        if max_dets is not None:
            ev.params.maxDets = list(max_dets)
        if iou_thresholds is not None:
            ev.params.iouThrs = np.array(iou_thresholds, dtype=np.float64)
        if area_ranges is not None:
            ev.params.areaRng = [list(v) for v in area_ranges.values()]
            ev.params.areaRngLbl = list(area_ranges)
        if category_ids is not None:
            ev.params.catIds = list(category_ids)
        if image_ids is not None:
            ev.params.imgIds = list(image_ids)
        ev.evaluate()
        ev.accumulate()
    printed = io.StringIO()
    stats = np.zeros(12)
    if summarize:
        with contextlib.redirect_stdout(printed):
            ev.summarize()
        stats = np.asarray(ev.stats)
    return Oracle(
        precision=ev.eval["precision"],
        recall=ev.eval["recall"],
        scores=ev.eval["scores"],
        stats=stats,
        summary=printed.getvalue().rstrip("\n"),
    )


def assert_bit_identical(result: Any, oracle: Oracle, *, summary: bool = True) -> None:
    """precision, recall and scores (and stats and printed lines) equal, -1 cells included."""
    for name in ("precision", "recall", "scores"):
        ours, theirs = getattr(result, name), getattr(oracle, name)
        assert ours.shape == theirs.shape, name
        assert np.array_equal(ours, theirs), f"{name} differs at {np.argwhere(ours != theirs)[:5]}"
    if summary:
        assert np.array_equal(result.stats, oracle.stats), (result.stats, oracle.stats)
        assert result.summary() == oracle.summary
