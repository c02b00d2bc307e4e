"""What the demo detector sees: patches, grid targets, augmentation."""

from __future__ import annotations

import numpy as np

from detlab.core.dataset import Annotations, Category, Dataset, Images
from detlab.demo.features import GridSpec, Targets, augment, cell_patches, make_targets


def _dataset() -> Dataset:
    images = Images.build(ids=[1, 2], file_names=["a.jpg", "b.jpg"], widths=[64, 64],
                          heights=[32, 32])  # fmt: skip
    annotations = Annotations.build(
        ids=[1, 2, 3, 4],
        image_index=[0, 0, 1, 1],
        category_ids=[2, 1, 1, 2],
        boxes=[[4, 4, 16, 8], [20, 18, 40, 12], [0, 0, 32, 32], [40, 0, 20, 16]],
        iscrowd=[0, 0, 0, 1],
    )
    return Dataset(images, (Category(1, "a"), Category(2, "b")), annotations)


def test_targets_mark_the_centre_cell_and_ignore_crowd() -> None:
    spec = GridSpec(factor=2, cell=4, context=1, anchor=16.0)  # 8-pixel cells, 4 x 8 grid
    t = make_targets(_dataset(), spec)
    assert t.obj.shape == (2, 4, 8)
    assert np.argwhere(t.obj[0]).tolist() == [[1, 1], [3, 5]]
    assert t.cls[0, 1, 1] == 1  # category id 2 is class position 1
    np.testing.assert_allclose(t.box[0, 1, 1], [0.5, 0.0, 0.0, np.log(0.5)])
    assert t.ignore[1, 0, 5:8].all()  # the crowd region (x 40-60, y 0-16)
    assert not t.ignore[1, 2:].any()
    assert t.obj[1, 2, 2] == 1  # a real box's cell is never ignored


def test_patches_hold_the_colours_around_each_cell() -> None:
    spec = GridSpec(factor=1, cell=2, context=1)
    images = np.arange(1 * 4 * 6 * 3, dtype=np.float32).reshape(1, 4, 6, 3)
    patches = cell_patches(images, spec)
    assert patches.shape == (1, 2, 3, 4 * 4 * 3)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    window = padded[0, 2:6, 2:6].transpose(2, 0, 1).reshape(-1)  # cell (1, 1)
    np.testing.assert_array_equal(patches[0, 1, 1], window)


def test_flip_twice_is_the_identity_and_mirrors_the_targets() -> None:
    spec = GridSpec(factor=2, cell=4, context=1, anchor=16.0)
    t = make_targets(_dataset(), spec)
    images = np.random.default_rng(0).random((2, 16, 32, 3)).astype(np.float32)
    once_images, once = augment(images, t, np.random.default_rng(1), flip=1.0)
    np.testing.assert_array_equal(once_images, images[:, :, ::-1])
    assert once.obj[0, 1, 8 - 1 - 1] == 1
    np.testing.assert_allclose(once.box[0, 1, 6, 0], 0.5)
    twice_images, twice = augment(once_images, once, np.random.default_rng(1), flip=1.0)
    np.testing.assert_array_equal(twice_images, images)
    for name in Targets.__dataclass_fields__:
        np.testing.assert_allclose(getattr(twice, name), getattr(t, name))


def test_jitter_changes_colours_within_range() -> None:
    t = make_targets(_dataset(), GridSpec(factor=2, cell=4, context=1))
    images = np.full((2, 16, 32, 3), 0.5, np.float32)
    jittered, same = augment(images, t, np.random.default_rng(0), jitter=0.2)
    assert not np.array_equal(jittered, images)
    assert jittered.min() >= 0.4
    assert jittered.max() <= 0.6
    np.testing.assert_array_equal(same.obj, t.obj)
