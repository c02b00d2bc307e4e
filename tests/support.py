"""Assertions shared by the test suite."""

from __future__ import annotations

import numpy as np

from detlab.core import Dataset


def assert_datasets_equal(a: Dataset, b: Dataset, *, ids: bool = True, flags: bool = True) -> None:
    """Same images, categories and boxes; ``ids=False`` ignores image and annotation ids."""
    assert a.num_images == b.num_images
    assert a.num_annotations == b.num_annotations
    assert [c.name for c in a.categories] == [c.name for c in b.categories]
    assert list(a.images.file_names) == list(b.images.file_names)
    np.testing.assert_array_equal(a.images.widths, b.images.widths)
    np.testing.assert_array_equal(a.images.heights, b.images.heights)
    if ids:
        np.testing.assert_array_equal(a.images.ids, b.images.ids)
        np.testing.assert_array_equal(a.annotations.ids, b.annotations.ids)
        np.testing.assert_array_equal(a.category_ids, b.category_ids)
    np.testing.assert_array_equal(a.annotations.image_index, b.annotations.image_index)
    names_a = np.array(a.category_names)[a.category_positions()]
    names_b = np.array(b.category_names)[b.category_positions()]
    np.testing.assert_array_equal(names_a, names_b)
    np.testing.assert_allclose(a.annotations.boxes, b.annotations.boxes, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(a.annotations.iscrowd, b.annotations.iscrowd)
    if flags:
        np.testing.assert_array_equal(a.annotations.difficult, b.annotations.difficult)
