"""The dataset model: categories, images and annotations held as columns.

Annotations are NumPy columns, one row per box, so that statistics, splits and evaluation work
on whole arrays instead of per-object dictionaries. Anything a format carries that the model
has no column for (``info``, ``licenses``, extra keys on images or annotations, the raw
segmentation) is kept aside untouched, so that writing a dataset back loses nothing.

Shapes: ``N`` images, ``M`` annotations, ``K`` categories.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from detlab.core.boxes import FloatArray, as_boxes, box_area
from detlab.core.ids import IdIndex, IntArray

__all__ = [
    "OPTIONAL_ANNOTATION_FLAGS",
    "Annotations",
    "BoolArray",
    "Category",
    "Dataset",
    "Images",
]

BoolArray = npt.NDArray[np.bool_]

#: Per-box flags that only some formats carry; a dataset remembers which ones its source had.
OPTIONAL_ANNOTATION_FLAGS = ("ignore", "difficult", "truncated")


@dataclass(frozen=True)
class Category:
    """One object class. ``extra`` keeps any other keys the source file had."""

    id: int
    name: str
    supercategory: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, eq=False)
class Images:
    """``N`` images as columns.

    ``sequence`` holds, per image, a position in ``sequence_values`` (the video or sequence id
    as the source wrote it) or -1 when unknown; ``frame_index`` is -1 when unknown.
    """

    ids: IntArray
    file_names: tuple[str, ...]
    widths: IntArray
    heights: IntArray
    sequence: IntArray
    frame_index: IntArray
    sequence_values: tuple[int | str, ...] = ()
    extra: tuple[dict[str, Any] | None, ...] = ()

    @classmethod
    def build(
        cls,
        ids: npt.ArrayLike,
        file_names: Sequence[str],
        widths: npt.ArrayLike,
        heights: npt.ArrayLike,
        *,
        sequences: Sequence[int | str | None] | None = None,
        frame_index: npt.ArrayLike | None = None,
        extra: Sequence[dict[str, Any] | None] | None = None,
    ) -> Images:
        """Build the columns; ``sequences`` are sequence ids as the source wrote them."""
        id_array = np.asarray(ids, dtype=np.int64).reshape(-1)
        n = id_array.size
        codes, values = _encode_sequences(sequences, n)
        frames = (
            np.full(n, -1, dtype=np.int64)
            if frame_index is None
            else np.asarray(frame_index, dtype=np.int64).reshape(-1)
        )
        return cls(
            ids=id_array,
            file_names=tuple(file_names),
            widths=np.asarray(widths, dtype=np.int64).reshape(-1),
            heights=np.asarray(heights, dtype=np.int64).reshape(-1),
            sequence=codes,
            frame_index=frames,
            sequence_values=values,
            extra=tuple(extra) if extra is not None else (None,) * n,
        )

    def __len__(self) -> int:
        return int(self.ids.size)

    @property
    def has_sequences(self) -> bool:
        return bool((self.sequence >= 0).any())

    def sequence_of(self, position: int) -> int | str | None:
        code = int(self.sequence[position])
        return self.sequence_values[code] if code >= 0 else None

    def take(self, positions: IntArray) -> Images:
        """The images at ``positions``, in that order."""
        used = np.unique(self.sequence[positions][self.sequence[positions] >= 0])
        remap = np.full(len(self.sequence_values) + 1, -1, dtype=np.int64)
        remap[used] = np.arange(used.size)
        seq = self.sequence[positions]
        return Images(
            ids=self.ids[positions],
            file_names=tuple(self.file_names[i] for i in positions),
            widths=self.widths[positions],
            heights=self.heights[positions],
            sequence=np.where(seq >= 0, remap[seq], -1),
            frame_index=self.frame_index[positions],
            sequence_values=tuple(self.sequence_values[i] for i in used),
            extra=tuple(self.extra[i] for i in positions),
        )


def _encode_sequences(
    sequences: Sequence[int | str | None] | None, n: int
) -> tuple[IntArray, tuple[int | str, ...]]:
    codes = np.full(n, -1, dtype=np.int64)
    if sequences is None:
        return codes, ()
    table: dict[int | str, int] = {}
    for i, value in enumerate(sequences):
        if value is not None:
            codes[i] = table.setdefault(value, len(table))
    return codes, tuple(table)


@dataclass(frozen=True, eq=False)
class Annotations:
    """``M`` boxes as columns, in the order of the source file.

    ``image_index`` is a position in :class:`Images` (not an image id); ``boxes`` are
    ``(M, 4) float64`` in ``xywh``; ``segmentation`` and ``extra`` hold per-box raw data
    (``None`` where absent).
    """

    ids: IntArray
    image_index: IntArray
    category_ids: IntArray
    boxes: FloatArray
    area: FloatArray
    iscrowd: BoolArray
    ignore: BoolArray
    difficult: BoolArray
    truncated: BoolArray
    segmentation: tuple[Any, ...] = ()
    extra: tuple[dict[str, Any] | None, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        ids: npt.ArrayLike,
        image_index: npt.ArrayLike,
        category_ids: npt.ArrayLike,
        boxes: npt.ArrayLike,
        area: npt.ArrayLike | None = None,
        iscrowd: npt.ArrayLike | None = None,
        ignore: npt.ArrayLike | None = None,
        difficult: npt.ArrayLike | None = None,
        truncated: npt.ArrayLike | None = None,
        segmentation: Sequence[Any] | None = None,
        extra: Sequence[dict[str, Any] | None] | None = None,
    ) -> Annotations:
        """Build the columns; missing flags are all False and a missing area is ``w * h``."""
        box_array = as_boxes(boxes, name="annotation boxes")
        m = box_array.shape[0]
        return cls(
            ids=np.asarray(ids, dtype=np.int64).reshape(-1),
            image_index=np.asarray(image_index, dtype=np.int64).reshape(-1),
            category_ids=np.asarray(category_ids, dtype=np.int64).reshape(-1),
            boxes=box_array,
            area=box_area(box_array) if area is None else np.asarray(area, dtype=np.float64),
            iscrowd=_flags(iscrowd, m),
            ignore=_flags(ignore, m),
            difficult=_flags(difficult, m),
            truncated=_flags(truncated, m),
            segmentation=tuple(segmentation) if segmentation is not None else (None,) * m,
            extra=tuple(extra) if extra is not None else (None,) * m,
        )

    @classmethod
    def empty(cls) -> Annotations:
        return cls.build(ids=[], image_index=[], category_ids=[], boxes=np.zeros((0, 4)))

    def __len__(self) -> int:
        return int(self.ids.size)

    def take(self, rows: IntArray, *, image_remap: IntArray | None = None) -> Annotations:
        """The annotations at ``rows``; ``image_remap`` maps old image positions to new ones."""
        image_index = self.image_index[rows]
        if image_remap is not None:
            image_index = image_remap[image_index]
        return replace(
            self,
            ids=self.ids[rows],
            image_index=image_index,
            category_ids=self.category_ids[rows],
            boxes=self.boxes[rows],
            area=self.area[rows],
            iscrowd=self.iscrowd[rows],
            ignore=self.ignore[rows],
            difficult=self.difficult[rows],
            truncated=self.truncated[rows],
            segmentation=tuple(self.segmentation[i] for i in rows),
            extra=tuple(self.extra[i] for i in rows),
        )


def _flags(values: npt.ArrayLike | None, m: int) -> BoolArray:
    if values is None:
        return np.zeros(m, dtype=bool)
    return np.asarray(values).reshape(-1).astype(bool)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A detection dataset: images, categories and their annotations.

    ``optional_flags`` names the per-box flags (``ignore``, ``difficult``, ``truncated``) the
    source carried, so writers put back exactly those; ``extra`` keeps top-level keys such as
    COCO's ``info`` and ``licenses``; ``source`` is the file or folder it was read from.

    >>> import numpy as np
    >>> ds = Dataset(
    ...     images=Images.build([10, 11], ["a.jpg", "b.jpg"], [640, 640], [480, 480]),
    ...     categories=(Category(1, "fish"),),
    ...     annotations=Annotations.build(
    ...         ids=[1], image_index=[1], category_ids=[1], boxes=[[0, 0, 20, 10]]),
    ... )
    >>> ds.image_index.positions(np.array([11, 99]))
    array([ 1, -1])
    >>> ds.counts_per_category().tolist()
    [1]
    """

    images: Images
    categories: tuple[Category, ...]
    annotations: Annotations
    optional_flags: frozenset[str] = frozenset()
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @cached_property
    def image_index(self) -> IdIndex:
        """Image id -> position in :attr:`images`, O(1) per id."""
        return IdIndex(self.images.ids)

    @cached_property
    def category_index(self) -> IdIndex:
        """Category id -> position in :attr:`categories`, O(1) per id."""
        return IdIndex(np.array([c.id for c in self.categories], dtype=np.int64))

    @property
    def category_ids(self) -> IntArray:
        return self.category_index.ids

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    @property
    def num_images(self) -> int:
        return len(self.images)

    @property
    def num_annotations(self) -> int:
        return len(self.annotations)

    def category_positions(self) -> IntArray:
        """Per annotation, the position of its category in :attr:`categories` (-1 if unknown)."""
        return self.category_index.positions(self.annotations.category_ids)

    def counts_per_category(self) -> IntArray:
        """Number of boxes per category, in the order of :attr:`categories`."""
        positions = self.category_positions()
        known = positions[positions >= 0]
        return np.bincount(known, minlength=len(self.categories)).astype(np.int64)

    def counts_per_image(self) -> IntArray:
        return np.bincount(self.annotations.image_index, minlength=self.num_images).astype(np.int64)

    def image_ids_of_annotations(self) -> IntArray:
        return self.images.ids[self.annotations.image_index]

    def rows_by_image(self) -> Iterator[tuple[int, IntArray]]:
        """Yield ``(image position, annotation rows)`` for every image, rows in file order."""
        order = np.argsort(self.annotations.image_index, kind="stable")
        bounds = np.searchsorted(
            self.annotations.image_index[order], np.arange(self.num_images + 1), side="left"
        )
        for position in range(self.num_images):
            yield position, order[bounds[position] : bounds[position + 1]]

    def subset(self, image_positions: npt.ArrayLike) -> Dataset:
        """A dataset of the images at ``image_positions`` (in that order) and their boxes."""
        positions = np.asarray(image_positions, dtype=np.int64).reshape(-1)
        remap = np.full(self.num_images, -1, dtype=np.int64)
        remap[positions] = np.arange(positions.size)
        keep = np.flatnonzero(remap[self.annotations.image_index] >= 0)
        return replace(
            self,
            images=self.images.take(positions),
            annotations=self.annotations.take(keep, image_remap=remap),
        )
