"""Train/val/test splits of a dataset, and the class distribution they end up with.

Four strategies, each taking the val (and optional test) share of *images*:

- :func:`split_random`: a seeded shuffle.
- :func:`split_by_interval`: every k-th image in frame order goes to val (then to test), so for
  video data both sides see every scene. Deterministic; see :func:`sort_by_frame` for the order.
- :func:`split_stratified`: iterative stratification on per-image box counts, so that every
  class keeps its share of boxes in every split.
- :func:`split_by_sequence`: whole sequences stay on one side (no near-identical frames on
  both), assigned to come close to the fractions and to the class shares.

Sizes. With ``N`` images, val gets ``round(N * val)`` images, test ``round(N * test)`` and
train the rest (halves round up), exactly, for every strategy except ``sequence``, whose
sizes depend on the sequence lengths. A requested split that would get no image is an error.

A class with no boxes is not an error: it appears in the distribution table with zeros
everywhere and is listed in :attr:`SplitDistribution.classes_without_boxes`.

>>> from detlab.data.synthetic import make_sequential_dataset
>>> ds = make_sequential_dataset(num_sequences=4, frames_per_sequence=20, seed=1)
>>> result = split_dataset(ds, "interval", val=0.15)
>>> {name: ids.size for name, ids in result.image_ids().items()}
{'train': 68, 'val': 12}
>>> result.distribution().max_deviation_pp < 5
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

from detlab.core.dataset import Dataset
from detlab.core.ids import IntArray
from detlab.data.split_assign import assign_groups, stratify_iteratively
from detlab.errors import ConfigError, InvalidInputError

__all__ = [
    "SPLIT_NAMES",
    "STRATEGIES",
    "ClassDistribution",
    "SplitDistribution",
    "SplitResult",
    "SplitStrategy",
    "check_fractions",
    "sort_by_frame",
    "split_by_interval",
    "split_by_sequence",
    "split_dataset",
    "split_random",
    "split_stratified",
]

SplitStrategy = Literal["random", "interval", "stratified", "sequence"]
STRATEGIES: tuple[SplitStrategy, ...] = get_args(SplitStrategy)
#: Split names in output order; ``test`` only when a test fraction is given.
SPLIT_NAMES = ("train", "val", "test")
_FULL = "full"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ClassDistribution:
    """One class: boxes and share of boxes (percent) per column, and the largest deviation.

    Columns are ``full`` and the split names. ``max_deviation_pp`` is the largest
    ``|share in a split - share in full|``, in percentage points.
    """

    id: int
    name: str
    counts: dict[str, int]
    shares: dict[str, float]
    max_deviation_pp: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "count": self.counts,
            "share_pct": self.shares,
            "max_deviation_pp": self.max_deviation_pp,
        }


@dataclass(frozen=True)
class SplitDistribution:
    """Per class, how the boxes spread over the splits; ``columns`` is ``full`` + split names."""

    columns: tuple[str, ...]
    images: dict[str, int]
    boxes: dict[str, int]
    classes: tuple[ClassDistribution, ...]

    @property
    def max_deviation_pp(self) -> float:
        """The largest deviation of any class in any split, in percentage points."""
        return max((c.max_deviation_pp for c in self.classes), default=0.0)

    @property
    def classes_without_boxes(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes if c.counts[_FULL] == 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "images": self.images,
            "boxes": self.boxes,
            "max_deviation_pp": self.max_deviation_pp,
            "classes_without_boxes": list(self.classes_without_boxes),
            "classes": [c.to_dict() for c in self.classes],
        }


@dataclass(frozen=True, eq=False)
class SplitResult:
    """Which images went where. ``positions[name]`` holds image positions, ascending."""

    dataset: Dataset = field(repr=False)
    strategy: SplitStrategy
    positions: Mapping[str, IntArray]
    fractions: Mapping[str, float]
    seed: int | None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.positions)

    def image_ids(self) -> dict[str, IntArray]:
        """Image ids per split, in the dataset's order."""
        return {name: self.dataset.images.ids[p] for name, p in self.positions.items()}

    def subsets(self) -> dict[str, Dataset]:
        """One dataset per split (its images in the dataset's order, with their boxes)."""
        return {name: self.dataset.subset(p) for name, p in self.positions.items()}

    def distribution(self) -> SplitDistribution:
        """Boxes and class shares per split, against the full dataset."""
        return _distribution(self.dataset, self.positions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "seed": self.seed,
            "fractions": dict(self.fractions),
            "distribution": self.distribution().to_dict(),
        }


