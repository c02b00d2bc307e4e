"""A tiny rendered dataset for the demo detector's tests (generated, never downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from detlab.data.formats.coco import write_coco
from detlab.data.render import render_images
from detlab.data.synthetic import make_sequential_dataset


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(annotations.json, images/)`` of 2 sequences x 10 frames, 320 x 240."""
    root = tmp_path_factory.mktemp("griddet")
    ds = make_sequential_dataset(num_sequences=2, frames_per_sequence=10, seed=3)
    render_images(ds, root / "images", seed=3)
    write_coco(ds, root / "annotations.json")
    return root / "annotations.json", root / "images"
