"""Drawing synthetic datasets as real image files, so that every tool that opens images works.

Each object becomes a filled shape in its class's colour on a noisy, sequence-specific
background; crowd regions are drawn as clusters of small blobs. Pillow is imported on use.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from detlab._deps import import_optional
from detlab.core.dataset import Dataset

__all__ = ["render_images"]

_PALETTE = (
    (222, 120, 60),
    (70, 160, 90),
    (230, 210, 90),
    (200, 70, 150),
    (90, 130, 220),
    (150, 90, 60),
    (240, 240, 240),
)


def render_images(ds: Dataset, root: str | Path, *, seed: int = 0, quality: int = 90) -> int:
    """Write every image of ``ds`` under ``root`` (at its ``file_name``); returns how many."""
    image_mod = import_optional("PIL.Image", extra=None, purpose="to draw images")
    draw_mod = import_optional("PIL.ImageDraw", extra=None, purpose="to draw images")
    rng = np.random.default_rng(seed)
    out = Path(root)
    colour_of = {c.id: _PALETTE[i % len(_PALETTE)] for i, c in enumerate(ds.categories)}
    for position, rows in ds.rows_by_image():
        width, height = int(ds.images.widths[position]), int(ds.images.heights[position])
        picture = image_mod.fromarray(_background(rng, width, height, ds, position))
        pen = draw_mod.Draw(picture)
        for row in rows:
            _draw_box(pen, rng, ds, int(row), colour_of)
        path = out / ds.images.file_names[position]
        path.parent.mkdir(parents=True, exist_ok=True)
        picture.save(path, quality=quality)
    return ds.num_images


def _background(
    rng: np.random.Generator, width: int, height: int, ds: Dataset, position: int
) -> np.ndarray:
    sequence = max(int(ds.images.sequence[position]), 0)
    base = np.array([20 + 12 * (sequence % 5), 60 + 9 * (sequence % 7), 90 + 15 * (sequence % 4)])
    ramp = np.linspace(0.7, 1.1, height)[:, None, None]
    noise = rng.normal(0.0, 9.0, size=(height, width, 3))
    return np.clip(base[None, None, :] * ramp + noise, 0, 255).astype(np.uint8)


def _draw_box(
    pen: Any,
    rng: np.random.Generator,
    ds: Dataset,
    row: int,
    colour_of: Mapping[int, tuple[int, int, int]],
) -> None:
    x, y, w, h = (float(v) for v in ds.annotations.boxes[row])
    colour = colour_of.get(int(ds.annotations.category_ids[row]), (255, 255, 255))
    if ds.annotations.iscrowd[row]:
        for _ in range(12):
            cx, cy = rng.uniform(x, x + w), rng.uniform(y, y + h)
            r = rng.uniform(2, 5)
            pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        return
    if w >= h:
        pen.ellipse((x, y, x + w, y + h), fill=colour, outline=(0, 0, 0))
    else:
        pen.rectangle((x, y, x + w, y + h), fill=colour, outline=(0, 0, 0))
