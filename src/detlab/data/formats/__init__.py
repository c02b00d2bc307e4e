"""Readers and writers, one module per format: COCO (instances and results), Pascal VOC, YOLO.

Pascal VOC and YOLO load on first use: evaluating COCO files in a fresh process does not pay
for their imports (``xml.etree``, ``urllib``, ``shutil``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from detlab._lazy import lazy_exports
from detlab.data.formats.coco import coco_to_dict, parse_coco, read_coco, write_coco
from detlab.data.formats.coco_results import (
    parse_coco_results,
    predictions_to_list,
    read_coco_results,
    write_coco_results,
)

if TYPE_CHECKING:
    from detlab.data.formats.voc import VOC_CLASSES, read_voc, write_voc
    from detlab.data.formats.voc_results import read_voc_detections, write_voc_detections
    from detlab.data.formats.yolo import read_yolo, write_yolo

__all__ = [
    "VOC_CLASSES",
    "coco_to_dict",
    "parse_coco",
    "parse_coco_results",
    "predictions_to_list",
    "read_coco",
    "read_coco_results",
    "read_voc",
    "read_voc_detections",
    "read_yolo",
    "write_coco",
    "write_coco_results",
    "write_voc",
    "write_voc_detections",
    "write_yolo",
]

_LAZY = {
    "VOC_CLASSES": "detlab.data.formats.voc",
    "read_voc": "detlab.data.formats.voc",
    "write_voc": "detlab.data.formats.voc",
    "read_voc_detections": "detlab.data.formats.voc_results",
    "write_voc_detections": "detlab.data.formats.voc_results",
    "read_yolo": "detlab.data.formats.yolo",
    "write_yolo": "detlab.data.formats.yolo",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
