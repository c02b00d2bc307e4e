"""Boxes, ids, the dataset model and experiment entities: the standard library and NumPy only.

Names resolve on first use, so that importing one light module of the package (the run
entities the store returns, say) does not load NumPy and the dataset model with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from detlab._lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY = {
    "BOX_FORMATS": "detlab.core.boxes",
    "BoxFormat": "detlab.core.boxes",
    "as_boxes": "detlab.core.boxes",
    "box_area": "detlab.core.boxes",
    "convert_boxes": "detlab.core.boxes",
    "OPTIONAL_ANNOTATION_FLAGS": "detlab.core.dataset",
    "Annotations": "detlab.core.dataset",
    "Category": "detlab.core.dataset",
    "Dataset": "detlab.core.dataset",
    "Images": "detlab.core.dataset",
    "IdIndex": "detlab.core.ids",
    "Predictions": "detlab.core.predictions",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
