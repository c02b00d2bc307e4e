"""Record-by-record checks of a COCO dict, run when the fast column extraction fails.

Each problem names the table and row (``annotations[12]``), the record's id when it has a usable
one, and the field; for example::

    error: val.json: annotations[12] (id=512, image_id=7), field 'bbox': expected 4 numbers, ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from detlab.core.ids import IntArray
from detlab.data.problems import ProblemLog, describe_value, is_real_number

__all__ = [
    "ANNOTATION_KEYS",
    "IMAGE_KEYS",
    "SEQUENCE_KEYS",
    "check_records",
    "record_namer",
]

#: Keys the model turns into columns; everything else on a record is kept as ``extra``.
IMAGE_KEYS = frozenset({"id", "file_name", "width", "height"})
ANNOTATION_KEYS = frozenset(
    {
        "id",
        "image_id",
        "category_id",
        "bbox",
        "area",
        "iscrowd",
        "segmentation",
        "ignore",
        "difficult",
        "truncated",
    }
)
#: Keys naming an image's sequence (video) and its frame, as COCO-style video datasets spell them.
SEQUENCE_KEYS = (("video_id", "sequence_id", "sequence"), ("frame_id", "frame_index", "frame"))

_INT64_MAX = 2**63 - 1


def record_namer(
    table: str, ids: IntArray | None, image_ids: IntArray | None = None
) -> Callable[[int], str]:
    """``namer(i)`` gives ``"annotations[i] (id=.., image_id=..)"`` for messages."""

    def name(row: int) -> str:
        parts = [] if ids is None else [f"id={int(ids[row])}"]
        if image_ids is not None:
            parts.append(f"image_id={int(image_ids[row])}")
        return f"{table}[{row}] ({', '.join(parts)})" if parts else f"{table}[{row}]"

    return name


def _label(table: str, row: int, record: Any) -> str:
    if isinstance(record, dict):
        ident = record.get("id")
        if isinstance(ident, int) and not isinstance(ident, bool):
            extra = ""
            if table == "annotations" and _is_int(record.get("image_id")):
                extra = f", image_id={record['image_id']}"
            return f"{table}[{row}] (id={ident}{extra})"
    return f"{table}[{row}]"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _INT64_MAX


def _check_id(log: ProblemLog, where: str, record: dict[str, Any], key: str) -> None:
    if key not in record:
        log.error(where, key, "missing required key")
        return
    value = record[key]
    if isinstance(value, str):
        log.error(where, key, f"string id {value!r}: COCO ids are integers")
    elif not _is_int(value):
        log.error(where, key, f"expected an integer id, got {describe_value(value)}")


def _check_number(
    log: ProblemLog, where: str, record: dict[str, Any], key: str, *, required: bool
) -> None:
    if key not in record:
        if required:
            log.error(where, key, "missing required key")
        return
    value = record[key]
    if not is_real_number(value):
        log.error(where, key, f"expected a number, got {describe_value(value)}")


def _check_flag(log: ProblemLog, where: str, record: dict[str, Any], key: str) -> None:
    value = record.get(key, 0)
    if not (isinstance(value, bool) or is_real_number(value)):
        log.error(where, key, f"expected 0 or 1, got {describe_value(value)}")


def _check_bbox(log: ProblemLog, where: str, record: dict[str, Any]) -> None:
    if "bbox" not in record:
        log.error(where, "bbox", "missing required key")
        return
    box = record["bbox"]
    if not (isinstance(box, list) and len(box) == 4 and all(is_real_number(v) for v in box)):
        log.error(
            where, "bbox", f"expected 4 numbers [x, y, width, height], got {describe_value(box)}"
        )


def _table(log: ProblemLog, obj: dict[str, Any], key: str, *, required: bool) -> list[Any]:
    if key not in obj:
        if required:
            log.error("top level", key, f"missing required key '{key}' (a list of records)")
        return []
    value = obj[key]
    if not isinstance(value, list):
        log.error("top level", key, f"expected a list, got {type(value).__name__}")
        return []
    return value


def _each_record(
    log: ProblemLog, table: str, records: list[Any]
) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for row, record in enumerate(records):
        where = _label(table, row, record)
        if isinstance(record, dict):
            out.append((where, record))
        else:
            log.error(where, "", f"expected an object, got {describe_value(record)}")
    return out


def check_records(obj: Any, log: ProblemLog) -> None:
    """Report every structural problem (missing keys, wrong types) in a COCO dict."""
    if not isinstance(obj, dict):
        log.error(
            "top level", "", f"expected a JSON object with 'images', got {type(obj).__name__}"
        )
        return
    for where, image in _each_record(log, "images", _table(log, obj, "images", required=True)):
        _check_id(log, where, image, "id")
        _check_number(log, where, image, "width", required=True)
        _check_number(log, where, image, "height", required=True)
        if not isinstance(image.get("file_name", ""), str):
            log.error(
                where, "file_name", f"expected a string, got {describe_value(image['file_name'])}"
            )
    for where, ann in _each_record(
        log, "annotations", _table(log, obj, "annotations", required=False)
    ):
        for key in ("id", "image_id", "category_id"):
            _check_id(log, where, ann, key)
        _check_bbox(log, where, ann)
        _check_number(log, where, ann, "area", required=False)
        for flag in ("iscrowd", "ignore", "difficult", "truncated"):
            _check_flag(log, where, ann, flag)
    for where, cat in _each_record(
        log, "categories", _table(log, obj, "categories", required=True)
    ):
        _check_id(log, where, cat, "id")
        if not isinstance(cat.get("name"), str):
            log.error(where, "name", f"expected a string, got {describe_value(cat.get('name'))}")
