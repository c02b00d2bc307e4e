"""Readers and writers, one module per format: COCO (instances and results), Pascal VOC, YOLO."""

from detlab.data.formats.coco import coco_to_dict, parse_coco, read_coco, write_coco
from detlab.data.formats.coco_results import (
    parse_coco_results,
    predictions_to_list,
    read_coco_results,
    write_coco_results,
)
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
