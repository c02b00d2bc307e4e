"""Dataset splits: the acceptance properties on generated video data, sizes, order and errors."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from detlab.core.dataset import Annotations, Category, Dataset, Images
from detlab.data.splits import (
    STRATEGIES,
    SplitResult,
    sort_by_frame,
    split_by_interval,
    split_by_sequence,
    split_dataset,
    split_random,
    split_stratified,
)
from detlab.data.synthetic import make_sequential_dataset
from detlab.errors import ConfigError, InvalidInputError

SEEDS = [0, 1, 2, 3, 4]
SEEDED = ["random", "stratified", "sequence"]


def _video(seed: int, sequences: int = 20, frames: int = 60) -> Dataset:
    return make_sequential_dataset(num_sequences=sequences, frames_per_sequence=frames, seed=seed)


def _val_deviation_pp(result: SplitResult) -> float:
    """The largest |class share in val - class share in full| over the classes, in pp."""
    return max(abs(c.shares["val"] - c.shares["full"]) for c in result.distribution().classes)


def _flat(file_names: list[str], frames: list[int] | None = None, source: str = "") -> Dataset:
    """One box of class 1 per image; no sequences; frame indices only when given."""
    n = len(file_names)
    return Dataset(
        images=Images.build(
            np.arange(1, n + 1), file_names, [64] * n, [48] * n, frame_index=frames
        ),
        categories=(Category(1, "fish"),),
        annotations=Annotations.build(
            ids=np.arange(1, n + 1),
            image_index=np.arange(n),
            category_ids=np.ones(n),
            boxes=np.tile([1.0, 1.0, 5.0, 5.0], (n, 1)),
        ),
        source=source,
    )


# --------------------------------------------------------------------------- acceptance


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("strategy", ["interval", "stratified"])
def test_val_keeps_every_class_share_within_1_5_pp(strategy: str, seed: int) -> None:
    result = split_dataset(_video(seed), strategy, val=0.15, seed=seed)
    assert _val_deviation_pp(result) <= 1.5


@pytest.mark.parametrize("seed", SEEDS)
def test_stratified_keeps_shares_on_a_small_dataset_and_with_a_test_split(seed: int) -> None:
    ds = make_sequential_dataset(seed=seed)  # 6 sequences of 40 frames, a few hundred boxes
    result = split_stratified(ds, val=0.15, test=0.1, seed=seed)
    assert result.distribution().max_deviation_pp <= 1.5


@pytest.mark.parametrize("test", [0.0, 0.1], ids=["no-test", "test"])
@pytest.mark.parametrize("seed", SEEDS)
def test_sequence_never_puts_one_sequence_on_two_sides(seed: int, test: float) -> None:
    ds = _video(seed, sequences=12, frames=30)
    result = split_by_sequence(ds, val=0.15, test=test, seed=seed)
    seen: dict[int, str] = {}
    for name, positions in result.positions.items():
        for code in np.unique(ds.images.sequence[positions]).tolist():
            assert seen.setdefault(code, name) == name, f"sequence {code} in {seen[code]}, {name}"
    assert len(seen) == 12


@pytest.mark.parametrize("seed", SEEDS)
def test_sequence_sizes_come_within_half_a_sequence_of_the_fractions(seed: int) -> None:
    ds = _video(seed, sequences=12, frames=30)  # 360 images: 270 / 54 / 36 wanted
    result = split_by_sequence(ds, val=0.15, test=0.1, seed=seed)
    wanted = {"train": 270, "val": 54, "test": 36}
    for name, positions in result.positions.items():
        assert abs(positions.size - wanted[name]) <= 15


def test_sequence_treats_images_without_a_sequence_as_their_own() -> None:
    ds = _video(0, sequences=8, frames=10)
    codes = ds.images.sequence.copy()
    codes[:10] = -1  # the first sequence loses its id: ten loose images
    ds = replace(ds, images=replace(ds.images, sequence=codes))
    result = split_by_sequence(ds, val=0.2, seed=0)
    for name, positions in result.positions.items():
        others = np.concatenate([p for n, p in result.positions.items() if n != name])
        known = ds.images.sequence[positions]
        assert not set(known[known >= 0].tolist()) & set(ds.images.sequence[others].tolist())


# --------------------------------------------------------------------------- partitions


@pytest.mark.parametrize("test", [0.0, 0.1], ids=["no-test", "test"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_image_lands_in_exactly_one_split(strategy: str, test: float) -> None:
    ds = _video(3, sequences=10, frames=30)
    result = split_dataset(ds, strategy, val=0.15, test=test, seed=3)
    ids = result.image_ids()
    assert list(ids) == (["train", "val", "test"] if test else ["train", "val"])
    joined = np.concatenate(list(ids.values()))
    assert joined.size == ds.num_images  # no image twice ...
    assert set(joined.tolist()) == set(ds.images.ids.tolist())  # ... and none left out
    subsets = result.subsets()
    assert sum(s.num_annotations for s in subsets.values()) == ds.num_annotations


@pytest.mark.parametrize("n", [7, 40, 241, 1000])
@pytest.mark.parametrize("strategy", ["random", "interval", "stratified"])
def test_split_sizes_meet_the_fractions_within_one_image(strategy: str, n: int) -> None:
    ds = make_sequential_dataset(num_sequences=1, frames_per_sequence=n, seed=n)
    result = split_dataset(ds, strategy, val=0.15, test=0.1, seed=0)
    sizes = {name: p.size for name, p in result.positions.items()}
    assert abs(sizes["val"] - 0.15 * n) <= 1
    assert abs(sizes["test"] - 0.1 * n) <= 1
    assert abs(sizes["train"] - 0.75 * n) <= 1


@pytest.mark.parametrize("strategy", SEEDED)
def test_the_same_seed_gives_the_same_split(strategy: str) -> None:
    ds = _video(5, sequences=10, frames=20)
    a = split_dataset(ds, strategy, val=0.2, test=0.1, seed=7).image_ids()
    b = split_dataset(ds, strategy, val=0.2, test=0.1, seed=7).image_ids()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.parametrize("strategy", ["random", "stratified"])
def test_another_seed_gives_another_split(strategy: str) -> None:
    ds = _video(5, sequences=10, frames=20)
    a = split_dataset(ds, strategy, val=0.2, seed=7).image_ids()
    b = split_dataset(ds, strategy, val=0.2, seed=8).image_ids()
    assert not np.array_equal(a["val"], b["val"])


def test_interval_ignores_the_seed_and_the_order_images_are_listed_in() -> None:
    ds = _video(1, sequences=5, frames=20)
    shuffled = ds.subset(np.random.default_rng(0).permutation(ds.num_images))
    a = split_dataset(ds, "interval", val=0.15, seed=1).image_ids()
    b = split_dataset(shuffled, "interval", val=0.15, seed=2).image_ids()
    for name in a:
        assert sorted(a[name].tolist()) == sorted(b[name].tolist())


# --------------------------------------------------------------------------- interval


def test_interval_takes_every_kth_frame_from_every_sequence() -> None:
    ds = make_sequential_dataset(num_sequences=3, frames_per_sequence=20, seed=0)
    result = split_by_interval(ds, val=0.1)
    val = result.positions["val"]
    # 6 of 60 images: one every 10 frames, from the middle of each stretch
    assert ds.images.frame_index[val].tolist() == [5, 15, 5, 15, 5, 15]
    assert np.unique(ds.images.sequence[val]).size == 3
    assert result.seed is None


def test_interval_test_split_takes_every_kth_of_the_rest() -> None:
    ds = make_sequential_dataset(num_sequences=1, frames_per_sequence=100, seed=0)
    result = split_by_interval(ds, val=0.1, test=0.1)
    assert ds.images.frame_index[result.positions["val"]].tolist() == list(range(5, 100, 10))
    test_frames = np.diff(ds.images.frame_index[result.positions["test"]])
    assert test_frames.min() >= 9  # spread over the whole video too
    assert test_frames.max() <= 12


def test_frame_order_falls_back_to_natural_file_name_order() -> None:
    names = ["clip/f10.jpg", "clip/f2.jpg", "clip/F1.jpg", "clip/f2.png"]
    flat = _flat(names)
    order = sort_by_frame(flat)
    assert [names[p] for p in order] == [
        "clip/F1.jpg",
        "clip/f2.jpg",
        "clip/f2.png",
        "clip/f10.jpg",
    ]


def test_frame_order_uses_sequence_then_frame_index_over_file_names() -> None:
    images = Images.build(
        [1, 2, 3, 4],
        ["z.jpg", "a.jpg", "y.jpg", "b.jpg"],
        [8] * 4,
        [8] * 4,
        sequences=["cam10", "cam2", "cam10", "cam2"],
        frame_index=[1, 7, 0, 3],
    )
    ds = Dataset(images, (Category(1, "fish"),), Annotations.empty())
    assert sort_by_frame(ds).tolist() == [3, 1, 2, 0]  # cam2: 3, 7; cam10: 0, 1


def test_interval_refuses_file_names_without_frame_numbers() -> None:
    flat = _flat(["cat.jpg", "dog.jpg", "fox.jpg", "owl_7.jpg"], source="zoo.json")
    with pytest.raises(InvalidInputError) as info:
        split_by_interval(flat, val=0.25)
    message = str(info.value)
    assert message.startswith("zoo.json: the dataset has no frame order for the interval split")
    assert "3 of 4 images have neither a frame index nor a number in their file name" in message
    assert "images[0] (id=1) 'cat.jpg'" in message
    # with frame indices the names do not matter
    framed = _flat(["cat.jpg", "dog.jpg", "fox.jpg", "owl.jpg"], frames=[3, 2, 1, 0])
    assert split_by_interval(framed, val=0.25).positions["val"].size == 1


def test_interval_refuses_images_it_cannot_tell_apart() -> None:
    flat = _flat(["a1.jpg", "a2.jpg", "a1.jpg"])
    with pytest.raises(InvalidInputError, match=r"images\[0\] \(id=1\) and images\[2\] \(id=3\)"):
        split_by_interval(flat, val=0.3)


# --------------------------------------------------------------------------- distribution


def test_distribution_counts_and_shares_per_split() -> None:
    ds = _video(2, sequences=6, frames=20)
    result = split_random(ds, val=0.25, seed=0)
    dist = result.distribution()
    assert dist.columns == ("full", "train", "val")
    assert dist.images == {"full": 120, "train": 90, "val": 30}
    subsets = result.subsets()
    for k, c in enumerate(dist.classes):
        assert c.counts["full"] == int(ds.counts_per_category()[k])
        for name, sub in subsets.items():
            assert c.counts[name] == int(sub.counts_per_category()[k])
            assert c.shares[name] == pytest.approx(
                100 * c.counts[name] / dist.boxes[name], abs=1e-3
            )
        expected = max(abs(c.shares[n] - c.shares["full"]) for n in ("train", "val"))
        assert c.max_deviation_pp == pytest.approx(expected, abs=1e-3)
    assert dist.max_deviation_pp == max(c.max_deviation_pp for c in dist.classes)
    table = result.to_dict()
    assert table["strategy"] == "random"
    assert table["fractions"] == {"val": 0.25}
    row = table["distribution"]["classes"][0]
    assert set(row) == {"id", "name", "count", "share_pct", "max_deviation_pp"}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_class_without_boxes_is_reported_with_zeros(strategy: str) -> None:
    ds = _video(0, sequences=6, frames=20)
    ds = replace(ds, categories=(*ds.categories, Category(99, "ghost")))
    dist = split_dataset(ds, strategy, val=0.2, seed=0).distribution()
    ghost = dist.classes[-1]
    assert ghost.counts == {"full": 0, "train": 0, "val": 0}
    assert ghost.shares == {"full": 0.0, "train": 0.0, "val": 0.0}
    assert ghost.max_deviation_pp == 0.0
    assert dist.classes_without_boxes == ("ghost",)
    assert dist.to_dict()["classes_without_boxes"] == ["ghost"]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_an_empty_dataset_is_refused(strategy: str) -> None:
    ds = make_sequential_dataset(num_sequences=1, frames_per_sequence=2)
    empty = replace(ds.subset([]), source="empty.json")
    with pytest.raises(InvalidInputError, match=r"empty\.json: the dataset has no images"):
        split_dataset(empty, strategy, val=0.15)


@pytest.mark.parametrize(
    ("val", "test", "match"),
    [
        (0.0, 0.0, r"val fraction 0\.0 is outside \(0, 1\)"),
        (1.0, 0.0, r"val fraction 1\.0 is outside \(0, 1\)"),
        (-0.1, 0.0, r"val fraction -0\.1 is outside"),
        (1.5, 0.0, r"val fraction 1\.5 is outside"),
        (math.nan, 0.0, r"val fraction nan is outside"),
        (0.15, -0.1, r"test fraction -0\.1 is outside \(0, 1\).*or 0 for no test split"),
        (0.15, 1.0, r"test fraction 1\.0 is outside"),
        (0.5, 0.5, r"val 0\.5 \+ test 0\.5 = 1 leaves no images for train"),
        (0.7, 0.4, r"val 0\.7 \+ test 0\.4 = 1\.1 leaves no images for train"),
    ],
    ids=["val-0", "val-1", "val-negative", "val-1.5", "val-nan", "test-negative", "test-1",
         "sum-1", "sum-over-1"],
)  # fmt: skip
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_fractions_outside_the_open_interval_are_refused(
    strategy: str, val: float, test: float, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        split_dataset(_video(0, sequences=4, frames=5), strategy, val=val, test=test)


def test_a_split_that_would_get_no_image_is_refused() -> None:
    ds = make_sequential_dataset(num_sequences=1, frames_per_sequence=3)
    with pytest.raises(
        InvalidInputError,
        match=r"synthetic: the dataset has 3 images, so with val 0\.1 and test 0\.0 the val "
        r"split gets none",
    ):
        split_random(ds, val=0.1)


def test_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown split strategy 'chrono'; use one of random"):
        split_dataset(_video(0, sequences=2, frames=5), "chrono", val=0.2)


def test_sequence_split_needs_sequence_ids() -> None:
    flat = _flat(["a1.jpg", "a2.jpg", "a3.jpg", "a4.jpg"], source="gt.json")
    with pytest.raises(InvalidInputError, match=r"gt\.json: the dataset has no sequence ids"):
        split_by_sequence(flat, val=0.25)


def test_sequence_split_needs_a_sequence_per_split() -> None:
    ds = _video(0, sequences=2, frames=10)
    with pytest.raises(InvalidInputError, match=r"has 2 sequence\(s\), too few for 3 splits"):
        split_by_sequence(ds, val=0.2, test=0.2)


def test_stratified_split_needs_boxes() -> None:
    ds = _video(0, sequences=2, frames=10)
    bare = replace(ds, annotations=Annotations.empty())
    with pytest.raises(InvalidInputError, match="has no boxes, so there are no class shares"):
        split_stratified(bare, val=0.2)
    assert split_random(bare, val=0.2).distribution().max_deviation_pp == 0.0