def _distribution(ds: Dataset, positions: Mapping[str, IntArray]) -> SplitDistribution:
    columns = (_FULL, *positions)
    codes = np.full(ds.num_images, -1, dtype=np.int64)
    for s, p in enumerate(positions.values()):
        codes[p] = s
    table = np.zeros((len(columns), len(ds.categories)), dtype=np.int64)
    table[0] = ds.counts_per_category()
    cats = ds.category_positions()
    box_codes = codes[ds.annotations.image_index]
    for s in range(len(positions)):
        mine = cats[(box_codes == s) & (cats >= 0)]
        table[s + 1] = np.bincount(mine, minlength=len(ds.categories))
    totals = table.sum(axis=1, keepdims=True)
    shares = 100.0 * np.divide(table, totals, out=np.zeros(table.shape), where=totals > 0)
    deviation = np.abs(shares[1:] - shares[0]).max(axis=0, initial=0.0)
    classes = tuple(
        ClassDistribution(
            id=c.id,
            name=c.name,
            counts={col: int(table[i, k]) for i, col in enumerate(columns)},
            shares={col: round(float(shares[i, k]), 4) for i, col in enumerate(columns)},
            max_deviation_pp=round(float(deviation[k]), 4),
        )
        for k, c in enumerate(ds.categories)
    )
    images = {_FULL: ds.num_images, **{n: int(p.size) for n, p in positions.items()}}
    boxes = {col: int(totals[i, 0]) for i, col in enumerate(columns)}
    return SplitDistribution(columns, images, boxes, classes)


# --------------------------------------------------------------------------- the strategies


def split_dataset(
    ds: Dataset,
    strategy: SplitStrategy | str,
    *,
    val: float,
    test: float = 0.0,
    seed: int = 0,
) -> SplitResult:
    """Split ``ds`` by ``strategy`` (one of :data:`STRATEGIES`); ``test=0`` means no test split."""
    if strategy == "random":
        return split_random(ds, val=val, test=test, seed=seed)
    if strategy == "interval":
        return split_by_interval(ds, val=val, test=test)
    if strategy == "stratified":
        return split_stratified(ds, val=val, test=test, seed=seed)
    if strategy == "sequence":
        return split_by_sequence(ds, val=val, test=test, seed=seed)
    raise ConfigError(f"unknown split strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")


def split_random(ds: Dataset, *, val: float, test: float = 0.0, seed: int = 0) -> SplitResult:
    """Shuffle the images with ``seed`` and cut the shuffled list at the split sizes."""
    sizes = _split_sizes(ds, val, test)
    order = np.random.default_rng(seed).permutation(ds.num_images)
    codes = np.empty(ds.num_images, dtype=np.int64)
    codes[order] = np.repeat(np.arange(len(sizes)), list(sizes.values()))
    return _result(ds, "random", codes, sizes, val, test, seed)


def split_by_interval(ds: Dataset, *, val: float, test: float = 0.0) -> SplitResult:
    """Every k-th image in frame order to val (k = 1 / val), then likewise to test.

    Val takes ranks ``floor((j + 1/2) * N / n_val)`` for ``j < n_val`` in the order of
    :func:`sort_by_frame`, spread evenly from the first scene to the last; test takes the same
    pattern over the images left. Raises :class:`InvalidInputError` when the images have no
    frame order.
    """
    sizes = _split_sizes(ds, val, test)
    order = sort_by_frame(ds)
    rank_codes = np.zeros(ds.num_images, dtype=np.int64)
    left = np.arange(ds.num_images)
    for code, name in enumerate(sizes):
        if name == "train":
            continue
        picked = left[_evenly_spaced(left.size, sizes[name])]
        rank_codes[picked] = code
        left = np.setdiff1d(left, picked, assume_unique=True)
    codes = np.empty(ds.num_images, dtype=np.int64)
    codes[order] = rank_codes
    return _result(ds, "interval", codes, sizes, val, test, None)


