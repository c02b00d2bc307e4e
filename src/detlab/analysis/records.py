"""Per-detection match records: what the COCO matcher decided, plus every overlap in each image.

The error breakdown and the confusion matrix start here. Ground truth and detections go through
``detlab.metrics``' own tables and matcher at one IoU threshold, so a true positive here is a
true positive of ``evaluate_coco(..., iou_thresholds=[t], compat="fixed")``: detections of an
(image, category) group by descending score (file order breaks ties), cut to ``max_dets``, each
taking the free ground truth of its class with the highest IoU ``>= t``; crowd (and ``ignore``)
ground truth is matched only when nothing else is, and a detection matched to it is ignored.

Errors are about the objects a detection overlaps in *other* classes too, so every
(detection, ground truth) pair of an image is measured, whatever the classes, in one
vectorised pass; the matcher's per-category IoUs are read out of those image blocks, so masks
are compared only once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray, Dataset
from detlab.core.ids import IntArray
from detlab.errors import ConfigError
from detlab.metrics.inputs import (
    DetectionInput,
    annotation_rles,
    check_image_ids,
    detection_rles,
)
from detlab.metrics.iou import grouped_bbox_iou, grouped_segm_iou, pair_offsets
from detlab.metrics.matching import effective_thresholds, match_candidates
from detlab.metrics.params import COCOParams
from detlab.metrics.tables import EvalTables, build_tables

__all__ = ["MatchRecords", "best_per_detection", "check_thresholds", "match_records"]


@dataclass(frozen=True, eq=False)
class MatchRecords:
    """The matcher's decisions for ``D`` evaluated detections and ``G`` ground-truth boxes.

    Detections and ground truth are in the evaluator's table order (by image, then category;
    detections best score first). ``det_image`` / ``gt_image`` are positions in ``image_ids``,
    ``det_category`` / ``gt_category`` positions in ``category_ids``. ``det_match[d]`` is the
    ground truth detection ``d`` took (-1: none, or an ignored region, see ``det_ignored``);
    ``gt_match[g]`` the detection that took ``g`` (-1: none). ``pair_det``, ``pair_gt`` and
    ``pair_iou`` list every (detection, non-ignored ground truth) pair of the same image with
    its IoU, classes regardless. ``det_rows`` are positions in the predictions, ``gt_rows`` in
    the dataset's annotations; ``num_unevaluated`` counts predictions left out (a category the
    ground truth lacks, or past ``max_dets`` in their group).
    """

    image_ids: IntArray
    category_ids: IntArray
    det_rows: IntArray
    det_image: IntArray
    det_category: IntArray
    det_scores: FloatArray
    det_match: IntArray
    det_ignored: BoolArray
    gt_rows: IntArray
    gt_image: IntArray
    gt_category: IntArray
    gt_ignore: BoolArray
    gt_match: IntArray
    pair_det: IntArray
    pair_gt: IntArray
    pair_iou: FloatArray
    iou_threshold: float
    num_unevaluated: int

    @property
    def num_detections(self) -> int:
        return int(self.det_rows.size)

    @property
    def num_categories(self) -> int:
        return int(self.category_ids.size)

    @property
    def true_positive(self) -> BoolArray:
        matched: BoolArray = self.det_match >= 0
        return matched


def match_records(
    ds: Dataset,
    det: DetectionInput,
    *,
    iou_type: str = "bbox",
    iou_threshold: float = 0.5,
    max_dets: int = 100,
) -> MatchRecords:
    """Match ``det`` to ``ds`` at ``iou_threshold`` and measure every same-image pair."""
    preds = det.predictions
    check_image_ids(ds, preds)
    params = COCOParams.build(
        iou_type=iou_type,
        max_dets=(max_dets,),
        iou_thresholds=(iou_threshold,),
        compat="fixed",
    )
    area = preds.boxes[:, 2] * preds.boxes[:, 3]  # only the evaluator's area ranges read it
    tables = build_tables(ds, preds, area, params)
    k = max(int(tables.category_ids.size), 1)
    det_image, gt_image = tables.dt.key // k, tables.gt.key // k
    n_images = int(tables.image_ids.size)
    img_dt = _starts(det_image, n_images)
    img_gt = _starts(gt_image, n_images)
    image_iou = _image_ious(ds, det, tables, (img_gt, img_dt), segm=iou_type == "segm")
    det_match = _match(tables, image_iou, (img_gt, img_dt), det_image, iou_threshold)
    gt_ignore = tables.gt.ignore
    det_ignored = np.zeros(det_match.size, dtype=bool)
    hit = det_match >= 0
    det_ignored[hit] = gt_ignore[det_match[hit]]
    det_match = np.where(det_ignored, -1, det_match)
    pair_det, pair_gt = block_pairs(img_gt, img_dt)
    keep = ~gt_ignore[pair_gt]
    return MatchRecords(
        image_ids=tables.image_ids,
        category_ids=tables.category_ids,
        det_rows=tables.dt.rows,
        det_image=det_image,
        det_category=tables.dt.key % k,
        det_scores=tables.dt.scores,
        det_match=det_match,
        det_ignored=det_ignored,
        gt_rows=tables.gt.rows,
        gt_image=gt_image,
        gt_category=tables.gt.key % k,
        gt_ignore=gt_ignore,
        gt_match=_inverse(det_match, int(tables.gt.rows.size)),
        pair_det=pair_det[keep],
        pair_gt=pair_gt[keep],
        pair_iou=image_iou[keep],
        iou_threshold=float(iou_threshold),
        num_unevaluated=len(preds) - int(tables.dt.rows.size),
    )


def check_thresholds(fg: float, bg: float) -> None:
    """``0 < fg <= 1`` and ``0 <= bg <= fg``, or a :class:`ConfigError` saying so."""
    if not 0.0 < fg <= 1.0:
        raise ConfigError(f"fg_iou={fg} must be in (0, 1]; TIDE and COCO's AP50 use 0.5")
    if not 0.0 <= bg <= fg:
        raise ConfigError(f"bg_iou={bg} must be in [0, fg_iou={fg}]; TIDE uses 0.1")


def _starts(sorted_keys: IntArray, n: int) -> IntArray:
    """``n + 1`` offsets of the runs of ``0 .. n-1`` in a sorted key column."""
    return np.searchsorted(sorted_keys, np.arange(n + 1), side="left").astype(np.int64)


def block_pairs(gt_start: IntArray, dt_start: IntArray) -> tuple[IntArray, IntArray]:
    """Detection and ground-truth index of every pair, block ``g`` being ``D_g x G_g`` row-major.

    The layout of :func:`detlab.metrics.iou.grouped_bbox_iou`'s output.
    """
    ng, nd = np.diff(gt_start), np.diff(dt_start)
    offsets = pair_offsets(gt_start, dt_start)
    group = np.repeat(np.arange(ng.size, dtype=np.int64), ng * nd)
    local = np.arange(int(offsets[-1]), dtype=np.int64) - offsets[:-1][group]
    width = ng[group]
    return dt_start[:-1][group] + local // width, gt_start[:-1][group] + local % width


def _image_ious(
    ds: Dataset,
    det: DetectionInput,
    tables: EvalTables,
    image_starts: tuple[IntArray, IntArray],
    *,
    segm: bool,
) -> FloatArray:
    """Flat IoU of every (detection, ground truth) pair of every image, crowd rules included."""
    gt, dt = tables.gt, tables.dt
    img_gt, img_dt = image_starts
    if segm:
        return grouped_segm_iou(
            detection_rles(ds, det.predictions, dt.rows),
            annotation_rles(ds, gt.rows),
            gt.crowd,
            img_gt,
            img_dt,
        )
    return grouped_bbox_iou(dt.boxes, gt.boxes, gt.crowd, img_gt, img_dt)


def _match(
    tables: EvalTables,
    image_iou: FloatArray,
    image_starts: tuple[IntArray, IntArray],
    det_image: IntArray,
    threshold: float,
) -> IntArray:
    """The evaluator's matches, from the per-category blocks cut out of the image blocks."""
    img_gt, img_dt = image_starts
    di, gi = block_pairs(tables.gt_start, tables.dt_start)
    image = det_image[di]
    width = np.diff(img_gt)[image]
    flat = pair_offsets(img_gt, img_dt)[image] + (di - img_dt[image]) * width + gi - img_gt[image]
    matches = match_candidates(
        image_iou[flat],
        pair_offsets(tables.gt_start, tables.dt_start),
        tables.gt_start,
        tables.dt_start,
        tables.gt.ignore[None, :],
        tables.gt.crowd,
        effective_thresholds(np.array([threshold], dtype=np.float64)),
    )
    matched: IntArray = matches.dense(int(tables.dt.rows.size))[0, 0].astype(np.int64)
    return matched


def _inverse(det_match: IntArray, n_gt: int) -> IntArray:
    out = np.full(n_gt, -1, dtype=np.int64)
    hit = np.flatnonzero(det_match >= 0)
    out[det_match[hit]] = hit
    return out


def best_per_detection(records: MatchRecords, mask: BoolArray) -> tuple[FloatArray, IntArray]:
    """Per detection, the highest IoU among the pairs ``mask`` keeps, and that ground truth.

    Ties go to the ground truth earliest in the annotation file (as ``np.argmax`` over an
    image's boxes in file order); detections without a kept pair get IoU -1 and index -1.
    """
    sel = np.flatnonzero(mask)
    d, g, v = records.pair_det[sel], records.pair_gt[sel], records.pair_iou[sel]
    order = np.lexsort((records.gt_rows[g], -v, d))
    d, g, v = d[order], g[order], v[order]
    first = np.ones(d.size, dtype=bool)
    np.not_equal(d[1:], d[:-1], out=first[1:])
    best = np.full(records.num_detections, -1.0)
    which = np.full(records.num_detections, -1, dtype=np.int64)
    best[d[first]], which[d[first]] = v[first], g[first]
    return best, which
