"""mmengine's log rows as detlab points, read as the mmengine importer reads ``scalars.json``.

No mmengine here: :class:`ScalarRows` takes the dictionaries ``LoggerHook`` hands to the
visualizer, so a live run and an import of the same work dir give the same points:

- training rows (they carry ``iter``) of epoch-based training: one point per key and epoch,
  at the 1-based epoch, the mean of the epoch's rows (``lr``: the last), under ``train/<key>``;
- training rows of iteration-based training (no ``epoch``): each row at its iteration;
- validation rows: ``val/<key>`` at mmengine's step (the epoch; with iteration-based training
  and metrics logged by epoch, step 0 becomes the last iteration), without ``time`` and
  ``data_time``, plus the canonical names of :data:`~detlab.sdk.integrations.names.MMDET_CANONICAL`.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from typing import Any

from detlab.sdk.integrations.names import MMDET_CANONICAL

__all__ = ["Points", "ScalarRows"]

#: ``(values, step)`` pairs to log.
Points = list[tuple[dict[str, float], int]]

_STEP_KEYS = frozenset({"epoch", "iter", "step", "mode"})
_VAL_SKIP = frozenset({"time", "data_time"})


class ScalarRows:
    """Turns rows into points; training rows of an epoch wait until the epoch is over."""

    def __init__(self) -> None:
        self._epoch: int | None = None
        self._rows: list[dict[str, float]] = []
        self._last_iter = 0
        self._by_iter = False

    def add(self, row: Mapping[str, Any], step: int) -> Points:
        """The points ``row`` (logged by mmengine at ``step``) completes."""
        numbers = {k: float(v) for k, v in row.items() if k not in _STEP_KEYS and _is_number(v)}
        if "iter" in row and "epoch" in row:
            epoch = int(row["epoch"])
            points = self.flush() if epoch != self._epoch else []
            self._epoch = epoch
            self._rows.append(numbers)
            return points
        if "iter" in row:
            self._by_iter, self._last_iter = True, int(row["iter"])
            return [({f"train/{k}": v for k, v in numbers.items()}, self._last_iter)]
        at = self._last_iter if self._by_iter and not step else int(step)
        values = {f"val/{k}": v for k, v in numbers.items() if k not in _VAL_SKIP}
        for key, canonical in MMDET_CANONICAL.items():
            if key in numbers and canonical.startswith("val/"):
                values[canonical] = numbers[key]
        return [*self.flush(), (values, at)]

    def flush(self) -> Points:
        """The pending epoch's training means (at the epoch's end, or when training stops)."""
        if self._epoch is None or not self._rows:
            return []
        keys = sorted({k for row in self._rows for k in row})
        means: dict[str, float] = {}
        for key in keys:
            values = [row[key] for row in self._rows if key in row]
            means[f"train/{key}"] = values[-1] if key == "lr" else sum(values) / len(values)
        self._rows = []
        return [(means, self._epoch)]


def _is_number(value: Any) -> bool:
    """Python and NumPy numbers, and one-element tensors and arrays (not text, not bools)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, Real):
        return True
    return hasattr(value, "__float__") and getattr(value, "ndim", 1) == 0