def split_stratified(ds: Dataset, *, val: float, test: float = 0.0, seed: int = 0) -> SplitResult:
    """Iterative stratification of the images by their boxes per class (exact split sizes).

    Sechidis et al. (2011) on counts: the class with the fewest unassigned images goes first,
    each of its images to the split still wanting the most boxes of that class.
    """
    sizes = _split_sizes(ds, val, test)
    if ds.num_annotations == 0:
        raise InvalidInputError(
            f"{_name(ds)} has no boxes, so there are no class shares to stratify; "
            "use the random or interval strategy"
        )
    rng = np.random.default_rng(seed)
    codes = stratify_iteratively(_image_class_counts(ds), _size_array(sizes), rng)
    return _result(ds, "stratified", codes, sizes, val, test, seed)


def split_by_sequence(ds: Dataset, *, val: float, test: float = 0.0, seed: int = 0) -> SplitResult:
    """Whole sequences to one split each, close to the fractions and to the class shares.

    Images without a sequence id count as sequences of one image. Split sizes follow the
    sequence lengths, so they only approach the fractions. ``seed`` breaks ties and picks the
    starting points of the search; with few sequences every seed tends to find the same split.
    Raises :class:`InvalidInputError` when no image has a sequence id or there are fewer
    sequences than splits.
    """
    sizes = _split_sizes(ds, val, test)
    groups = _sequence_groups(ds, len(sizes))
    group_sizes = np.bincount(groups).astype(np.int64)
    counts = np.zeros((group_sizes.size, len(ds.categories)), dtype=np.int64)
    np.add.at(counts, groups, _image_class_counts(ds))
    rng = np.random.default_rng(seed)
    group_codes = assign_groups(group_sizes, counts, _size_array(sizes), rng)
    return _result(ds, "sequence", group_codes[groups], sizes, val, test, seed)


# --------------------------------------------------------------------------- shared steps


def _name(ds: Dataset) -> str:
    """How messages name the dataset: ``<source>: the dataset``, the file first."""
    return f"{ds.source}: the dataset" if ds.source else "the dataset"


def _check_fraction(name: str, value: float, *, optional: bool) -> None:
    if optional and value == 0:
        return
    if not (math.isfinite(value) and 0 < value < 1):
        hint = ", or 0 for no test split" if optional else ""
        raise ConfigError(
            f"{name} fraction {value!r} is outside (0, 1); give the share of images "
            f"for {name}, e.g. 0.15{hint}"
        )


def check_fractions(val: float, test: float = 0.0) -> None:
    """Raise :class:`ConfigError` unless ``0 < val < 1``, ``test`` is 0 or in (0, 1) and
    ``val + test < 1``; every strategy checks this first, the CLI before reading anything.
    """
    _check_fraction("val", val, optional=False)
    _check_fraction("test", test, optional=True)
    if val + test >= 1:
        raise ConfigError(
            f"val {val} + test {test} = {val + test:g} leaves no images for train; "
            "the two fractions must add up to less than 1"
        )


def _split_sizes(ds: Dataset, val: float, test: float) -> dict[str, int]:
    """Images per split (``train``, ``val`` and, when asked for, ``test``)."""
    check_fractions(val, test)
    n = ds.num_images
    if n == 0:
        raise InvalidInputError(f"{_name(ds)} has no images; there is nothing to split")
    n_val, n_test = _round_half_up(n * val), _round_half_up(n * test)
    sizes = {"train": n - n_val - n_test, "val": n_val}
    if test > 0:
        sizes["test"] = n_test
    for split, count in sizes.items():
        if count <= 0:
            raise InvalidInputError(
                f"{_name(ds)} has {n} images, so with val {val} and test {test} the {split} "
                "split gets none; use more images or other fractions"
            )
    return sizes


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _size_array(sizes: Mapping[str, int]) -> IntArray:
    return np.array(list(sizes.values()), dtype=np.int64)


def _evenly_spaced(n: int, k: int) -> IntArray:
    """``k`` of ``range(n)`` spread evenly: ``floor((j + 1/2) * n / k)``, distinct for k <= n."""
    return ((2 * np.arange(k, dtype=np.int64) + 1) * n) // (2 * k)


