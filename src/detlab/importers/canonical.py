"""detlab's canonical metric names, written beside each source's own names.

Runs from different frameworks compare through ``val/AP``, ``val/AP50``, ``val/AP75``,
``val/APs``, ``val/APm``, ``val/APl`` (COCO-style fractions), ``val/VOCmAP`` and ``train/loss``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from detlab.importers.model import ImportedRestart, ImportedRun

__all__ = ["COCO_CANONICAL", "add_coco_canonical", "add_value", "mark_nan_restart"]

#: COCO summary names (pycocotools, detectron2's ``bbox/AP50``...) -> canonical keys.
COCO_CANONICAL = {
    "AP": "val/AP",
    "AP50": "val/AP50",
    "AP75": "val/AP75",
    "APs": "val/APs",
    "APm": "val/APm",
    "APl": "val/APl",
}


def add_value(run: ImportedRun, key: str, step: int, value: object) -> None:
    """Add a point when ``value`` is a number (bools and strings are not metrics)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        run.add_metric(key, step, float(value))


def add_coco_canonical(
    run: ImportedRun, step: int, values: Mapping[str, float], *, scale: float = 1.0
) -> None:
    """Add ``val/AP``... from COCO summary names; ``scale=0.01`` for values in percent.

    pycocotools' -1 (no ground truth in that area) is kept as NaN: it is not a score.
    """
    for name, key in COCO_CANONICAL.items():
        if name in values:
            value = float(values[name])
            run.add_metric(key, step, float("nan") if value == -1 else value * scale)


def mark_nan_restart(run: ImportedRun, restart: ImportedRestart) -> ImportedRestart:
    """Reason ``nan`` when the last ``train/loss`` before the restart is NaN (why people
    restart); the detail keeps how training resumed."""
    points = run.metrics.get("train/loss", [])
    if points and math.isnan(points[-1][1]):
        restart.reason = "nan"
        restart.detail = f"train/loss NaN at step {points[-1][0]}; {restart.detail}"
    return restart
