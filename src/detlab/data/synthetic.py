"""Synthetic detection datasets with known answers, for the demo, tests and benchmarks.

:func:`make_sequential_dataset` imitates the data of the seed logs: video sequences ("scenes") of
frames in which objects of a few classes drift across the picture. Classes differ on purpose in
frequency (unbalanced, like the underwater set), size and aspect ratio, and some frames carry a
crowd region. Everything comes from one seed, so the same call gives the same dataset.

>>> ds = make_sequential_dataset(num_sequences=2, frames_per_sequence=5, seed=1)
>>> ds.num_images, ds.category_names[:2]
(10, ('holothurian', 'echinus'))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detlab.core.dataset import Annotations, Category, Dataset, Images

__all__ = ["DEFAULT_CLASSES", "SyntheticClass", "make_sequential_dataset"]


@dataclass(frozen=True)
class SyntheticClass:
    """How objects of one class look: relative frequency, typical area (px²), aspect ratio w/h."""

    name: str
    frequency: float
    area: float
    aspect_ratio: float


#: Four underwater classes as in seed 001 (echinus dominant) and a rare fifth one.
DEFAULT_CLASSES = (
    SyntheticClass("holothurian", 0.13, 1400.0, 2.2),
    SyntheticClass("echinus", 0.55, 900.0, 1.0),
    SyntheticClass("scallop", 0.16, 500.0, 1.3),
    SyntheticClass("starfish", 0.13, 1100.0, 0.9),
    SyntheticClass("waterweeds", 0.03, 2600.0, 0.35),
)


def make_sequential_dataset(
    *,
    num_sequences: int = 6,
    frames_per_sequence: int = 40,
    objects_per_sequence: tuple[int, int] = (3, 9),
    classes: tuple[SyntheticClass, ...] = DEFAULT_CLASSES,
    image_size: tuple[int, int] = (320, 240),
    crowd_rate: float = 0.05,
    seed: int = 0,
) -> Dataset:
    """Sequences of frames with moving boxes; 1-based ids; files ``seqNN/seqNN_FFFF.jpg``."""
    rng = np.random.default_rng(seed)
    width, height = image_size
    rows: list[tuple[int, int, float, float, float, float, int]] = []
    for seq in range(num_sequences):
        for track in _make_tracks(
            rng, classes, objects_per_sequence, frames_per_sequence, image_size
        ):
            rows.extend((seq * frames_per_sequence + f, *box) for f, box in track)
        rows.extend(
            _crowd_regions(rng, seq, frames_per_sequence, image_size, crowd_rate, len(classes))
        )
    n = num_sequences * frames_per_sequence
    images = Images.build(
        ids=np.arange(1, n + 1),
        file_names=[
            f"seq{s:02d}/seq{s:02d}_{f:04d}.jpg"
            for s in range(num_sequences)
            for f in range(frames_per_sequence)
        ],
        widths=np.full(n, width),
        heights=np.full(n, height),
        sequences=[s + 1 for s in range(num_sequences) for _ in range(frames_per_sequence)],
        frame_index=np.tile(np.arange(frames_per_sequence), num_sequences),
    )
    table = np.array(rows, dtype=np.float64).reshape(-1, 7)
    table = table[np.argsort(table[:, 0], kind="stable")]
    annotations = Annotations.build(
        ids=np.arange(1, table.shape[0] + 1),
        image_index=table[:, 0].astype(np.int64),
        category_ids=table[:, 1].astype(np.int64),
        boxes=np.round(table[:, 2:6], 1),
        iscrowd=table[:, 6],
    )
    categories = tuple(Category(i + 1, c.name, "synthetic") for i, c in enumerate(classes))
    return Dataset(images, categories, annotations, source="synthetic")


Track = list[tuple[int, tuple[int, float, float, float, float, int]]]


def _make_tracks(
    rng: np.random.Generator,
    classes: tuple[SyntheticClass, ...],
    objects: tuple[int, int],
    frames: int,
    image_size: tuple[int, int],
) -> list[Track]:
    freq = np.array([c.frequency for c in classes])
    count = int(rng.integers(objects[0], objects[1] + 1))
    return [
        _track(rng, int(rng.choice(len(classes), p=freq / freq.sum())), classes, frames, image_size)
        for _ in range(count)
    ]


def _track(
    rng: np.random.Generator,
    cls: int,
    classes: tuple[SyntheticClass, ...],
    frames: int,
    image_size: tuple[int, int],
) -> Track:
    """One object drifting in a straight line, visible while it stays inside the image."""
    spec = classes[cls]
    width, height = image_size
    area = spec.area * float(rng.lognormal(0.0, 0.35))
    ratio = spec.aspect_ratio * float(rng.lognormal(0.0, 0.15))
    w, h = np.sqrt(area * ratio), np.sqrt(area / ratio)
    x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
    vx, vy = rng.normal(0, 1.5, size=2)
    start, end = sorted(rng.integers(0, frames + 1, size=2))
    track: Track = []
    for f in range(int(start), max(int(end), int(start) + 1)):
        bx = float(np.clip(x + vx * (f - start), 0, width - w))
        by = float(np.clip(y + vy * (f - start), 0, height - h))
        track.append((f, (cls + 1, bx, by, float(w), float(h), 0)))
    return track


def _crowd_regions(
    rng: np.random.Generator,
    seq: int,
    frames: int,
    image_size: tuple[int, int],
    rate: float,
    num_classes: int,
) -> list[tuple[int, int, float, float, float, float, int]]:
    width, height = image_size
    out = []
    for f in np.flatnonzero(rng.random(frames) < rate):
        w, h = rng.uniform(0.15, 0.3) * width, rng.uniform(0.1, 0.2) * height
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        cls = int(rng.integers(1, num_classes + 1))
        out.append((seq * frames + int(f), cls, float(x), float(y), float(w), float(h), 1))
    return out
