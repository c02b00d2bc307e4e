"""Detections produced by a model, as columns in the order they were given.

The order matters: evaluators sort detections by score with a stable sort, so among equal
scores the earlier detection in the file ranks first (as pycocotools does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from detlab.core.boxes import FloatArray, as_boxes
from detlab.core.ids import IntArray

__all__ = ["Predictions"]


@dataclass(frozen=True, eq=False)
class Predictions:
    """``D`` detections: image ids, category ids, ``(D, 4) float64`` ``xywh`` boxes and scores.

    ``segmentation`` holds raw masks (RLE or polygons) per detection, or is empty for boxes only.
    """

    image_ids: IntArray
    category_ids: IntArray
    boxes: FloatArray
    scores: FloatArray
    segmentation: tuple[Any, ...] = ()

    @classmethod
    def build(
        cls,
        image_ids: npt.ArrayLike,
        category_ids: npt.ArrayLike,
        boxes: npt.ArrayLike,
        scores: npt.ArrayLike,
        *,
        segmentation: Sequence[Any] | None = None,
    ) -> Predictions:
        return cls(
            image_ids=np.asarray(image_ids, dtype=np.int64).reshape(-1),
            category_ids=np.asarray(category_ids, dtype=np.int64).reshape(-1),
            boxes=as_boxes(boxes, name="prediction boxes"),
            scores=np.asarray(scores, dtype=np.float64).reshape(-1),
            segmentation=tuple(segmentation) if segmentation is not None else (),
        )

    @classmethod
    def empty(cls) -> Predictions:
        return cls.build([], [], np.zeros((0, 4)), [])

    def __len__(self) -> int:
        return int(self.scores.size)

    @property
    def has_segmentation(self) -> bool:
        return len(self.segmentation) > 0
