"""Boxes as ``(N, 4) float64`` arrays in exactly three formats.

- ``xyxy``: left, top, right, bottom
- ``xywh``: left, top, width, height (COCO's ``bbox``)
- ``cxcywh``: centre x, centre y, width, height (YOLO, before normalisation)

Coordinates are continuous: a box covering pixels 0..9 inclusive has ``x1 = 0`` and ``x2 = 10``.
Formats with 1-based inclusive pixel indices (Pascal VOC) convert at the reader, not here.

>>> import numpy as np
>>> convert_boxes(np.array([[10.0, 20.0, 30.0, 40.0]]), "xywh", "xyxy")
array([[10., 20., 40., 60.]])
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from detlab.errors import BoxFormatError

__all__ = ["BOX_FORMATS", "BoxFormat", "as_boxes", "box_area", "convert_boxes"]

BoxFormat = Literal["xyxy", "xywh", "cxcywh"]
BOX_FORMATS: tuple[BoxFormat, ...] = get_args(BoxFormat)

FloatArray = npt.NDArray[np.float64]


def as_boxes(boxes: npt.ArrayLike, *, name: str = "boxes") -> FloatArray:
    """``boxes`` as a C-contiguous ``(N, 4) float64`` array; an empty input gives ``(0, 4)``."""
    try:
        array = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise BoxFormatError(f"{name}: cannot read as numbers: {exc}") from exc
    if array.size == 0:
        return np.zeros((0, 4), dtype=np.float64)
    if array.ndim == 1 and array.shape[0] == 4:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != 4:
        raise BoxFormatError(f"{name}: expected shape (N, 4), got {array.shape}")
    return np.ascontiguousarray(array)


def _check_format(fmt: str) -> None:
    if fmt not in BOX_FORMATS:
        known = ", ".join(BOX_FORMATS)
        raise BoxFormatError(f"unknown box format {fmt!r}; use one of {known}")


def _to_xyxy(boxes: FloatArray, fmt: str) -> FloatArray:
    if fmt == "xyxy":
        same: FloatArray = boxes.copy()
        return same
    out = np.empty_like(boxes)
    if fmt == "xywh":
        out[:, :2] = boxes[:, :2]
        out[:, 2:] = boxes[:, :2] + boxes[:, 2:]
    else:  # cxcywh
        half = boxes[:, 2:] / 2.0
        out[:, :2] = boxes[:, :2] - half
        out[:, 2:] = boxes[:, :2] + half
    return out


def _from_xyxy(boxes: FloatArray, fmt: str) -> FloatArray:
    if fmt == "xyxy":
        return boxes
    out = np.empty_like(boxes)
    size = boxes[:, 2:] - boxes[:, :2]
    if fmt == "xywh":
        out[:, :2] = boxes[:, :2]
    else:  # cxcywh
        out[:, :2] = boxes[:, :2] + size / 2.0
    out[:, 2:] = size
    return out


def convert_boxes(boxes: npt.ArrayLike, src: BoxFormat, dst: BoxFormat) -> FloatArray:
    """Convert ``(N, 4)`` boxes from format ``src`` to ``dst``; always returns a new array."""
    _check_format(src)
    _check_format(dst)
    array = as_boxes(boxes)
    out: FloatArray = array.copy()
    if src == dst:
        return out
    if src == "xywh" and dst == "cxcywh":
        out[:, :2] += array[:, 2:] / 2.0
        return out
    if src == "cxcywh" and dst == "xywh":
        out[:, :2] -= array[:, 2:] / 2.0
        return out
    return _from_xyxy(_to_xyxy(array, src), dst)


def box_area(boxes: npt.ArrayLike, fmt: BoxFormat = "xywh") -> FloatArray:
    """Width times height of each box, ``(N,) float64``; negative sizes give negative areas."""
    _check_format(fmt)
    array = as_boxes(boxes)
    if fmt == "xyxy":
        return (array[:, 2] - array[:, 0]) * (array[:, 3] - array[:, 1])
    return array[:, 2] * array[:, 3]
