"""The compiled fast path for COCO results and instances files (``_fastresults.c``), when built.

A results file of the common shape (a list of objects with exactly ``image_id``,
``category_id``, ``score`` and a four-number ``bbox``) becomes columns without a Python object
per detection: about 8x faster than parsing it into dicts. Anything else, or a build without
the extension, returns ``None`` and the caller reads the file the full way, which names every
faulty record and field. An instances file's annotations of the common shape become columns
the same way (:func:`parse_instances_bytes`); the rest of the file is left to the JSON parser.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.ids import IntArray

__all__ = ["InstanceColumns", "available", "parse_instances_bytes", "parse_results_bytes"]

Columns = tuple[IntArray, IntArray, FloatArray, FloatArray]


def _module() -> ModuleType | None:
    try:
        return importlib.import_module("detlab.data.formats._fastresults")
    except ImportError:  # not compiled (an install without a C compiler): the slow path
        return None


_EXTENSION = _module()


def available() -> bool:
    return _EXTENSION is not None


def parse_results_bytes(data: bytes) -> Columns | None:
    """Image ids, category ids, scores and ``(D, 4)`` boxes, or ``None`` when declined."""
    if _EXTENSION is None:
        return None
    parsed = _EXTENSION.parse(data)
    if parsed is None:
        return None
    images, categories, scores, boxes = parsed
    return (
        np.frombuffer(images, dtype="<i8").astype(np.int64),
        np.frombuffer(categories, dtype="<i8").astype(np.int64),
        np.frombuffer(scores, dtype="<f8").astype(np.float64),
        np.frombuffer(boxes, dtype="<f8").astype(np.float64).reshape(-1, 4),
    )


@dataclass(frozen=True, eq=False)
class InstanceColumns:
    """A COCO instances file's annotations as columns, and the spans of everything else.

    ``members`` are the ``(start, end)`` byte spans of the top-level members other than
    ``annotations`` (``"images": [...]`` and so on), ``segmentations`` the ``(record, start,
    end)`` spans of each ``segmentation`` value; ``keys`` the optional annotation keys that
    occur (of ``area``, ``iscrowd``, ``segmentation``). ``area`` is NaN where a record has none.
    """

    ids: IntArray
    image_ids: IntArray
    category_ids: IntArray
    boxes: FloatArray
    area: FloatArray
    iscrowd: IntArray
    keys: frozenset[str]
    members: IntArray  # (P, 2)
    segmentations: IntArray  # (S, 3)


_OPTIONAL_KEYS = ((16, "area"), (32, "iscrowd"), (64, "segmentation"))


def parse_instances_bytes(data: bytes) -> InstanceColumns | None:
    """The annotations of a COCO instances file as columns, or ``None`` when declined."""
    if _EXTENSION is None or not hasattr(_EXTENSION, "parse_instances"):
        return None
    parsed = _EXTENSION.parse_instances(data)
    if parsed is None:
        return None
    n, ids, images, categories, boxes, area, crowd, keys, members, segs = parsed
    present = {"id", "image_id", "category_id", "bbox"} if n else set()
    present |= {name for bit, name in _OPTIONAL_KEYS if keys & bit}
    return InstanceColumns(
        ids=np.frombuffer(ids, dtype="<i8").astype(np.int64),
        image_ids=np.frombuffer(images, dtype="<i8").astype(np.int64),
        category_ids=np.frombuffer(categories, dtype="<i8").astype(np.int64),
        boxes=np.frombuffer(boxes, dtype="<f8").astype(np.float64).reshape(-1, 4),
        area=np.frombuffer(area, dtype="<f8").astype(np.float64),
        iscrowd=np.frombuffer(crowd, dtype="<i8").astype(np.int64),
        keys=frozenset(present),
        members=np.frombuffer(members, dtype="<i8").astype(np.int64).reshape(-1, 2),
        segmentations=np.frombuffer(segs, dtype="<i8").astype(np.int64).reshape(-1, 3),
    )
