"""Pulling one key out of a list of JSON records as a typed NumPy column."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["column"]

_ABSENT = object()


def column(
    records: list[dict[str, Any]], key: str, kinds: str, *, width: int = 0, default: Any = _ABSENT
) -> np.ndarray:
    """One key of every record as an array; ``ValueError`` unless all values are of ``kinds``."""
    try:
        array = np.array([r[key] for r in records])
    except KeyError:
        if default is _ABSENT:
            raise
        array = np.array([r.get(key, default) for r in records])
    if records and array.dtype.kind not in kinds:
        raise ValueError(key)
    if width and records and array.shape != (len(records), width):
        raise ValueError(key)
    return array
