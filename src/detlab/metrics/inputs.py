"""Turning the accepted input forms into a :class:`Dataset` and :class:`Predictions`.

Ground truth may be a path to a COCO file, a parsed COCO dict or a :class:`Dataset`; predictions
a path to a results file, a parsed results list or :class:`Predictions`. Readers run without
their data-quality warnings (zero-area boxes and the like are legal for evaluation, and
pycocotools accepts them); evaluation raises its own warnings for what changes the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.dataset import Dataset
from detlab.core.ids import IntArray
from detlab.core.predictions import Predictions
from detlab.data.formats.coco import parse_coco, parse_coco_bytes
from detlab.data.formats.coco_results import parse_coco_results, predictions_from_columns
from detlab.data.formats.fast_results import parse_results_bytes
from detlab.data.formats.jsonio import parse_json_bytes, paused_gc, read_bytes
from detlab.errors import EvaluationError
from detlab.metrics.iou import box_polygon, to_rle

__all__ = [
    "DetectionInput",
    "GroundTruthLike",
    "PredictionsLike",
    "detection_areas",
    "load_ground_truth",
    "load_predictions",
]

GroundTruthLike = str | Path | Mapping[str, Any] | Dataset
PredictionsLike = str | Path | Sequence[Mapping[str, Any]] | Predictions

#: Where a detection's area comes from: ``w * h`` of its box, or its mask.
AreaSource = Literal["box", "mask"]


@dataclass(frozen=True, eq=False)
class DetectionInput:
    """Predictions plus the rule ``COCO.loadRes`` would use for their areas."""

    predictions: Predictions
    area_source: AreaSource = "box"


def load_ground_truth(gt: GroundTruthLike) -> Dataset:
    if isinstance(gt, Dataset):
        return gt
    if isinstance(gt, (str, Path)):
        data = read_bytes(gt)
        # The parsed records die with this frame: the collector never needs to walk them.
        with paused_gc():
            return parse_coco_bytes(data, source=str(gt), warn=False)
    if isinstance(gt, Mapping):
        return parse_coco(dict(gt), source="<dict>", warn=False)
    raise EvaluationError(
        f"ground truth must be a COCO file path, a COCO dict or a Dataset, got {type(gt).__name__}"
    )


def load_predictions(predictions: PredictionsLike) -> DetectionInput:
    """Read predictions; a results list without a ``bbox`` first takes areas from masks.

    ``COCO.loadRes`` decides for the whole file by its first record: with a ``bbox`` every
    area is ``w * h``, otherwise every area is the mask's pixel count.
    """
    if isinstance(predictions, Predictions):
        return DetectionInput(predictions)
    if isinstance(predictions, (str, Path)):
        data = read_bytes(predictions)
        columns = parse_results_bytes(data)
        if columns is not None:  # the compiled path: every record has a bbox
            return DetectionInput(predictions_from_columns(columns, str(predictions), warn=False))
        # The parsed records die with this frame: the collector never needs to walk them.
        with paused_gc():
            return _parse_predictions(parse_json_bytes(data, str(predictions)), str(predictions))
    if isinstance(predictions, Sequence):
        return _parse_predictions(list(predictions), "<list>")
    raise EvaluationError(
        "predictions must be a results file path, a list of result dicts or Predictions, "
        f"got {type(predictions).__name__}"
    )


def _parse_predictions(records: Any, source: str) -> DetectionInput:
    parsed = parse_coco_results(records, source=source, warn=False)
    return DetectionInput(parsed, _area_source(records))


def _area_source(records: Any) -> AreaSource:
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return "box"
    first = records[0]
    if "bbox" in first and first["bbox"] != []:
        return "box"
    return "mask" if "segmentation" in first else "box"


def check_image_ids(ds: Dataset, predictions: Predictions) -> None:
    """Predictions on images the ground truth lacks are an error, as in ``COCO.loadRes``."""
    unknown = ds.image_index.positions(predictions.image_ids) < 0
    if unknown.any():
        missing = np.unique(predictions.image_ids[unknown])
        shown = ", ".join(str(int(i)) for i in missing[:10])
        raise EvaluationError(
            f"{int(unknown.sum())} prediction(s) name image ids the ground truth does not have "
            f"(ground truth: {ds.source or '<dataset>'}): {shown}"
            + (f" and {missing.size - 10} more" if missing.size > 10 else "")
        )


def detection_areas(ds: Dataset, det: DetectionInput, rows: IntArray) -> FloatArray:
    """Areas of the detections at ``rows``: box ``w * h`` or mask pixel counts."""
    preds = det.predictions
    if det.area_source == "box":
        boxes = preds.boxes[rows]
        area: FloatArray = boxes[:, 2] * boxes[:, 3]
        return area
    from pycocotools import mask as mask_api

    rles = detection_rles(ds, preds, rows)
    return np.array([float(mask_api.area(r)) for r in rles], dtype=np.float64)


def image_size(ds: Dataset, image_id: int) -> tuple[int, int]:
    position = ds.image_index.position(image_id)
    return int(ds.images.heights[position]), int(ds.images.widths[position])


def detection_rles(ds: Dataset, preds: Predictions, rows: IntArray) -> list[Any]:
    """RLEs of the detections at ``rows``; a box-only detection becomes its box polygon."""
    out = []
    for row in rows.tolist():
        segm = preds.segmentation[row] if preds.has_segmentation else None
        if segm is None:
            segm = box_polygon(preds.boxes[row])
        out.append(to_rle(segm, *image_size(ds, int(preds.image_ids[row]))))
    return out


def annotation_rles(ds: Dataset, rows: IntArray) -> list[Any]:
    """RLEs of the ground-truth annotations at ``rows`` (polygons rasterised at image size)."""
    ann = ds.annotations
    out = []
    for row in rows.tolist():
        position = int(ann.image_index[row])
        size = int(ds.images.heights[position]), int(ds.images.widths[position])
        segm = ann.segmentation[row]
        if segm is None:
            raise EvaluationError(
                f"annotation id={int(ann.ids[row])} has no 'segmentation'; "
                "iou_type='segm' needs one on every annotation (or use iou_type='bbox')"
            )
        out.append(to_rle(segm, *size))
    return out
