"""What every importer produces: one :class:`ImportedRun` per training run found on disk.

A parser reads a framework's files and returns plain data; it never touches the store. Writing
(idempotently: importing the same folder twice adds nothing, a folder that grew adds only the
new points) is one shared step, so every source gets the same guarantees.

>>> run = ImportedRun(source="ultralytics", path=Path("runs/detect/train"), name="train")
>>> run.add_metric("val/AP50", 1, 0.512)
>>> run.metrics["val/AP50"]
[(1, 0.512)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from detlab.errors import Problem

__all__ = [
    "CANONICAL_METRICS",
    "ImportedEvaluation",
    "ImportedRestart",
    "ImportedRun",
    "StepUnit",
]

#: Step numbering of an imported run: epochs as the framework's console shows them (1-based),
#: or iterations for iteration-based training (detectron2).
StepUnit = Literal["epoch", "iter"]

#: detlab's canonical metric names, shared by the SDK, the integrations and every importer so
#: that runs from different frameworks compare. COCO-style values are fractions in [0, 1].
CANONICAL_METRICS = (
    "val/AP",
    "val/AP50",
    "val/AP75",
    "val/APs",
    "val/APm",
    "val/APl",
    "val/VOCmAP",
    "train/loss",
)


@dataclass
class ImportedEvaluation:
    """An evaluation found in the files: ``data`` is shaped like a result's ``to_dict()``."""

    step: int | None
    protocol: str  # "coco", "voc", "per_class_table", ...
    data: dict[str, Any]
    prefix: str = "val/"


@dataclass
class ImportedRestart:
    """A resume seen in the logs: epochs going back, or a "resume from" line."""

    epoch: int | None  # the epoch reached before the restart
    loaded_epoch: int | None  # the epoch of the checkpoint training resumed from
    reason: str = "unknown"  # one of detlab.core.runs.RESTART_REASONS
    detail: str = ""  # e.g. "resumed from work_dirs/x/epoch_7.pth (log line 812)"
    seed: int | None = None


@dataclass
class ImportedRun:
    """One training run read from a framework's files.

    ``metrics`` maps a metric key (the source's own name under ``train/`` or ``val/``, plus
    the canonical names of :data:`CANONICAL_METRICS`) to ``(step, value)`` points in file
    order; a step seen twice (after a resume) keeps both points, the later one wins in
    "latest" views. ``problems`` lists what could not be read (a truncated or corrupted line,
    named by file and line number); what was readable is still imported.
    """

    source: str  # "mmdet2", "mmengine", "ultralytics", "yolov5", "detectron2", "tensorboard", ...
    path: Path  # the folder or file the run was read from
    name: str  # suggested run name (usually the folder's name)
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    evaluations: list[ImportedEvaluation] = field(default_factory=list)
    restarts: list[ImportedRestart] = field(default_factory=list)
    step_unit: StepUnit = "epoch"
    command: str = ""
    config_text: str = ""  # the dumped config, as text (never executed)
    started: datetime | None = None
    notes: str = ""
    problems: list[Problem] = field(default_factory=list)
    #: files the run was read from (the config among them), for the record and fingerprints
    files: list[Path] = field(default_factory=list)
    #: the current segment: 0 until the first restart, +1 after each (see :meth:`add_restart`)
    segment: int = 0
    #: per key, the segment of each point in ``metrics[key]`` (same order; missing means 0)
    segments: dict[str, list[int]] = field(default_factory=dict)

    def add_metric(self, key: str, step: int, value: float) -> None:
        """Append one point to ``key``'s series (in the current segment)."""
        self.metrics.setdefault(key, []).append((int(step), float(value)))
        self.segments.setdefault(key, []).append(self.segment)

    def add_restart(self, restart: ImportedRestart) -> None:
        """Record a restart: points added from now on belong to a new segment."""
        self.restarts.append(restart)
        self.segment += 1

    def segment_of(self, key: str, index: int) -> int:
        """The segment of the ``index``-th point of ``key`` (0 when never recorded)."""
        known = self.segments.get(key, [])
        return known[index] if index < len(known) else 0

    def point_count(self) -> int:
        return sum(len(points) for points in self.metrics.values())

    def best(self, key: str, mode: str = "max") -> tuple[float, int] | None:
        """The best ``(value, step)`` of ``key`` (NaN ignored), or ``None`` without points."""
        points = [(v, s) for s, v in self.metrics.get(key, ()) if not math.isnan(v)]
        if not points:
            return None
        pick = max if mode == "max" else min
        value, step = pick(points, key=lambda p: p[0])
        return value, step
