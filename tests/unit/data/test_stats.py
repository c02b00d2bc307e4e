"""``dataset_stats`` against answers worked out by hand and against independent NumPy."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from detlab.core import Annotations, Category, Dataset, Images
from detlab.data import stats as stats_module
from detlab.data.stats import (
    LARGE_AREA,
    OUTSIDE_TOLERANCE,
    SMALL_AREA,
    ClassStats,
    DatasetStats,
    ImageSize,
    Quantiles,
    SizeShares,
    dataset_stats,
    select_measured,
)
from detlab.data.synthetic import make_sequential_dataset
from detlab.errors import InvalidInputError

# --------------------------------------------------------------------------- a known answer


@pytest.fixture
def known() -> Dataset:
    """Four images (the last empty), a class per COCO size boundary, a crowd box, no birds.

    cat: areas 100, 1024 (= 32², medium), 9216 (= 96², large); all square.
    dog: areas 400 (40x10) and 400 (10x40), plus a crowd box that only counts.
    """
    images = Images.build(
        [10, 20, 30, 40],
        ["a.jpg", "b.jpg", "c.jpg", "d.jpg"],
        [100, 100, 200, 640],
        [100, 100, 50, 480],
    )
    annotations = Annotations.build(
        ids=[1, 2, 3, 4, 5, 6],
        image_index=[0, 0, 1, 1, 2, 2],
        category_ids=[5, 5, 5, 9, 9, 9],
        boxes=[
            [0, 0, 10, 10],
            [10, 10, 32, 32],
            [0, 0, 96, 96],
            [0, 0, 40, 10],
            [0, 0, 10, 40],
            [50, 5, 100, 40],
        ],
        area=[80, 1000, 9000, 400, 300, 3000],
        iscrowd=[0, 0, 0, 0, 0, 1],
        difficult=[0, 0, 0, 1, 0, 0],
    )
    categories = (Category(5, "cat"), Category(9, "dog"), Category(2, "bird"))
    return Dataset(images, categories, annotations, source="known.json")


def test_counts_by_hand(known: Dataset) -> None:
    stats = dataset_stats(known)
    assert (stats.num_images, stats.num_boxes, stats.num_categories) == (4, 6, 3)
    assert (stats.measured_boxes, stats.empty_images, stats.crowd, stats.difficult) == (5, 1, 1, 1)
    assert stats.boxes_per_image == Quantiles(min=0, q1=1.5, median=2, q3=2, max=2, mean=1.5)


def test_per_class_by_hand(known: Dataset) -> None:
    cat, dog, _ = dataset_stats(known).per_class
    assert cat == ClassStats(
        id=5,
        name="cat",
        count=3,
        share=0.5,
        images=2,
        crowd=0,
        measured=3,
        area_median=1024,
        area_q1=(100 + 1024) / 2,
        area_q3=(1024 + 9216) / 2,
        aspect_ratio_median=1,
        aspect_ratio_q1=1,
        aspect_ratio_q3=1,
        relative_size_median=pytest.approx(0.32),
        size_shares=SizeShares(1 / 3, 1 / 3, 1 / 3),
        coco_size_shares=SizeShares(2 / 3, 1 / 3, 0),  # area field 80, 1000, 9000
    )
    # 10x40 and 40x10: aspect ratios 0.25 and 4, the median halfway between
    assert (dog.count, dog.crowd, dog.measured, dog.images) == (3, 1, 2, 2)
    assert (dog.area_median, dog.area_q1, dog.area_q3) == (400, 400, 400)
    assert dog.aspect_ratio_median == 2.125
    assert dog.aspect_ratio_q1 == pytest.approx(0.25 + 0.25 * 3.75)
    assert dog.relative_size_median == pytest.approx(0.2)
    assert dog.size_shares == SizeShares(1, 0, 0)


def test_class_without_boxes_is_listed_with_nulls(known: Dataset) -> None:
    bird = dataset_stats(known).per_class[2]
    assert (bird.id, bird.name, bird.count, bird.share, bird.images, bird.measured) == (
        2,
        "bird",
        0,
        0.0,
        0,
        0,
    )
    assert bird.area_median is None
    assert bird.aspect_ratio_median is None
    assert bird.relative_size_median is None
    assert bird.size_shares == SizeShares(None, None, None)


def test_size_classes_use_cocos_thresholds_closed_below(known: Dataset) -> None:
    stats = dataset_stats(known)
    assert (SMALL_AREA, LARGE_AREA) == (32**2, 96**2)
    # box w*h: 100, 400, 400 small; 1024 medium; 9216 large
    assert stats.size_shares == SizeShares(3 / 5, 1 / 5, 1 / 5)
    # the annotation's area field (80, 1000, 9000, 400, 300): 9000 < 96² is medium
    assert stats.coco_size_shares == SizeShares(4 / 5, 1 / 5, 0)


def test_image_sizes_most_common_first(known: Dataset) -> None:
    stats = dataset_stats(known)
    assert stats.distinct_image_sizes == 3
    assert stats.image_sizes == (
        ImageSize(100, 100, 2),
        ImageSize(200, 50, 1),
        ImageSize(640, 480, 1),
    )
    assert stats.image_width == Quantiles.of([100, 100, 200, 640])


def test_to_dict_is_plain_json_with_the_promised_keys(known: Dataset) -> None:
    out = dataset_stats(known).to_dict()
    text = json.dumps(out, allow_nan=False)  # no NaN, no NumPy scalars, no tuples left
    assert json.loads(text) == out
    assert (out["num_images"], out["num_boxes"]) == (4, 6)
    bird = out["per_class"][2]
    assert {"id", "name", "count", "area_median", "aspect_ratio_median"} <= set(bird)
    assert (bird["count"], bird["area_median"], bird["aspect_ratio_median"]) == (0, None, None)
    assert out["per_class"][1]["aspect_ratio_median"] == 2.125
    assert out["issues"]["degenerate"] == 0
    assert out["image_sizes"][0] == {"width": 100, "height": 100, "count": 2}


# --------------------------------------------------------------------------- problems


def _dataset(boxes: list[list[float]], **columns: Any) -> Dataset:
    n = len(boxes)
    images = Images.build([1, 2], ["a.jpg", "b.jpg"], [100, 50], [80, 40])
    annotations = Annotations.build(
        ids=np.arange(101, 101 + n),
        image_index=columns.pop("image_index", [0] * n),
        category_ids=columns.pop("category_ids", [1] * n),
        boxes=boxes,
        **columns,
    )
    return Dataset(images, (Category(1, "a"), Category(2, "b")), annotations, source="p.json")


def test_degenerate_boxes() -> None:
    ds = _dataset(
        [
            [10, 10, 0, 5],  # zero width
            [10, 10, 5, 0],  # zero height
            [10, 10, -3, 5],  # negative width
            [10, 10, 0, -1],  # negative height (not also counted as zero)
            [np.nan, 1, 2, 2],  # non-finite
            [10, 10, 5, 5],
        ]
    )
    stats = dataset_stats(ds)
    issues = stats.issues
    assert (issues.zero_size.count, issues.zero_size.examples) == (2, (101, 102))
    assert (issues.negative_size.count, issues.negative_size.examples) == (2, (103, 104))
    assert (issues.non_finite.count, issues.non_finite.examples) == (1, (105,))
    assert issues.degenerate == 4
    assert stats.measured_boxes == 1
    assert select_measured(ds).tolist() == [False] * 5 + [True]


def test_outside_the_image_allows_one_pixel() -> None:
    tol = OUTSIDE_TOLERANCE
    ds = _dataset(
        [
            [-tol, 0, 10, 10],  # on the allowance: inside
            [-tol - 0.5, 0, 10, 10],  # left
            [0, -5, 10, 10],  # top
            [90, 0, 10 + tol, 10],  # right edge at width + 1: inside
            [91, 0, 10 + tol, 10],  # right
            [0, 70, 10, 11.5],  # bottom of the 100x80 image
            [0, 35, 10, 10],  # inside image 1 (100x80) ...
            [0, 35, 10, 10],  # ... but outside image 2 (50x40)
        ],
        image_index=[0, 0, 0, 0, 0, 0, 0, 1],
    )
    outside = dataset_stats(ds).issues.outside_image
    assert (outside.count, outside.examples) == (5, (102, 103, 105, 106, 108))


def test_exact_duplicates_need_image_class_and_box() -> None:
    ds = _dataset(
        [
            [1, 2, 3, 4],
            [1, 2, 3, 4],  # duplicate of 101
            [1, 2, 3, 4],  # another
            [1, 2, 3, 4],  # other class: not a duplicate
            [1, 2, 3, 4],  # other image: not a duplicate
            [1, 2, 3, 4.0001],  # other box
            [-0.0, 0, 5, 5],
            [0.0, 0, 5, 5],  # -0.0 == 0.0
            [np.nan, 0, 5, 5],
            [np.nan, 0, 5, 5],  # NaN equals nothing
        ],
        category_ids=[1, 1, 1, 2, 1, 1, 1, 1, 1, 1],
        image_index=[0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
    )
    duplicates = dataset_stats(ds).issues.duplicates
    assert (duplicates.count, duplicates.examples) == (3, (102, 103, 108))


def test_duplicates_exact_even_when_every_digest_collides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ds = _random_dataset(np.random.default_rng(3), duplicates=40)
    expected = dataset_stats(ds).issues.duplicates
    monkeypatch.setattr(
        stats_module, "_row_digests", lambda columns: np.zeros(columns[0].size, dtype=np.uint64)
    )
    assert dataset_stats(ds).issues.duplicates == expected


def test_unknown_category_counts_overall_not_per_class() -> None:
    ds = _dataset([[0, 0, 4, 4], [0, 0, 8, 8]], category_ids=[1, 77])
    stats = dataset_stats(ds)
    assert stats.issues.unknown_category.examples == (102,)
    assert [c.count for c in stats.per_class] == [1, 0]
    assert stats.per_class[0].share == 0.5
    assert stats.area == Quantiles.of([16, 64])


def test_crowd_boxes_are_counted_not_measured() -> None:
    ds = _dataset([[0, 0, 4, 4], [0, 0, 50, 50]], iscrowd=[0, 1])
    stats = dataset_stats(ds)
    assert (stats.per_class[0].count, stats.per_class[0].crowd) == (2, 1)
    assert stats.per_class[0].area_median == 16


# --------------------------------------------------------------------------- empty


def test_dataset_without_images() -> None:
    ds = Dataset(
        Images.build([], [], [], []), (Category(1, "a"),), Annotations.empty(), source="e.json"
    )
    stats = dataset_stats(ds)
    assert (stats.num_images, stats.num_boxes, stats.empty_images) == (0, 0, 0)
    assert stats.boxes_per_image is None
    assert stats.area is None
    assert stats.image_width is None
    assert stats.size_shares == SizeShares(None, None, None)
    assert (stats.distinct_image_sizes, stats.image_sizes) == (0, ())
    assert [(c.name, c.count, c.share, c.area_median) for c in stats.per_class] == [
        ("a", 0, None, None)
    ]
    json.dumps(stats.to_dict(), allow_nan=False)


def test_images_without_boxes() -> None:
    ds = Dataset(
        Images.build([1, 2], ["a.jpg", "b.jpg"], [10, 20], [10, 20]),
        (),
        Annotations.empty(),
    )
    stats = dataset_stats(ds)
    assert (stats.num_images, stats.num_boxes, stats.empty_images) == (2, 0, 2)
    assert stats.boxes_per_image == Quantiles.of([0, 0])
    assert stats.per_class == ()
    assert stats.issues.duplicates.count == 0


# --------------------------------------------------------------------------- selection


def test_image_ids_describe_a_subset(known: Dataset) -> None:
    stats = dataset_stats(known, image_ids=[30, 10, 10])
    assert (stats.num_images, stats.num_boxes) == (2, 4)
    assert [c.count for c in stats.per_class] == [2, 2, 0]
    positions = known.image_index.positions(np.array([10, 30]))
    assert stats == dataset_stats(known.subset(positions))


def test_unknown_image_ids_are_an_error(known: Dataset) -> None:
    with pytest.raises(InvalidInputError, match=r"known\.json: 2 image id\(s\) not in the dataset"):
        dataset_stats(known, image_ids=[10, 11, 12])


# --------------------------------------------------------------------------- independent NumPy


def _random_dataset(rng: np.random.Generator, *, duplicates: int = 0) -> Dataset:
    """Random columns: COCO-like sparse category ids (one unused), crowd and zero-size boxes."""
    n_images, n_boxes = 300, 5000
    sizes = np.array([[640, 480], [480, 640], [320, 240], [1280, 720]])
    size = sizes[rng.integers(0, len(sizes), n_images)]
    images = Images.build(
        rng.permutation(np.arange(1, 10 * n_images, 10)),
        [f"{i}.jpg" for i in range(n_images)],
        size[:, 0],
        size[:, 1],
    )
    category_ids = np.array([90, 3, 17, 1, 44, 8, 61, 2, 25, 33, 70, 12])
    weights = rng.random(category_ids.size - 1) + np.arange(category_ids.size - 1) / 2
    cats = rng.choice(category_ids[:-1], n_boxes, p=weights / weights.sum())
    image_index = rng.integers(0, n_images, n_boxes)
    w = np.round(rng.lognormal(3.5, 1.0, n_boxes), 1)
    h = np.round(rng.lognormal(3.5, 1.0, n_boxes), 1)
    w[rng.random(n_boxes) < 0.01] = 0.0
    xy = np.round(rng.uniform(-20, 600, (n_boxes, 2)), 1)
    boxes = np.column_stack([xy, w, h])
    copies = rng.integers(0, n_boxes, duplicates)
    targets = rng.integers(0, n_boxes, duplicates)
    boxes[targets], cats[targets], image_index[targets] = (
        boxes[copies],
        cats[copies],
        image_index[copies],
    )
    annotations = Annotations.build(
        ids=np.arange(1, n_boxes + 1),
        image_index=image_index,
        category_ids=cats,
        boxes=boxes,
        area=w * h * rng.uniform(0.5, 1.0, n_boxes),
        iscrowd=rng.random(n_boxes) < 0.03,
    )
    categories = tuple(Category(int(i), f"c{i}") for i in category_ids)
    return Dataset(images, categories, annotations, source="random")


def _expected_class(ds: Dataset, k: int) -> dict[str, Any]:
    """One class, computed the plain way: a mask over every box, then np.quantile."""
    anns, images = ds.annotations, ds.images
    mine = anns.category_ids == ds.categories[k].id
    w, h = anns.boxes[:, 2], anns.boxes[:, 3]
    measured = mine & (w > 0) & (h > 0) & ~anns.iscrowd
    area = (w * h)[measured]
    image = anns.image_index[measured]
    relative = np.sqrt(area / (images.widths[image] * images.heights[image]))
    expected: dict[str, Any] = {
        "count": int(mine.sum()),
        "images": len(set(anns.image_index[mine].tolist())),
        "crowd": int((mine & anns.iscrowd).sum()),
        "measured": int(measured.sum()),
    }
    if area.size:
        expected["area"] = np.quantile(area, [0.25, 0.5, 0.75])
        expected["ratio"] = np.quantile(w[measured] / h[measured], [0.25, 0.5, 0.75])
        expected["relative"] = np.median(relative)
        expected["shares"] = [
            np.mean(area < 32**2),
            np.mean((area >= 32**2) & (area < 96**2)),
            np.mean(area >= 96**2),
        ]
        coco = anns.area[measured]
        expected["coco_large"] = np.mean(coco >= 96**2)
    return expected


def _check_class(got: ClassStats, expected: dict[str, Any], num_boxes: int) -> None:
    assert (got.count, got.images, got.crowd, got.measured) == (
        expected["count"],
        expected["images"],
        expected["crowd"],
        expected["measured"],
    )
    assert got.share == pytest.approx(expected["count"] / num_boxes)
    if "area" not in expected:
        assert got.area_median is None
        return
    close = {"rel": 1e-12, "abs": 0}
    assert [got.area_q1, got.area_median, got.area_q3] == pytest.approx(expected["area"], **close)
    ratios = [got.aspect_ratio_q1, got.aspect_ratio_median, got.aspect_ratio_q3]
    assert ratios == pytest.approx(expected["ratio"], **close)
    assert got.relative_size_median == pytest.approx(expected["relative"], **close)
    shares = got.size_shares
    assert [shares.small, shares.medium, shares.large] == pytest.approx(expected["shares"])
    assert got.coco_size_shares.large == pytest.approx(expected["coco_large"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_class_matches_numpy_on_random_data(seed: int) -> None:
    ds = _random_dataset(np.random.default_rng(seed))
    stats = dataset_stats(ds)
    assert stats.per_class[-1].count == 0  # the unused category
    for k, got in enumerate(stats.per_class):
        assert (got.id, got.name) == (ds.categories[k].id, ds.categories[k].name)
        _check_class(got, _expected_class(ds, k), ds.num_annotations)


def test_overall_figures_match_numpy_on_random_data() -> None:
    ds = _random_dataset(np.random.default_rng(4), duplicates=25)
    stats = dataset_stats(ds)
    anns, images = ds.annotations, ds.images
    w, h = anns.boxes[:, 2], anns.boxes[:, 3]
    measured = (w > 0) & (h > 0) & ~anns.iscrowd
    assert stats.measured_boxes == int(measured.sum())
    assert stats.area == Quantiles.of((w * h)[measured])
    assert stats.aspect_ratio == Quantiles.of((w / np.where(h > 0, h, 1))[measured])
    image_w = images.widths[anns.image_index]
    assert stats.relative_width == Quantiles.of((w / image_w)[measured])
    per_image = np.bincount(anns.image_index, minlength=ds.num_images)
    assert stats.boxes_per_image == Quantiles.of(per_image)
    assert stats.empty_images == int((per_image == 0).sum())
    assert stats.crowd == int(anns.iscrowd.sum())
    assert stats.issues.zero_size.count == int(((w == 0) | (h == 0)).sum())


def test_problems_match_plain_python_on_random_data() -> None:
    ds = _random_dataset(np.random.default_rng(5), duplicates=60)
    anns, images = ds.annotations, ds.images
    seen: set[tuple[object, ...]] = set()
    duplicates, outside = [], []
    rows = zip(
        anns.ids.tolist(),
        anns.image_index.tolist(),
        anns.category_ids.tolist(),
        anns.boxes.tolist(),
        strict=True,
    )
    for box_id, image, category, (x, y, w, h) in rows:
        key = (image, category, x, y, w, h)
        if key in seen:
            duplicates.append(box_id)
        seen.add(key)
        width, height = images.widths[image], images.heights[image]
        if x < -1 or y < -1 or x + w > width + 1 or y + h > height + 1:
            outside.append(box_id)
    issues = dataset_stats(ds).issues
    assert duplicates, "the generator should have made some duplicates"
    assert (issues.duplicates.count, list(issues.duplicates.examples)) == (
        len(duplicates),
        duplicates[:5],
    )
    assert (issues.outside_image.count, list(issues.outside_image.examples)) == (
        len(outside),
        outside[:5],
    )


def test_synthetic_dataset_images_per_class() -> None:
    ds = make_sequential_dataset(num_sequences=3, frames_per_sequence=20, seed=7)
    stats = dataset_stats(ds)
    anns = ds.annotations
    for category, got in zip(ds.categories, stats.per_class, strict=True):
        images = {
            i for i, c in zip(anns.image_index, anns.category_ids, strict=True) if c == category.id
        }
        assert got.images == len(images)
    assert math.isclose(sum(c.share or 0 for c in stats.per_class), 1.0)
    assert isinstance(stats, DatasetStats)
