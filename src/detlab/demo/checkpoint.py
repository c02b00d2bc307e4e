"""Checkpoints of the demo detector: named arrays in one ``.npz`` file, written atomically.

A training process killed while saving leaves the previous checkpoint intact and no partial
file under the final name (the supervisor picks the newest file it finds).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load", "save"]


def save(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` (via a temporary file and a rename); returns the path."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    with partial.open("wb") as handle:
        named: dict[str, Any] = dict(arrays)
        np.savez(handle, **named)
    partial.replace(target)
    return target


def load(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of a checkpoint (no pickled objects are accepted)."""
    with np.load(path, allow_pickle=False) as stored:
        return {key: np.asarray(stored[key]) for key in stored.files}
