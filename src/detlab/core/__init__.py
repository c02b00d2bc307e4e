"""Boxes, ids and the dataset model: the standard library and NumPy only."""

from detlab.core.boxes import BOX_FORMATS, BoxFormat, as_boxes, box_area, convert_boxes
from detlab.core.dataset import (
    OPTIONAL_ANNOTATION_FLAGS,
    Annotations,
    Category,
    Dataset,
    Images,
)
from detlab.core.ids import IdIndex
from detlab.core.predictions import Predictions

__all__ = [
    "BOX_FORMATS",
    "OPTIONAL_ANNOTATION_FLAGS",
    "Annotations",
    "BoxFormat",
    "Category",
    "Dataset",
    "IdIndex",
    "Images",
    "Predictions",
    "as_boxes",
    "box_area",
    "convert_boxes",
]
