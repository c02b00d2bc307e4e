"""TensorBoard event files (``events.out.tfevents.*``) as runs, without TensorFlow.

A folder's event files (several when training was restarted: one per writer session) make one
run, read in the order of the timestamps in their names; a single event file given as the path
is a run of its own. Scalars are read by :mod:`detlab.importers.tfevents`. Lightning's
``hparams.yaml`` next to the files becomes the run's params.

Steps are TensorBoard's global steps as the writer gave them: 1-based epochs for Ultralytics and
YOLOv5, iterations for Lightning and for mmengine's training scalars (its validation scalars
are logged at epochs).

Tags become metric keys by one rule (see ``docs/importers.md``):

1. ``train/...`` and ``val/...`` are kept as they are;
2. ``metrics/X`` becomes ``val/X`` (as the Ultralytics and YOLOv5 CSV importers name it);
   evaluation namespaces ``coco/``, ``pascal_voc/``, ``voc/``, ``bbox/``, ``segm/`` go under
   ``val/`` whole (``val/coco/bbox_mAP``);
3. a tag whose first word is ``val``, ``valid``, ``validation``, ``test`` or ``eval``
   (``val_loss``, ``valid/acc``) goes under ``val/``;
4. anything else goes under ``train/`` (``loss`` -> ``train/loss``, ``lr/pg0`` ->
   ``train/lr/pg0``).

Tags whose meaning is unambiguous are also written under detlab's canonical names
(:data:`CANONICAL_TAGS`). A tag whose step does not advance means training was resumed: an
:class:`ImportedRestart` at that point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from detlab.errors import InvalidInputError, Problem
from detlab.importers.model import ImportedRestart, ImportedRun
from detlab.importers.source import Source
from detlab.importers.tfevents import EventFile, ScalarEvent, read_event_file
from detlab.importers.yolo_run import read_yaml_mapping

__all__ = ["CANONICAL_TAGS", "DESCRIPTION", "NAME", "SOURCE", "detect", "metric_key", "parse"]

NAME = "tensorboard"
DESCRIPTION = "TensorBoard event files (events.out.tfevents.*), scalars, read without TensorFlow"

_PREFIX = "events.out.tfevents."


@dataclass(frozen=True)
class Canonical:
    """The canonical key a tag is also written under, and the factor to a fraction."""

    key: str
    scale: float = 1.0


#: tags with one meaning whatever wrote them -> canonical names (COCO-style fractions)
CANONICAL_TAGS: dict[str, Canonical] = {
    # Ultralytics (box metrics) and YOLOv5
    "metrics/mAP50(B)": Canonical("val/AP50"),
    "metrics/mAP50-95(B)": Canonical("val/AP"),
    "metrics/mAP_0.5": Canonical("val/AP50"),
    "metrics/mAP_0.5:0.95": Canonical("val/AP"),
    # mmengine / mmdetection 3.x CocoMetric and VOCMetric
    "coco/bbox_mAP": Canonical("val/AP"),
    "coco/bbox_mAP_50": Canonical("val/AP50"),
    "coco/bbox_mAP_75": Canonical("val/AP75"),
    "coco/bbox_mAP_s": Canonical("val/APs"),
    "coco/bbox_mAP_m": Canonical("val/APm"),
    "coco/bbox_mAP_l": Canonical("val/APl"),
    "pascal_voc/mAP": Canonical("val/VOCmAP"),
    # detectron2 (percent)
    "bbox/AP": Canonical("val/AP", 0.01),
    "bbox/AP50": Canonical("val/AP50", 0.01),
    "bbox/AP75": Canonical("val/AP75", 0.01),
    "bbox/APs": Canonical("val/APs", 0.01),
    "bbox/APm": Canonical("val/APm", 0.01),
    "bbox/APl": Canonical("val/APl", 0.01),
}

_EVAL_NAMESPACES = ("coco/", "pascal_voc/", "voc/", "bbox/", "segm/")
_VAL_WORDS = frozenset({"val", "valid", "validation", "test", "eval"})
_FIRST_WORD = re.compile(r"[/_\-.\s]")


def detect(path: Path) -> bool:
    """An event file, or a folder holding at least one."""
    if path.is_file():
        return path.name.startswith(_PREFIX)
    return path.is_dir() and any(event_files(path))


def event_files(folder: Path) -> list[Path]:
    """The folder's event files in writing order (by the timestamp in their names)."""
    files = [p for p in folder.glob(_PREFIX + "*") if p.is_file()]
    return sorted(files, key=_write_order)


