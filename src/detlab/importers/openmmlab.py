"""What mmdetection 2.x and mmengine (mmdetection 3.x) logs share: the text log's resume lines
and evaluation tables, and the dumped Python config.

Resume lines (mmcv 1.x ``resumed epoch 7, iter 4000``; mmengine ``resumed epoch: 3, iter: 24``)
follow a ``load checkpoint from ... epoch_7.pth`` line naming the checkpoint. Tables are tied to
the epoch of the ``Epoch(val) [N]`` line printed right after them (else the last training epoch
seen before them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from detlab.core.runs import flatten_params
from detlab.importers.lines import read_text
from detlab.importers.model import ImportedEvaluation, ImportedRun
from detlab.importers.pyconfig import read_python_config
from detlab.importers.tables import find_class_tables, find_voc_tables

__all__ = [
    "EpochMeans",
    "Resume",
    "TextLog",
    "apply_config",
    "numeric",
    "read_text_log",
    "work_dir_stamp",
]

_RESUMED = re.compile(r"resumed epoch:?\s*(\d+),\s*iter:?\s*(\d+)", re.IGNORECASE)
_LOAD = re.compile(r"load checkpoint from\s+(?:local path:\s*|http path:\s*)?(\S+)", re.I)
_VAL_EPOCH = re.compile(r"Epoch\(val\)\s*\[(\d+)\]")
_TRAIN_EPOCH = re.compile(r"Epoch(?:\(train\))?\s*\[\s*(\d+)\]\s*\[")
_ITER = re.compile(r"Iter\((?:train|val)\)\s*\[\s*(\d+)/")
#: how many lines after a table its ``Epoch(val)`` line may come
_LOOKAHEAD = 12


@dataclass(frozen=True)
class Resume:
    """A resume in a text log: the epoch and iteration restored, the checkpoint, the line."""

    epoch: int
    iteration: int
    checkpoint: str
    line: int  # 1-based


@dataclass
class TextLog:
    path: Path
    resumes: list[Resume] = field(default_factory=list)
    evaluations: list[ImportedEvaluation] = field(default_factory=list)


def read_text_log(path: Path, *, by_iter: bool = False) -> TextLog:
    """Resume lines and evaluation tables of an mmdetection / mmengine text log."""
    lines = read_text(path).splitlines()
    log = TextLog(path)
    checkpoint = ""
    for number, line in enumerate(lines, start=1):
        loaded = _LOAD.search(line)
        if loaded:
            checkpoint = loaded.group(1).rstrip(".,")
        resumed = _RESUMED.search(line)
        if resumed:
            epoch, iteration = int(resumed.group(1)), int(resumed.group(2))
            log.resumes.append(Resume(epoch, iteration, checkpoint, number))
    for voc in find_voc_tables(lines):
        data: dict[str, Any] = {
            "format": "mmdet_voc_table",
            "iou_thr": voc.iou_thr,
            "classes": voc.classes,
            "mAP": voc.mean_ap,
            "source": f"{path.name} line {voc.line + 1}",
        }
        step = _step_of(lines, voc.line, by_iter)
        log.evaluations.append(ImportedEvaluation(step, "per_class_table", data))
    for table in find_class_tables(lines):
        data = {
            "format": "mmdet_coco_classwise",
            "classes": table.values,
            "source": f"{path.name} line {table.line + 1}",
        }
        step = _step_of(lines, table.line, by_iter)
        log.evaluations.append(ImportedEvaluation(step, "per_class_table", data))
    return log


def _step_of(lines: list[str], index: int, by_iter: bool) -> int | None:
    """The epoch (or iteration) an evaluation table printed at ``index`` belongs to."""
    pattern = _ITER if by_iter else _VAL_EPOCH
    for line in lines[index : index + _LOOKAHEAD]:
        found = pattern.search(line)
        if found:
            return int(found.group(1))
    train = _ITER if by_iter else _TRAIN_EPOCH
    for line in reversed(lines[:index]):
        found = train.search(line)
        if found:
            return int(found.group(1))
    return None


@dataclass
class EpochMeans:
    """Training rows of the current epoch, averaged into one point per key when it ends."""

    epoch: int | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    last_epoch: int | None = None  # the last epoch any row was logged at
    skip: frozenset[str] = frozenset({"mode", "epoch", "iter", "step"})

    def flush(self, run: ImportedRun) -> None:
        if self.epoch is None or not self.rows:
            return
        keys = {k for row in self.rows for k, v in row.items() if numeric(v)}
        for key in sorted(keys - self.skip):
            values = [float(row[key]) for row in self.rows if numeric(row.get(key))]
            value = values[-1] if key == "lr" else sum(values) / len(values)
            run.add_metric(f"train/{key}", self.epoch, value)
        self.rows = []


def numeric(value: object) -> bool:
    """A number that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def apply_config(run: ImportedRun, path: Path | None, text: str = "") -> None:
    """Read a dumped config (``path``, else ``text``) into ``run.params`` without running it."""
    if path is not None:
        text = read_text(path)
        run.files.append(path)
    if not text.strip():
        return
    config = read_python_config(text, str(path) if path else f"{run.path} (config in the log)")
    run.problems.extend(config.problems)
    run.config_text = text
    values = {k: v for k, v in config.values.items() if k != "_base_"}
    run.params.update(flatten_params(values))
    if config.bases:
        run.notes = _join(
            run.notes, "config inherits (_base_, not followed): " + ", ".join(config.bases)
        )


def _join(notes: str, line: str) -> str:
    return f"{notes}\n{line}" if notes else line


def work_dir_stamp(text: str) -> datetime | None:
    """The launch time OpenMMLab runners write into file and folder names: ``20200303_101500``."""
    try:
        return datetime.strptime(text, "%Y%m%d_%H%M%S")
    except ValueError:
        return None
