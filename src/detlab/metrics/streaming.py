"""``COCOEvaluator``: COCO evaluation fed batch by batch, mergeable across processes.

The state is the detections seen so far (and, without ground truth up front, the targets),
kept as NumPy columns: it pickles, and :meth:`COCOEvaluator.merge` appends another
evaluator's state, so halves evaluated in separate processes combine into exactly the
single-process result. Only the order of detections *within one image* can change a result
(pycocotools breaks score ties by file order there; across images it orders by image id), so
keep each image's detections in one batch, or merge in the order they were produced.

>>> ev = COCOEvaluator({"images": [{"id": 1, "width": 9, "height": 9}], "annotations": [],
...                     "categories": [{"id": 1, "name": "fish"}]})
>>> ev.update([])
>>> ev.compute().stats.tolist()[:2]
[-1.0, -1.0]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from detlab.core.dataset import Annotations, Dataset, Images
from detlab.core.predictions import Predictions
from detlab.errors import EvaluationError
from detlab.metrics.engine import run_coco
from detlab.metrics.inputs import (
    AreaSource,
    DetectionInput,
    GroundTruthLike,
    PredictionsLike,
    load_ground_truth,
    load_predictions,
)
from detlab.metrics.params import AreaRange, COCOParams
from detlab.metrics.result import COCOResult

__all__ = ["COCOEvaluator"]


class COCOEvaluator:
    """Streaming form of :func:`~detlab.metrics.evaluate_coco` (same options).

    Give ``gt`` up front, or leave it out and pass each batch's ground truth as ``targets``.
    """

    def __init__(
        self,
        gt: GroundTruthLike | None = None,
        *,
        iou_type: str = "bbox",
        max_dets: Iterable[int] = (1, 10, 100),
        iou_thresholds: Iterable[float] | None = None,
        area_ranges: Mapping[str, Sequence[float]] | Iterable[AreaRange] | None = None,
        category_ids: Iterable[int] | None = None,
        image_ids: Iterable[int] | None = None,
        compat: str = "pycocotools",
    ) -> None:
        self.params = COCOParams.build(
            iou_type=iou_type,
            max_dets=max_dets,
            iou_thresholds=iou_thresholds,
            area_ranges=area_ranges,
            category_ids=category_ids,
            image_ids=image_ids,
            compat=compat,
        )
        self.gt: Dataset | None = None if gt is None else load_ground_truth(gt)
        self._chunks: list[Predictions] = []
        self._targets: list[Dataset] = []
        self._area_source: AreaSource | None = None

    def update(self, predictions: PredictionsLike, targets: GroundTruthLike | None = None) -> None:
        """Add a batch of detections (and its ground truth when none was given up front)."""
        if (targets is None) == (self.gt is None):
            raise EvaluationError(
                "give ground truth either to COCOEvaluator(gt) or as update(..., targets=...), "
                "exactly one of the two"
            )
        det = load_predictions(predictions)
        if self._area_source is None and len(det.predictions):
            self._area_source = det.area_source  # loadRes decides by the first record
        self._chunks.append(det.predictions)
        if targets is not None:
            self._targets.append(load_ground_truth(targets))

    def reset(self) -> None:
        """Forget every batch (the ground truth given up front stays)."""
        self._chunks, self._targets, self._area_source = [], [], None

    def merge(self, other: COCOEvaluator) -> None:
        """Append ``other``'s batches after this one's; both must share params and ground truth."""
        if other.params != self.params:
            raise EvaluationError("cannot merge evaluators with different parameters")
        if (self.gt is None) != (other.gt is None) or not _same_gt(self.gt, other.gt):
            raise EvaluationError("cannot merge evaluators built on different ground truth")
        self._chunks.extend(other._chunks)
        self._targets.extend(other._targets)
        self._area_source = self._area_source or other._area_source

    def compute(self) -> COCOResult:
        """Evaluate everything seen so far."""
        gt = self.gt if self.gt is not None else concat_datasets(self._targets)
        det = DetectionInput(concat_predictions(self._chunks), self._area_source or "box")
        return run_coco(gt, det, self.params)

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def _same_gt(a: Dataset | None, b: Dataset | None) -> bool:
    if a is None or b is None or a is b:
        return True
    return (
        np.array_equal(a.images.ids, b.images.ids)
        and np.array_equal(a.annotations.ids, b.annotations.ids)
        and np.array_equal(a.annotations.boxes, b.annotations.boxes)
        and np.array_equal(a.category_ids, b.category_ids)
    )


def concat_predictions(chunks: Sequence[Predictions]) -> Predictions:
    """One :class:`Predictions` with every chunk's rows, in order."""
    if not chunks:
        return Predictions.empty()
    has_masks = any(c.has_segmentation for c in chunks)
    masks: list[Any] = []
    for chunk in chunks:
        masks.extend(chunk.segmentation if chunk.has_segmentation else [None] * len(chunk))
    return Predictions.build(
        np.concatenate([c.image_ids for c in chunks]),
        np.concatenate([c.category_ids for c in chunks]),
        np.concatenate([c.boxes for c in chunks]),
        np.concatenate([c.scores for c in chunks]),
        segmentation=masks if has_masks else None,
    )


def concat_datasets(parts: Sequence[Dataset]) -> Dataset:
    """The images and annotations of every part; categories must agree."""
    if not parts:
        raise EvaluationError("no ground truth: call update(predictions, targets=...) first")
    first = parts[0]
    if any(p.categories != first.categories for p in parts[1:]):
        raise EvaluationError("targets of different batches define different categories")
    offsets = np.cumsum([0] + [p.num_images for p in parts])
    images = Images.build(
        np.concatenate([p.images.ids for p in parts]),
        [name for p in parts for name in p.images.file_names],
        np.concatenate([p.images.widths for p in parts]),
        np.concatenate([p.images.heights for p in parts]),
    )
    if np.unique(images.ids).size != images.ids.size:
        raise EvaluationError("the same image id appears in the targets of two batches")
    anns = [p.annotations for p in parts]
    annotations = Annotations.build(
        ids=np.concatenate([a.ids for a in anns]),
        image_index=np.concatenate(
            [a.image_index + o for a, o in zip(anns, offsets, strict=False)]
        ),
        category_ids=np.concatenate([a.category_ids for a in anns]),
        boxes=np.concatenate([a.boxes for a in anns]),
        area=np.concatenate([a.area for a in anns]),
        iscrowd=np.concatenate([a.iscrowd for a in anns]),
        ignore=np.concatenate([a.ignore for a in anns]),
        difficult=np.concatenate([a.difficult for a in anns]),
        truncated=np.concatenate([a.truncated for a in anns]),
        segmentation=[s for a in anns for s in a.segmentation],
    )
    return Dataset(images, first.categories, annotations, first.optional_flags)