def _image_class_counts(ds: Dataset) -> IntArray:
    """``(N, K)``: boxes per class in each image (boxes of unknown classes left out)."""
    cats = ds.category_positions()
    known = cats >= 0
    counts = np.zeros((ds.num_images, len(ds.categories)), dtype=np.int64)
    np.add.at(counts, (ds.annotations.image_index[known], cats[known]), 1)
    return counts


def _result(
    ds: Dataset,
    strategy: SplitStrategy,
    codes: IntArray,
    sizes: Mapping[str, int],
    val: float,
    test: float,
    seed: int | None,
) -> SplitResult:
    positions = {name: np.flatnonzero(codes == s) for s, name in enumerate(sizes)}
    fractions = {"val": val, "test": test} if test > 0 else {"val": val}
    return SplitResult(ds, strategy, positions, fractions, seed)


def _sequence_groups(ds: Dataset, splits: int) -> IntArray:
    """Per image, a group code: its sequence, or a group of its own when it has none."""
    seq = ds.images.sequence
    if not ds.images.has_sequences:
        raise InvalidInputError(
            f"{_name(ds)} has no sequence ids, so the sequence split has nothing to keep "
            "together; give the images sequence ids (COCO: 'video_id' or 'sequence_id') or "
            "use the interval strategy"
        )
    loose = seq < 0
    groups = seq.copy()
    groups[loose] = seq.max() + 1 + np.arange(int(loose.sum()))
    _, groups = np.unique(groups, return_inverse=True)
    count = int(groups.max()) + 1
    if count < splits:
        raise InvalidInputError(
            f"{_name(ds)} has {count} sequence(s), too few for {splits} splits that keep "
            "each sequence whole; use the interval strategy"
        )
    return groups.astype(np.int64)


# --------------------------------------------------------------------------- frame order

_DIGITS = re.compile(r"(\d+)")

NaturalKey = tuple[str | int, ...]


def _natural_key(text: str) -> NaturalKey:
    """``seq2_10.jpg`` < ``seq10_2.jpg``: digit runs compare as numbers, the rest caseless."""
    parts = _DIGITS.split(text)
    return tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))


def sort_by_frame(ds: Dataset) -> IntArray:
    """Image positions in frame order: by sequence, then frame index, then file name.

    Sequences are ordered by their ids in natural order (images without one come first);
    file names too (``f2.jpg`` before ``f10.jpg``), the exact name breaking ties. An image
    without a frame index must have a number in its file name, and no two images may share
    the same sequence, frame and file name; otherwise the frame order is unknown and
    :class:`InvalidInputError` says which image lacks it.
    """
    images = ds.images
    _check_frame_order(ds)
    seq_keys = [_natural_key(str(v)) for v in images.sequence_values]
    keys = [
        (
            (0,) if code < 0 else (1, seq_keys[code]),
            frame,
            _natural_key(name),
            name,
        )
        for code, frame, name in zip(
            images.sequence.tolist(), images.frame_index.tolist(), images.file_names, strict=True
        )
    ]
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)


def _check_frame_order(ds: Dataset) -> None:
    images = ds.images
    unordered = [
        p
        for p in np.flatnonzero(images.frame_index < 0).tolist()
        if not _DIGITS.search(images.file_names[p])
    ]
    if unordered:
        p = unordered[0]
        raise InvalidInputError(
            f"{_name(ds)} has no frame order for the interval split: {len(unordered)} of "
            f"{ds.num_images} images have neither a frame index nor a number in their file "
            f"name (first: images[{p}] (id={int(images.ids[p])}) {images.file_names[p]!r}); "
            "give the images frame indices (COCO: 'frame_id'), name the files by frame "
            "number, or use the random, stratified or sequence strategy"
        )
    seen: dict[tuple[int, int, str], int] = {}
    for p, key in enumerate(
        zip(images.sequence.tolist(), images.frame_index.tolist(), images.file_names, strict=True)
    ):
        first = seen.setdefault(key, p)
        if first != p:
            raise InvalidInputError(
                f"{_name(ds)} has no frame order for the interval split: images[{first}] "
                f"(id={int(images.ids[first])}) and images[{p}] (id={int(images.ids[p])}) "
                f"have the same sequence, frame index and file name {key[2]!r}; "
                "make the file names unique or use another strategy"
            )
