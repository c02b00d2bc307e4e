"""A dataset at a glance: the counts people write at the top of an experiment log.

The full statistics (areas, aspect ratios, size distributions) belong to the analysis layer;
this is the quick look that ``detlab info`` and ``detlab validate`` print.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detlab.core.dataset import Dataset

__all__ = ["ClassCount", "DatasetSummary", "summarize_dataset"]


@dataclass(frozen=True)
class ClassCount:
    id: int
    name: str
    count: int
    images: int


@dataclass(frozen=True)
class DatasetSummary:
    num_images: int
    num_boxes: int
    num_categories: int
    empty_images: int
    crowd: int
    difficult: int
    ignored: int
    sequences: int
    per_class: tuple[ClassCount, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "num_images": self.num_images,
            "num_boxes": self.num_boxes,
            "num_categories": self.num_categories,
            "empty_images": self.empty_images,
            "crowd": self.crowd,
            "difficult": self.difficult,
            "ignored": self.ignored,
            "sequences": self.sequences,
            "per_class": [vars(c) for c in self.per_class],
        }


def summarize_dataset(ds: Dataset) -> DatasetSummary:
    """Counts per dataset and per class (boxes and images containing the class)."""
    anns = ds.annotations
    positions = ds.category_positions()
    k = len(ds.categories)
    boxes_per_class = np.bincount(positions[positions >= 0], minlength=k)
    pairs = np.unique(np.stack([anns.image_index, positions])[:, positions >= 0], axis=1)
    images_per_class = np.bincount(pairs[1], minlength=k) if pairs.size else np.zeros(k, int)
    per_class = tuple(
        ClassCount(c.id, c.name, int(boxes_per_class[i]), int(images_per_class[i]))
        for i, c in enumerate(ds.categories)
    )
    return DatasetSummary(
        num_images=ds.num_images,
        num_boxes=ds.num_annotations,
        num_categories=k,
        empty_images=int((ds.counts_per_image() == 0).sum()),
        crowd=int(anns.iscrowd.sum()),
        difficult=int(anns.difficult.sum()),
        ignored=int(anns.ignore.sum()),
        sequences=len(ds.images.sequence_values),
        per_class=per_class,
    )