def _write_order(path: Path) -> tuple[int, str]:
    stamp = path.name.removeprefix(_PREFIX).split(".", 1)[0]
    return (int(stamp) if stamp.isdigit() else 0, path.name)


def metric_key(tag: str) -> str:
    """The metric key of a TensorBoard tag, by the rule in the module docstring."""
    if tag.startswith(("train/", "val/")):
        return tag
    if tag.startswith("metrics/"):
        return "val/" + tag.removeprefix("metrics/")
    if tag.startswith(_EVAL_NAMESPACES):
        return "val/" + tag
    if _FIRST_WORD.split(tag, maxsplit=1)[0].lower() in _VAL_WORDS:
        return "val/" + tag
    return "train/" + tag


def parse(path: Path, **opts: Any) -> list[ImportedRun]:
    """The run in folder ``path`` (all its event files), or in the event file ``path``."""
    files = [path] if path.is_file() else event_files(path)
    if not files:
        raise InvalidInputError(f"{path}: no TensorBoard event file (events.out.tfevents.*)")
    folder = path.parent if path.is_file() else path
    run = ImportedRun(source=NAME, path=path, name=folder.name, files=list(files))
    read = [read_event_file(file, run.problems) for file in files]
    _check_readable(read, run.problems)
    events = [event for file in read for event in file.scalars]
    add_events(run, events)
    _read_hparams(run, folder)
    if events:
        run.started = datetime.fromtimestamp(min(e.wall_time for e in events), tz=timezone.utc)
    return [run]


def _check_readable(files: list[EventFile], problems: list[Problem]) -> None:
    """An :class:`InvalidInputError` when no file held a single sound record."""
    if any(file.good_records for file in files):
        return
    names = ", ".join(str(file.path) for file in files)
    if all(file.size == 0 for file in files):
        raise InvalidInputError(f"{names}: empty file, no TensorBoard records")
    first = f" ({problems[0].record}: {problems[0].message})" if problems else ""
    raise InvalidInputError(
        f"{names}: not a TensorBoard event file, no readable record{first}", problems
    )


def add_events(run: ImportedRun, events: list[ScalarEvent]) -> None:
    """Each scalar as a point; a tag whose step does not advance starts a new segment."""
    last_step: dict[str, int] = {}
    for event in events:
        previous = last_step.get(event.tag)
        if previous is not None and event.step <= previous:
            run.add_restart(_restart(event, previous))
            last_step.clear()
        last_step[event.tag] = event.step
        run.add_metric(metric_key(event.tag), event.step, event.value)
        canonical = CANONICAL_TAGS.get(event.tag)
        if canonical is not None:
            value = float("nan") if event.value == -1 else event.value * canonical.scale
            run.add_metric(canonical.key, event.step, value)


def _restart(event: ScalarEvent, previous: int) -> ImportedRestart:
    where = f"{event.file} record {event.record}"
    detail = f"{where}: '{event.tag}' at step {event.step} after step {previous}"
    return ImportedRestart(epoch=previous, loaded_epoch=event.step - 1, detail=detail)


def _read_hparams(run: ImportedRun, folder: Path) -> None:
    """Lightning's ``hparams.yaml`` (TensorBoardLogger writes it beside the events)."""
    file = folder / "hparams.yaml"
    if file.is_file():
        run.params = read_yaml_mapping(file, run.problems)
        run.files.append(file)


SOURCE = Source(name=NAME, description=DESCRIPTION, detect=detect, parse=parse)
