from __future__ import annotations

import numpy as np
import pytest

from detlab.core import Annotations, Category, Dataset, Images
from detlab.data.synthetic import make_sequential_dataset


@pytest.fixture
def small() -> Dataset:
    images = Images.build(
        [10, 20, 30],
        ["a.jpg", "b.jpg", "c.jpg"],
        [100, 100, 50],
        [80, 80, 40],
        sequences=["s1", "s1", "s2"],
        frame_index=[0, 1, 0],
    )
    annotations = Annotations.build(
        ids=[1, 2, 3, 4],
        image_index=[1, 0, 1, 2],
        category_ids=[7, 3, 7, 7],
        boxes=[[0, 0, 10, 10], [5, 5, 2, 3], [1, 1, 4, 4], [0, 0, 8, 2]],
        iscrowd=[0, 0, 1, 0],
    )
    cats = (Category(3, "cat"), Category(7, "dog"))
    return Dataset(images, cats, annotations)


def test_lookups_and_counts(small: Dataset) -> None:
    assert small.image_index.positions([30, 10, 99]).tolist() == [2, 0, -1]
    assert small.category_positions().tolist() == [1, 0, 1, 1]
    assert small.counts_per_category().tolist() == [1, 3]
    assert small.counts_per_image().tolist() == [1, 2, 1]
    assert small.image_ids_of_annotations().tolist() == [20, 10, 20, 30]
    np.testing.assert_array_equal(small.annotations.area, [100, 6, 16, 16])


def test_rows_by_image_keeps_file_order(small: Dataset) -> None:
    assert [(p, rows.tolist()) for p, rows in small.rows_by_image()] == [
        (0, [1]),
        (1, [0, 2]),
        (2, [3]),
    ]


def test_subset_remaps_images_and_sequences(small: Dataset) -> None:
    sub = small.subset([2, 1])
    assert sub.images.ids.tolist() == [30, 20]
    assert sub.annotations.ids.tolist() == [1, 3, 4]
    assert sub.annotations.image_index.tolist() == [1, 1, 0]
    assert [sub.images.sequence_of(i) for i in range(2)] == ["s2", "s1"]
    assert sub.annotations.iscrowd.tolist() == [False, True, False]


def test_sequences_are_encoded_once(small: Dataset) -> None:
    assert small.images.sequence.tolist() == [0, 0, 1]
    assert small.images.sequence_values == ("s1", "s2")
    assert small.images.has_sequences


def test_synthetic_dataset_is_deterministic_and_unbalanced() -> None:
    a = make_sequential_dataset(seed=3)
    b = make_sequential_dataset(seed=3)
    np.testing.assert_array_equal(a.annotations.boxes, b.annotations.boxes)
    counts = a.counts_per_category()
    assert counts.argmax() == 1  # echinus dominates, as in the underwater set
    assert counts.max() > 3 * counts.min()
    inside = a.annotations.boxes[:, 0] + a.annotations.boxes[:, 2] <= 320 + 1e-6
    assert inside.all()
    assert a.annotations.iscrowd.any()
