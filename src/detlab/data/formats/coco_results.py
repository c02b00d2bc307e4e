"""COCO results JSON: a list of ``{image_id, category_id, bbox, score[, segmentation]}``.

The order of the list is kept: evaluators break score ties by file order, as pycocotools does.
A detection may give ``segmentation`` without ``bbox``; its box is then the mask's bounding box
(computed with pycocotools' mask API for RLE, as ``COCO.loadRes`` does).

>>> record = {"image_id": 1, "category_id": 2, "bbox": [0, 0, 5, 5], "score": 0.9}
>>> preds = parse_coco_results([record])
>>> len(preds), preds.scores.tolist()
(1, [0.9])
"""

from __future__ import annotations

from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.dataset import Dataset
from detlab.core.predictions import Predictions
from detlab.data.checks import check_prediction_columns
from detlab.data.formats.coco_records import record_namer
from detlab.data.formats.columns import column
from detlab.data.formats.fast_results import Columns, parse_results_bytes
from detlab.data.formats.jsonio import dump_json, parse_json_bytes, paused_gc, read_bytes
from detlab.data.problems import ProblemLog, describe_value, is_real_number

__all__ = [
    "parse_coco_results",
    "predictions_from_columns",
    "predictions_to_list",
    "read_coco_results",
    "write_coco_results",
]


def read_coco_results(
    path: str | Path, *, gt: Dataset | None = None, warn: bool = True
) -> Predictions:
    """Read a results file; with ``gt``, ids unknown to the ground truth are errors."""
    data = read_bytes(path)
    columns = parse_results_bytes(data)
    if columns is not None:
        return predictions_from_columns(columns, str(path), gt=gt, warn=warn)
    with paused_gc():
        obj = parse_json_bytes(data, str(path))
        return parse_coco_results(obj, source=str(path), gt=gt, warn=warn)


def parse_coco_results(
    obj: Any,
    *,
    source: str = "<list>",
    gt: Dataset | None = None,
    warn: bool = True,
    log: ProblemLog | None = None,
) -> Predictions:
    """Build :class:`Predictions` from a parsed results list; see :func:`read_coco_results`."""
    own_log = log is None
    log = ProblemLog(source) if log is None else log
    columns = _extract_fast(obj)
    if columns is None:
        _check_structure(obj, log)
        if log.has_errors:
            if own_log:
                log.raise_if_errors()
            return Predictions.empty()
        columns = _extract_checked(obj)
    return _checked_predictions(columns, obj, source, gt, warn, None if own_log else log)


def predictions_from_columns(
    columns: Columns, source: str, *, gt: Dataset | None = None, warn: bool = True
) -> Predictions:
    """Predictions from the compiled reader's columns, checked as :func:`parse_coco_results`
    checks them (one problem log for the file, the same messages)."""
    return _checked_predictions(columns, None, source, gt, warn, None)


def _checked_predictions(
    columns: Columns,
    records: list[dict[str, Any]] | None,
    source: str,
    gt: Dataset | None,
    warn: bool,
    log: ProblemLog | None,
) -> Predictions:
    """Check the columns as arrays (boxes, scores, ids against ``gt``) and build the
    predictions; ``records`` (absent on the compiled path, which has no masks) give masks."""
    own_log = log is None
    log = ProblemLog(source) if log is None else log
    image_ids, category_ids, scores, boxes = columns
    check_prediction_columns(
        log,
        image_ids=image_ids,
        category_ids=category_ids,
        boxes=boxes,
        scores=scores,
        name=record_namer("predictions", None, image_ids),
        images=gt.image_index if gt is not None else None,
        categories=gt.category_index if gt is not None else None,
    )
    if own_log:
        log.conclude(warn=warn)
    has_masks = records is not None and any("segmentation" in r for r in records)
    return Predictions.build(
        image_ids,
        category_ids,
        boxes,
        scores,
        segmentation=[r.get("segmentation") for r in records or ()] if has_masks else None,
    )


