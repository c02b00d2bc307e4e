"""IoU between detections and ground truth, as pycocotools' mask API computes it.

Boxes follow ``bbIou`` in pycocotools' ``maskApi.c`` operation by operation, so every value is
bit-identical: ``w = fmin(x1 + w1, x2 + w2) - fmax(x1, x2)`` (0 when ``w <= 0``), likewise
``h``, ``i = w * h``, union ``da + ga - i``, and for a crowd region the union is the detection's
own area. Segmentation IoU calls the mask API itself (imported lazily).

The grouped form computes every (detection, ground truth) pair of every (image, category) group
in one vectorised pass; block ``g`` is ``D_g x G_g`` row-major at ``pair_start[g]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.dataset import BoolArray
from detlab.core.ids import IntArray
from detlab.errors import EvaluationError

__all__ = [
    "bbox_iou",
    "box_polygon",
    "grouped_bbox_iou",
    "grouped_segm_iou",
    "pair_offsets",
    "to_rle",
]


def _iou_formula(dt: FloatArray, gt: FloatArray, crowd: BoolArray) -> FloatArray:
    """Elementwise IoU of aligned ``(P, 4)`` ``xywh`` rows (broadcasting allowed)."""
    dx, dy, dw, dh = dt[..., 0], dt[..., 1], dt[..., 2], dt[..., 3]
    gx, gy, gw, gh = gt[..., 0], gt[..., 1], gt[..., 2], gt[..., 3]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        w = np.fmin(dw + dx, gw + gx) - np.fmax(dx, gx)
        h = np.fmin(dh + dy, gh + gy) - np.fmax(dy, gy)
        inter = w * h
        da = dw * dh
        union = np.where(crowd, da, da + gw * gh - inter)
        iou = inter / union
    return np.where((w <= 0) | (h <= 0), 0.0, iou)


def bbox_iou(dt: FloatArray, gt: FloatArray, crowd: BoolArray | None = None) -> FloatArray:
    """``(D, G)`` IoU of ``xywh`` boxes; ``crowd[g]`` makes ground truth ``g`` a crowd region.

    >>> bbox_iou(np.array([[0.0, 0, 10, 10]]), np.array([[5.0, 0, 10, 10]])).tolist()
    [[0.3333333333333333]]
    """
    flags = np.zeros(gt.shape[0], dtype=bool) if crowd is None else crowd
    return _iou_formula(dt[:, None, :], gt[None, :, :], flags[None, :])


def pair_offsets(gt_start: IntArray, dt_start: IntArray) -> IntArray:
    """``G + 1`` offsets of each group's ``D_g x G_g`` block in the flat pair array."""
    sizes = np.diff(gt_start) * np.diff(dt_start)
    return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


def _pair_rows(gt_start: IntArray, dt_start: IntArray) -> tuple[IntArray, IntArray]:
    """The detection row and ground-truth row of every pair, block by block."""
    ng, nd = np.diff(gt_start), np.diff(dt_start)
    offsets = pair_offsets(gt_start, dt_start)
    total = int(offsets[-1])
    group = np.repeat(np.arange(ng.size, dtype=np.int64), ng * nd)
    local = np.arange(total, dtype=np.int64) - offsets[:-1][group]
    width = ng[group]
    return dt_start[:-1][group] + local // width, gt_start[:-1][group] + local % width


def grouped_bbox_iou(
    dt_boxes: FloatArray,
    gt_boxes: FloatArray,
    crowd: BoolArray,
    gt_start: IntArray,
    dt_start: IntArray,
) -> FloatArray:
    """Flat IoU of every pair in every group (see the module docstring for the layout)."""
    di, gi = _pair_rows(gt_start, dt_start)
    return _iou_formula(dt_boxes[di], gt_boxes[gi], crowd[gi])


def box_polygon(box: FloatArray) -> list[list[float]]:
    """The polygon ``COCO.loadRes`` gives a box-only detection, ``[[x1,y1,x1,y2,x2,y2,x2,y1]]``."""
    x, y, w, h = (float(v) for v in box)
    x1, x2, y1, y2 = x, x + w, y, y + h
    return [[x1, y1, x1, y2, x2, y2, x2, y1]]


def to_rle(segmentation: Any, height: int, width: int) -> Any:
    """A polygon list, uncompressed RLE or RLE as one RLE, like ``COCO.annToRLE``."""
    from pycocotools import mask as mask_api

    if isinstance(segmentation, list):
        return mask_api.merge(mask_api.frPyObjects(segmentation, height, width))
    if isinstance(segmentation, dict) and isinstance(segmentation.get("counts"), list):
        return mask_api.frPyObjects(segmentation, height, width)
    if isinstance(segmentation, dict):
        return segmentation
    raise EvaluationError(
        f"segmentation {str(segmentation)[:60]!r} is neither polygons nor RLE; "
        "segm evaluation needs a 'segmentation' on every annotation"
    )


def grouped_segm_iou(
    dt_rles: list[Any],
    gt_rles: list[Any],
    crowd: BoolArray,
    gt_start: IntArray,
    dt_start: IntArray,
) -> FloatArray:
    """Flat mask IoU of every pair in every group, from the mask API one group at a time."""
    from pycocotools import mask as mask_api

    offsets = pair_offsets(gt_start, dt_start)
    out = np.zeros(int(offsets[-1]), dtype=np.float64)
    for g in np.flatnonzero(np.diff(offsets) > 0):
        g0, g1, d0, d1 = gt_start[g], gt_start[g + 1], dt_start[g], dt_start[g + 1]
        block = mask_api.iou(dt_rles[d0:d1], gt_rles[g0:g1], [int(c) for c in crowd[g0:g1]])
        out[offsets[g] : offsets[g + 1]] = np.asarray(block, dtype=np.float64).reshape(-1)
    return out
