"""What the demo detector sees: downsampled images, per-cell colour patches, grid targets.

An image of ``W x H`` pixels is averaged down by ``factor`` (4: 320 x 240 becomes 80 x 60) and
cut into a grid of cells of ``cell`` downsampled pixels (4: a 20 x 15 grid of 16-pixel cells).
Each cell's feature vector is the patch of colours around it, ``context`` downsampled pixels on
every side (a 12 x 12 x 3 patch: 48 original pixels), normalised per channel. Targets follow
YOLO v1: the cell holding a box centre is responsible for it (objectness 1, its class, the
centre's offset in the cell and ``log(size / anchor)``); cells whose centre lies in a crowd
region are ignored by the objectness loss. NumPy only (Pillow reads the files).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from detlab._deps import import_optional
from detlab.core.dataset import Dataset

__all__ = [
    "GridSpec",
    "Targets",
    "TrainingData",
    "augment",
    "cell_patches",
    "load_images",
    "make_targets",
    "prepare_data",
]


@dataclass(frozen=True)
class GridSpec:
    """Geometry shared by features, targets and decoding."""

    factor: int = 4
    cell: int = 4
    context: int = 4
    anchor: float = 32.0

    @property
    def stride(self) -> int:
        """Cell size in original pixels."""
        return self.factor * self.cell

    def grid(self, width: int, height: int) -> tuple[int, int]:
        """``(rows, cols)`` of the grid over a ``width x height`` image."""
        return height // self.stride, width // self.stride


@dataclass(frozen=True)
class Targets:
    """Per-cell training targets of ``N`` images on a ``(GH, GW)`` grid."""

    obj: np.ndarray  # (N, GH, GW) float32, 1 where a box centre falls
    cls: np.ndarray  # (N, GH, GW) int64, class position (0 where obj == 0)
    box: np.ndarray  # (N, GH, GW, 4) float32: cx, cy offsets in the cell, log(w, h / anchor)
    ignore: np.ndarray  # (N, GH, GW) bool, cells inside crowd regions

    def take(self, index: np.ndarray) -> Targets:
        return Targets(self.obj[index], self.cls[index], self.box[index], self.ignore[index])


def load_images(ds: Dataset, root: str | Path, spec: GridSpec) -> np.ndarray:
    """``(N, H / factor, W / factor, 3) float32`` in [0, 1]: every image, block-averaged."""
    image_mod = import_optional("PIL.Image", extra=None, purpose="to read images")
    out = []
    f = spec.factor
    for name in ds.images.file_names:
        with image_mod.open(Path(root) / name) as picture:
            pixels = np.asarray(picture.convert("RGB"), dtype=np.float32) / 255.0
        h, w = (pixels.shape[0] // f) * f, (pixels.shape[1] // f) * f
        out.append(pixels[:h, :w].reshape(h // f, f, w // f, f, 3).mean(axis=(1, 3)))
    return np.stack(out)


def cell_patches(images: np.ndarray, spec: GridSpec) -> np.ndarray:
    """``(N, GH, GW, F)``: the colour patch around each cell, flattened (F = (cell+2c)^2 * 3)."""
    c, k = spec.context, spec.cell
    padded = np.pad(images, ((0, 0), (c, c), (c, c), (0, 0)), mode="edge")
    size = k + 2 * c
    windows = sliding_window_view(padded, (size, size), axis=(1, 2))[:, ::k, ::k]
    gh, gw = images.shape[1] // k, images.shape[2] // k
    windows = windows[:, :gh, :gw]  # (N, GH, GW, 3, size, size)
    return windows.reshape(*windows.shape[:3], -1)


def make_targets(ds: Dataset, spec: GridSpec) -> Targets:
    """Grid targets for every image of ``ds`` (all images share the first image's size)."""
    gh, gw = spec.grid(int(ds.images.widths[0]), int(ds.images.heights[0]))
    n = ds.num_images
    obj = np.zeros((n, gh, gw), np.float32)
    cls = np.zeros((n, gh, gw), np.int64)
    box = np.zeros((n, gh, gw, 4), np.float32)
    ignore = np.zeros((n, gh, gw), bool)
    ann = ds.annotations
    crowd = ann.iscrowd.astype(bool)
    _mark_crowd(ignore, ann.image_index[crowd], ann.boxes[crowd], spec)
    normal = np.flatnonzero(~crowd)
    order = normal[np.argsort(-ann.area[normal], kind="stable")]  # small boxes win a shared cell
    xywh = ann.boxes[order]
    cx, cy = xywh[:, 0] + xywh[:, 2] / 2, xywh[:, 1] + xywh[:, 3] / 2
    gx = np.clip((cx // spec.stride).astype(np.int64), 0, gw - 1)
    gy = np.clip((cy // spec.stride).astype(np.int64), 0, gh - 1)
    img = ann.image_index[order]
    obj[img, gy, gx] = 1.0
    cls[img, gy, gx] = ds.category_index.positions(ann.category_ids[order])
    offsets = np.column_stack([cx / spec.stride - gx, cy / spec.stride - gy])
    sizes = np.log(np.maximum(xywh[:, 2:], 1.0) / spec.anchor)
    box[img, gy, gx] = np.column_stack([offsets, sizes])
    ignore &= obj == 0
    return Targets(obj, cls, box, ignore)


def _mark_crowd(ignore: np.ndarray, images: np.ndarray, boxes: np.ndarray, spec: GridSpec) -> None:
    gh, gw = ignore.shape[1:]
    centres_x = (np.arange(gw) + 0.5) * spec.stride
    centres_y = (np.arange(gh) + 0.5) * spec.stride
    for image, (x, y, w, h) in zip(images, boxes, strict=True):
        inside_x = (centres_x >= x) & (centres_x <= x + w)
        inside_y = (centres_y >= y) & (centres_y <= y + h)
        ignore[image] |= inside_y[:, None] & inside_x[None, :]


def augment(
    images: np.ndarray,
    targets: Targets,
    rng: np.random.Generator,
    *,
    flip: float = 0.0,
    jitter: float = 0.0,
) -> tuple[np.ndarray, Targets]:
    """Horizontal flips (probability ``flip``) and per-channel colour gain (``1 ± jitter``)."""
    images = images.copy()
    obj, cls, box, ign = (targets.obj.copy(), targets.cls.copy(), targets.box.copy(),
                          targets.ignore.copy())  # fmt: skip
    flipped = np.less(rng.random(images.shape[0]), flip)
    if flipped.any():
        images[flipped] = images[flipped, :, ::-1]
        obj[flipped], cls[flipped], ign[flipped] = (
            obj[flipped, :, ::-1], cls[flipped, :, ::-1], ign[flipped, :, ::-1]
        )  # fmt: skip
        box[flipped] = box[flipped, :, ::-1]
        box[flipped, ..., 0] = np.where(obj[flipped] > 0, 1.0 - box[flipped, ..., 0], 0.0)
    if jitter > 0:
        gains = rng.uniform(1 - jitter, 1 + jitter, (images.shape[0], 1, 1, 3))
        images = np.clip(images * gains.astype(np.float32), 0.0, 1.0)
    return images, Targets(obj, cls, box, ign)


@dataclass(frozen=True)
class TrainingData:
    """A dataset ready to train on: downsampled images, targets, the interval split."""

    dataset: Dataset
    images: np.ndarray  # (N, h, w, 3) float32 in [0, 1]
    targets: Targets
    train: np.ndarray  # image positions
    val: np.ndarray
    mean: np.ndarray  # (3,) per-channel mean and std of the training images
    std: np.ndarray

    @property
    def val_dataset(self) -> Dataset:
        return self.dataset.subset(self.val)

    def normalise(self, images: np.ndarray) -> np.ndarray:
        normalised: np.ndarray = (images - self.mean) / self.std
        return normalised


def prepare_data(
    annotations: str | Path,
    images_root: str | Path,
    spec: GridSpec,
    *,
    val: float = 0.15,
    cache: str | Path | None = None,
) -> TrainingData:
    """Read a COCO file and its images (or their cached downsampled copy) and split it by
    interval, as ``detlab split --strategy interval`` does."""
    from detlab.data.formats.coco import read_coco  # noqa: PLC0415
    from detlab.data.splits import split_dataset  # noqa: PLC0415

    ds = read_coco(annotations, warn=False)
    images = _cached_images(ds, images_root, spec, cache)
    split = split_dataset(ds, strategy="interval", val=val)
    train, held_out = split.positions["train"], split.positions["val"]
    mean = images[train].mean(axis=(0, 1, 2))
    std = images[train].std(axis=(0, 1, 2)) + 1e-3
    return TrainingData(ds, images, make_targets(ds, spec), train, held_out,
                        mean.astype(np.float32), std.astype(np.float32))  # fmt: skip


def _cached_images(
    ds: Dataset, root: str | Path, spec: GridSpec, cache: str | Path | None
) -> np.ndarray:
    key = f"f{spec.factor}"
    if cache is not None and Path(cache).is_file():
        with np.load(cache) as stored:
            if key in stored.files and stored[key].shape[0] == ds.num_images:
                cached: np.ndarray = stored[key]
                return cached
    images = load_images(ds, root, spec)
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        named: dict[str, Any] = {key: images}
        np.savez(cache, **named)
    return images