def _extract_fast(obj: Any) -> Columns | None:
    """Image ids, category ids, scores and boxes, or None unless every record is plain."""
    try:
        return (
            column(obj, "image_id", "i").astype(np.int64).reshape(len(obj)),
            column(obj, "category_id", "i").astype(np.int64).reshape(len(obj)),
            column(obj, "score", "if").astype(np.float64).reshape(len(obj)),
            _box_column(obj),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _box_column(records: list[dict[str, Any]]) -> FloatArray:
    """``column(records, "bbox", "if", width=4)``, converted as one flat list (faster)."""
    boxes = list(map(itemgetter("bbox"), records))
    if not boxes:
        return np.zeros((0, 4))
    if set(map(len, boxes)) != {4}:
        raise ValueError("bbox")
    flat = np.array(list(chain.from_iterable(boxes)))
    if flat.dtype.kind not in "if":
        raise ValueError("bbox")
    return flat.astype(np.float64).reshape(len(boxes), 4)


def _extract_checked(records: list[dict[str, Any]]) -> Columns:
    """The columns of records that passed the structural checks (some boxes come from masks)."""
    return (
        np.array([r["image_id"] for r in records], dtype=np.int64),
        np.array([r["category_id"] for r in records], dtype=np.int64),
        np.array([r["score"] for r in records], dtype=np.float64),
        _boxes(records),
    )


def _boxes(records: list[dict[str, Any]]) -> FloatArray:
    if all("bbox" in r for r in records):
        return np.array([r["bbox"] for r in records], dtype=np.float64).reshape(len(records), 4)
    return np.array(
        [r["bbox"] if "bbox" in r else _mask_box(r["segmentation"]) for r in records],
        dtype=np.float64,
    ).reshape(len(records), 4)


def _mask_box(segmentation: Any) -> list[float]:
    """Bounding box ``xywh`` of a polygon list or an RLE dict."""
    if isinstance(segmentation, list):
        points = np.concatenate([np.asarray(p, dtype=np.float64) for p in segmentation])
        xs, ys = points[0::2], points[1::2]
        return [xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()]
    from detlab._deps import import_optional  # noqa: PLC0415 - only masks need pycocotools

    mask = import_optional("pycocotools.mask", purpose="to read RLE masks")
    rle = dict(segmentation)
    if isinstance(rle.get("counts"), list):
        rle = mask.frPyObjects(rle, *rle["size"])
    return [float(v) for v in mask.toBbox(rle)]


def _check_structure(obj: Any, log: ProblemLog) -> None:
    if not isinstance(obj, list):
        log.error(
            "top level",
            "",
            f"expected a JSON list of detections, got {type(obj).__name__}; "
            "COCO results files are [{image_id, category_id, bbox, score}, ...]",
        )
        return
    for row, record in enumerate(obj):
        where = f"predictions[{row}]"
        if not isinstance(record, dict):
            log.error(where, "", f"expected an object, got {describe_value(record)}")
            continue
        if _is_id(record.get("image_id")):
            where += f" (image_id={record['image_id']})"
        _check_record(log, where, record)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


def _check_record(log: ProblemLog, where: str, record: dict[str, Any]) -> None:
    for key in ("image_id", "category_id"):
        if key not in record:
            log.error(where, key, "missing required key")
        elif isinstance(record[key], str):
            log.error(where, key, f"string id {record[key]!r}: COCO ids are integers")
        elif not _is_id(record[key]):
            log.error(where, key, f"expected an integer id, got {describe_value(record[key])}")
    if "score" not in record:
        log.error(where, "score", "missing required key")
    elif not is_real_number(record["score"]):
        log.error(where, "score", f"expected a number, got {describe_value(record['score'])}")
    if "bbox" in record:
        box = record["bbox"]
        if not (isinstance(box, list) and len(box) == 4 and all(is_real_number(v) for v in box)):
            log.error(
                where,
                "bbox",
                f"expected 4 numbers [x, y, width, height], got {describe_value(box)}",
            )
    elif "segmentation" not in record:
        log.error(where, "bbox", "missing required key (or give a 'segmentation')")


def predictions_to_list(preds: Predictions) -> list[dict[str, Any]]:
    """The detections as a COCO results list."""
    out = []
    for i in range(len(preds)):
        record: dict[str, Any] = {
            "image_id": int(preds.image_ids[i]),
            "category_id": int(preds.category_ids[i]),
            "bbox": [float(v) for v in preds.boxes[i]],
            "score": float(preds.scores[i]),
        }
        if preds.has_segmentation and preds.segmentation[i] is not None:
            record["segmentation"] = preds.segmentation[i]
        out.append(record)
    return out


def write_coco_results(preds: Predictions, path: str | Path) -> None:
    """Write detections as a COCO results JSON file."""
    dump_json(predictions_to_list(preds), path)
