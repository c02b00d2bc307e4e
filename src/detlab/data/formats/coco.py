"""COCO instances JSON: reader and writer.

Reading takes a fast path that pulls every column out with one list comprehension per key and
checks them as arrays; only when that fails (a key missing, a string id, a ragged ``bbox``) does
a record-by-record pass run, to name each faulty record and field. From a file, annotations of
the common shape skip even the JSON objects: the compiled reader turns them into columns
(:func:`parse_coco_bytes`). Keys the model has no column
for are kept: top-level ones (``info``, ``licenses``, ...) in ``Dataset.extra``, per-record ones
in each table's ``extra``, and ``segmentation`` untouched.

>>> ds = parse_coco({"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 3}],
...                  "annotations": [], "categories": [{"id": 1, "name": "fish"}]})
>>> ds.num_images, ds.category_names
(1, ('fish',))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson

from detlab.core.dataset import (
    OPTIONAL_ANNOTATION_FLAGS,
    Annotations,
    Category,
    Dataset,
    Images,
)
from detlab.core.ids import IdIndex
from detlab.data.checks import check_annotation_columns, check_image_columns
from detlab.data.formats.coco_records import (
    ANNOTATION_KEYS,
    IMAGE_KEYS,
    SEQUENCE_KEYS,
    check_records,
    record_namer,
)
from detlab.data.formats.columns import column
from detlab.data.formats.fast_results import InstanceColumns, parse_instances_bytes
from detlab.data.formats.jsonio import dump_json, parse_json_bytes, paused_gc, read_bytes
from detlab.data.problems import ProblemLog
from detlab.errors import AnnotationParseError

__all__ = ["coco_to_dict", "parse_coco", "parse_coco_bytes", "read_coco", "write_coco"]


def read_coco(path: str | Path, *, warn: bool = True) -> Dataset:
    """Read a COCO instances file. Raises :class:`AnnotationParseError` listing every error."""
    data = read_bytes(path)
    # The parsed records die with this call: the collector never needs to walk them.
    with paused_gc():
        return parse_coco_bytes(data, source=str(path), warn=warn)


def parse_coco_bytes(data: bytes, *, source: str = "<bytes>", warn: bool = True) -> Dataset:
    """Build a :class:`Dataset` from a COCO instances file's bytes.

    Annotations of the common shape are read straight into columns by the compiled reader
    (``fast_results.parse_instances_bytes``), the rest of the file by the JSON parser; any
    other file, or a build without the extension, takes :func:`parse_coco`. Both give the
    same dataset and the same problems.
    """
    dataset = _parse_compiled(data, source, warn)
    if dataset is not None:
        return dataset
    return parse_coco(parse_json_bytes(data, source), source=source, warn=warn)


def _parse_compiled(data: bytes, source: str, warn: bool) -> Dataset | None:
    columns = parse_instances_bytes(data)
    if columns is None:
        return None
    rest = b"{" + b",".join(data[start:end] for start, end in columns.members.tolist()) + b"}"
    try:
        obj = orjson.loads(rest)
        segmentation = _segmentations(data, columns)
    except orjson.JSONDecodeError:
        return None  # the full reader names the fault
    cols = _extract_images_and_categories(obj) if isinstance(obj, dict) else None
    if cols is None:
        return None
    cols.update(
        n_annotations=columns.ids.size,
        ann_ids=columns.ids,
        ann_image_ids=columns.image_ids,
        ann_category_ids=columns.category_ids,
        boxes=columns.boxes,
        area=columns.area,
        iscrowd=columns.iscrowd,
        ann_keys=set(columns.keys),
        segmentation=segmentation,
        ann_extra=None,  # the compiled reader declines keys the model has no column for
    )
    log = ProblemLog(source)
    dataset = _build(obj, cols, log, source)
    log.conclude(warn=warn)
    return dataset


def _segmentations(data: bytes, columns: InstanceColumns) -> list[Any]:
    out: list[Any] = [None] * columns.ids.size
    spans = columns.segmentations.tolist()
    if spans:
        values = orjson.loads(b"[" + b",".join(data[s:e] for _, s, e in spans) + b"]")
        for (record, _, _), value in zip(spans, values, strict=True):
            out[record] = value
    return out


def parse_coco(
    obj: Any, *, source: str = "<dict>", warn: bool = True, log: ProblemLog | None = None
) -> Dataset:
    """Build a :class:`Dataset` from a parsed COCO dict.

    With ``log`` given, problems go there and a dataset is returned whenever the records could
    be read at all (for ``detlab validate``); without it, any error raises.
    """
    own_log = log is None
    log = ProblemLog(source) if log is None else log
    columns = _extract_fast(obj)
    if columns is None:
        check_records(obj, log)
        if log.has_errors:
            if own_log:
                log.raise_if_errors()
            return _empty_dataset(source)
        columns = _extract_fast(obj)
        if columns is None:  # pragma: no cover - check_records accepts only what extracts
            raise AnnotationParseError(f"{source}: the file could not be read as COCO")
    dataset = _build(obj, columns, log, source)
    if own_log:
        log.conclude(warn=warn)
    return dataset


def _empty_dataset(source: str) -> Dataset:
    return Dataset(
        images=Images.build([], [], [], []),
        categories=(),
        annotations=Annotations.empty(),
        source=source,
    )


def _extract_fast(obj: Any) -> dict[str, Any] | None:
    """All columns, or None when any record is not plainly well formed."""
    cols = _extract_images_and_categories(obj)
    if cols is None:
        return None
    try:
        anns = obj.get("annotations", [])
        cols["n_annotations"] = len(anns)
        cols["ann_ids"] = column(anns, "id", "i")
        cols["ann_image_ids"] = column(anns, "image_id", "i")
        cols["ann_category_ids"] = column(anns, "category_id", "i")
        cols["boxes"] = column(anns, "bbox", "if", width=4)
        cols["area"] = column(anns, "area", "if", default=np.nan).astype(np.float64)
        cols["iscrowd"] = column(anns, "iscrowd", "biuf", default=0)
        # One pass in C over every record's keys tells which optional keys occur at all.
        cols["ann_keys"] = set().union(*anns)
        for flag in OPTIONAL_ANNOTATION_FLAGS:
            if flag in cols["ann_keys"]:
                cols[flag] = column(anns, flag, "biuf", default=0)
        cols["segmentation"] = [r.get("segmentation") for r in anns]
        cols["ann_extra"] = _extras(anns, cols["ann_keys"], ANNOTATION_KEYS)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return cols


def _extract_images_and_categories(obj: Any) -> dict[str, Any] | None:
    """The image and category columns, or None when any record is not plainly well formed."""
    try:
        images, cats = obj["images"], obj["categories"]
        cols: dict[str, Any] = {
            "image_ids": column(images, "id", "i"),
            "widths": column(images, "width", "if"),
            "heights": column(images, "height", "if"),
            "file_names": [str(r.get("file_name", "")) for r in images],
            "cat_ids": column(cats, "id", "i"),
        }
        if not all(isinstance(c["name"], str) for c in cats):
            return None
        cols["image_keys"] = set().union(*images)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return cols


def _as_float(values: Any, n: int) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).reshape(n)


def _build(obj: dict[str, Any], cols: dict[str, Any], log: ProblemLog, source: str) -> Dataset:
    images_raw = obj["images"]
    n, m = len(images_raw), cols["n_annotations"]
    image_ids = cols["image_ids"].astype(np.int64).reshape(n)
    widths = _as_float(cols["widths"], n)
    heights = _as_float(cols["heights"], n)
    check_image_columns(log, image_ids, widths, heights, record_namer("images", image_ids))
    categories = _build_categories(obj["categories"])
    boxes = _as_float(cols["boxes"], m * 4).reshape(m, 4)
    ann_ids = cols["ann_ids"].astype(np.int64).reshape(m)
    ann_image_ids = cols["ann_image_ids"].astype(np.int64).reshape(m)
    image_pos = check_annotation_columns(
        log,
        image_ids=ann_image_ids,
        category_ids=cols["ann_category_ids"].astype(np.int64).reshape(m),
        boxes=boxes,
        images=IdIndex(image_ids),
        categories=IdIndex(np.array([c.id for c in categories], dtype=np.int64)),
        widths=widths,
        heights=heights,
        name=record_namer("annotations", ann_ids, ann_image_ids),
        ids=ann_ids,
    )
    area = cols["area"]
    missing_area = np.isnan(area)
    area[missing_area] = boxes[missing_area, 2] * boxes[missing_area, 3]
    sequences, frames = _sequence_columns(images_raw, cols["image_keys"])
    images = Images.build(
        image_ids,
        cols["file_names"],
        np.round(widths).astype(np.int64),
        np.round(heights).astype(np.int64),
        sequences=sequences,
        frame_index=frames,
        extra=_extras(images_raw, cols["image_keys"], IMAGE_KEYS),
    )
    annotations = Annotations.build(
        ids=ann_ids,
        image_index=np.maximum(image_pos, 0),
        category_ids=cols["ann_category_ids"].astype(np.int64).reshape(m),
        boxes=boxes,
        area=area,
        iscrowd=cols["iscrowd"],
        segmentation=cols["segmentation"],
        extra=cols["ann_extra"],
        **{flag: cols.get(flag) for flag in OPTIONAL_ANNOTATION_FLAGS},
    )
    present = frozenset(cols["ann_keys"] & set(OPTIONAL_ANNOTATION_FLAGS))
    extra = {k: v for k, v in obj.items() if k not in {"images", "annotations", "categories"}}
    return Dataset(images, categories, annotations, present, extra, source)


def _build_categories(records: list[dict[str, Any]]) -> tuple[Category, ...]:
    return tuple(
        Category(
            id=int(r["id"]),
            name=r["name"],
            supercategory=str(r.get("supercategory", "")),
            extra={k: v for k, v in r.items() if k not in {"id", "name", "supercategory"}},
        )
        for r in records
    )


def _sequence_columns(
    records: list[dict[str, Any]], keys: set[str]
) -> tuple[list[Any] | None, list[int] | None]:
    seq_key = next((k for k in SEQUENCE_KEYS[0] if k in keys), None)
    frame_key = next((k for k in SEQUENCE_KEYS[1] if k in keys), None)
    sequences = [r.get(seq_key) for r in records] if seq_key else None
    frames = [_frame(r.get(frame_key)) for r in records] if frame_key else None
    return sequences, frames


def _frame(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else -1


def _extras(
    records: list[dict[str, Any]], keys: set[str], known: frozenset[str]
) -> list[dict[str, Any] | None] | None:
    """Per record, the keys the model has no column for (None everywhere when there are none)."""
    if keys <= known:
        return None
    extras = ({k: v for k, v in r.items() if k not in known} for r in records)
    return [extra or None for extra in extras]


# --------------------------------------------------------------------------- writing


def coco_to_dict(ds: Dataset) -> dict[str, Any]:
    """The dataset as a COCO dict, with every kept key back in place."""
    out: dict[str, Any] = dict(ds.extra)
    out["images"] = [_image_record(ds, i) for i in range(ds.num_images)]
    out["annotations"] = [_annotation_record(ds, j) for j in range(ds.num_annotations)]
    out["categories"] = [_category_record(c) for c in ds.categories]
    return out


def _category_record(category: Category) -> dict[str, Any]:
    record: dict[str, Any] = {"id": category.id, "name": category.name}
    if category.supercategory:
        record["supercategory"] = category.supercategory
    record.update(category.extra)
    return record


def _image_record(ds: Dataset, i: int) -> dict[str, Any]:
    images = ds.images
    record: dict[str, Any] = {
        "id": int(images.ids[i]),
        "file_name": images.file_names[i],
        "width": int(images.widths[i]),
        "height": int(images.heights[i]),
    }
    extra = images.extra[i] or {}
    sequence = images.sequence_of(i)
    if sequence is not None and not (extra.keys() & set(SEQUENCE_KEYS[0])):
        record["video_id"] = sequence
    frame = int(images.frame_index[i])
    if frame >= 0 and not (extra.keys() & set(SEQUENCE_KEYS[1])):
        record["frame_id"] = frame
    record.update(extra)
    return record


def _annotation_record(ds: Dataset, j: int) -> dict[str, Any]:
    a = ds.annotations
    record: dict[str, Any] = {
        "id": int(a.ids[j]),
        "image_id": int(ds.images.ids[a.image_index[j]]),
        "category_id": int(a.category_ids[j]),
        "bbox": [_number(v) for v in a.boxes[j]],
        "area": _number(a.area[j]),
        "iscrowd": int(a.iscrowd[j]),
    }
    for flag in OPTIONAL_ANNOTATION_FLAGS:
        if flag in ds.optional_flags:
            record[flag] = int(getattr(a, flag)[j])
    if a.segmentation[j] is not None:
        record["segmentation"] = a.segmentation[j]
    extra = a.extra[j]
    if extra:
        record.update(extra)
    return record


def _number(value: float) -> int | float:
    """Integral floats are written as ints, like the source files usually have them."""
    number = float(value)
    return int(number) if number.is_integer() else number


def write_coco(ds: Dataset, path: str | Path, *, indent: bool = False) -> None:
    """Write ``ds`` as a COCO instances JSON file."""
    dump_json(coco_to_dict(ds), path, indent=indent)
