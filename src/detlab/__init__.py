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
    from detlab.core import Annotations, Category, Dataset, Images, Predictions, convert_boxes
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
    "convert_boxes",
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
    "convert_boxes": "detlab.core",
    "evaluate_coco": "detlab.metrics",
    "evaluate_voc": "detlab.metrics",
    "init": "detlab.sdk",
    "open_store": "detlab.store",
    "make_sequential_dataset": "detlab.data.synthetic",
    "read_coco": "detlab.data.formats",
    "read_coco_results": "detlab.data.formats",
    "read_dataset": "detlab.data.io",
    "read_voc": "detlab.data.formats",
    "read_yolo": "detlab.data.formats",
    "validate": "detlab.data.validate",
    "write_coco": "detlab.data.formats",
    "write_coco_results": "detlab.data.formats",
    "write_dataset": "detlab.data.io",
    "write_voc": "detlab.data.formats",
    "write_yolo": "detlab.data.formats",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
