"""detlab: a lab notebook for object-detection research.

``import detlab`` is cheap: the public names below load their modules on first use, so that
a training script pays nothing for the parts it does not call.

>>> import detlab
>>> ds = detlab.make_sequential_dataset(num_sequences=1, frames_per_sequence=2)
>>> ds.num_images
2
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from detlab._lazy import lazy_exports
from detlab._version import __version__

if TYPE_CHECKING:
    from detlab.analysis import analyze_errors, analyze_per_class, confusion_matrix
    from detlab.core import Annotations, Category, Dataset, Images, Predictions, convert_boxes
    from detlab.data.anchors import compute_anchors
    from detlab.data.formats import (
        read_coco,
        read_coco_results,
        read_voc,
        read_yolo,
        write_coco,
        write_coco_results,
        write_voc,
        write_yolo,
    )
    from detlab.data.io import read_dataset, write_dataset
    from detlab.data.splits import split_dataset
    from detlab.data.stats import dataset_stats
    from detlab.data.synthetic import make_sequential_dataset
    from detlab.data.validate import validate
    from detlab.metrics import COCOEvaluator, evaluate_coco, evaluate_voc
    from detlab.sdk import Run, init
    from detlab.store import open_store

__all__ = [
    "Annotations",
    "COCOEvaluator",
    "Category",
    "Dataset",
    "Images",
    "Predictions",
    "Run",
    "__version__",
    "analyze_errors",
    "analyze_per_class",
    "compute_anchors",
    "confusion_matrix",
    "convert_boxes",
    "dataset_stats",
    "evaluate_coco",
    "evaluate_voc",
    "init",
    "make_sequential_dataset",
    "open_store",
    "read_coco",
    "read_coco_results",
    "read_dataset",
    "read_voc",
    "read_yolo",
    "split_dataset",
    "validate",
    "write_coco",
    "write_coco_results",
    "write_dataset",
    "write_voc",
    "write_yolo",
]

_LAZY = {
    "Annotations": "detlab.core",
    "COCOEvaluator": "detlab.metrics",
    "Category": "detlab.core",
    "Dataset": "detlab.core",
    "Images": "detlab.core",
    "Predictions": "detlab.core",
    "Run": "detlab.sdk",
    "analyze_errors": "detlab.analysis",
    "analyze_per_class": "detlab.analysis",
    "compute_anchors": "detlab.data.anchors",
    "confusion_matrix": "detlab.analysis",
    "convert_boxes": "detlab.core",
    "dataset_stats": "detlab.data.stats",
    "evaluate_coco": "detlab.metrics",
    "evaluate_voc": "detlab.metrics",
    "init": "detlab.sdk",
    "make_sequential_dataset": "detlab.data.synthetic",
    "open_store": "detlab.store",
    "read_coco": "detlab.data.formats",
    "read_coco_results": "detlab.data.formats",
    "read_dataset": "detlab.data.io",
    "read_voc": "detlab.data.formats",
    "read_yolo": "detlab.data.formats",
    "split_dataset": "detlab.data.splits",
    "validate": "detlab.data.validate",
    "write_coco": "detlab.data.formats",
    "write_coco_results": "detlab.data.formats",
    "write_dataset": "detlab.data.io",
    "write_voc": "detlab.data.formats",
    "write_yolo": "detlab.data.formats",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
