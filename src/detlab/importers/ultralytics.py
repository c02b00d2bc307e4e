"""Ultralytics YOLOv8 / YOLO11 run folders: ``results.csv`` and ``args.yaml``.

``results.csv`` has one row per epoch. Two layouts exist: Ultralytics 8.0 padded the header
names with spaces and numbered epochs from 0; later releases number them from 1, and 8.3 added
a ``time`` column (seconds since the training session started). Steps are the 1-based epochs
the console shows: a file with a ``time`` column is 1-based, otherwise a file whose first
epoch is 0 is 0-based (a 1-based file never holds epoch 0).

Metric names (see ``docs/importers.md``): ``train/*`` and ``val/*`` columns keep their names,
``metrics/X`` becomes ``val/X`` (``val/mAP50(B)``, ``val/mAP50-95(M)``), ``lr/pg0`` becomes
``train/lr/pg0``, ``time`` becomes ``train/time``. Also written under the canonical names:
``val/AP50`` (box ``mAP50(B)``), ``val/AP`` (box ``mAP50-95(B)``) and ``train/loss`` (the sum
of the ``train/*_loss`` columns).

Resuming (``yolo train resume model=last.pt``) appends to the same file: an epoch that does not
advance, or a ``time`` that starts again, is an :class:`ImportedRestart`. A resume that
``args.yaml`` records but the table cannot place goes to the run's notes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detlab.errors import InvalidInputError, Problem
from detlab.importers.lines import read_text
from detlab.importers.model import ImportedRun
from detlab.importers.source import Source
from detlab.importers.yolo_run import (
    ResultsTable,
    add_table_points,
    is_resumed,
    is_yolov5_header,
    metric_key,
    read_csv_header,
    read_results_csv,
    read_yaml_mapping,
    unlocated_resume,
)

__all__ = ["DESCRIPTION", "NAME", "SOURCE", "detect", "parse"]

NAME = "ultralytics"
DESCRIPTION = "Ultralytics YOLOv8/YOLO11 run folder: results.csv (both layouts), args.yaml"

#: box metrics that are also written under detlab's canonical names
CANONICAL = {"metrics/mAP50(B)": "val/AP50", "metrics/mAP50-95(B)": "val/AP"}

_COMMAND_ARGS = ("model", "data", "epochs", "imgsz", "batch", "resume")
_UNSET = (None, "", False)


def detect(path: Path) -> bool:
    """A run folder (or its ``results.csv``) written by Ultralytics, not by YOLOv5."""
    csv = results_csv(path)
    if csv is None:
        return False
    header = read_csv_header(csv)
    if not header or header[0] != "epoch" or is_yolov5_header(header):
        return False
    ultralytics_columns = any("(B)" in c or c.startswith("lr/pg") for c in header)
    return ultralytics_columns or (csv.parent / "args.yaml").is_file()


def results_csv(path: Path) -> Path | None:
    """``path`` itself when it is a CSV file, else the ``results.csv`` in folder ``path``."""
    if path.is_file():
        return path if path.suffix == ".csv" else None
    candidate = path / "results.csv"
    return candidate if candidate.is_file() else None


def parse(path: Path, **opts: Any) -> list[ImportedRun]:
    """Read the run in folder ``path`` (or from its ``results.csv``)."""
    csv = results_csv(path)
    if csv is None:
        raise InvalidInputError(f"{path}: no results.csv here; not an Ultralytics run folder")
    folder = csv.parent
    run = ImportedRun(source=NAME, path=folder, name=folder.name, files=[csv])
    table = read_results_csv(csv, run.problems)
    args = read_args(run, folder / "args.yaml")
    add_points(run, table)
    if is_resumed(args) and not run.restarts:
        run.notes = unlocated_resume("args.yaml", args, csv)
    if not table.rows:
        run.problems.append(Problem("warning", str(csv), "", "", "no epoch rows in the file"))
    return [run]


def read_args(run: ImportedRun, file: Path) -> dict[str, Any]:
    """``args.yaml`` as the run's params, its text as the config, the command rebuilt from it."""
    if not file.is_file():
        return {}
    args = read_yaml_mapping(file, run.problems)
    run.files.append(file)
    run.params = args
    run.config_text = read_text(file)
    run.command = rebuild_command(args)
    return args


def rebuild_command(args: dict[str, Any]) -> str:
    """The ``yolo`` command line for the main arguments (args.yaml holds every argument,
    defaults included, so the exact command typed is not recoverable)."""
    if not args:
        return ""
    parts = ["yolo", str(args.get("task", "detect")), str(args.get("mode", "train"))]
    parts += [f"{key}={args[key]}" for key in _COMMAND_ARGS if args.get(key) not in _UNSET]
    return " ".join(parts)


def add_points(run: ImportedRun, table: ResultsTable) -> None:
    """The table's values at 1-based epochs, with restarts where epochs or time go back."""
    if not table.rows:
        return
    raw = [int(e) for e in table.column("epoch")]
    has_time = "time" in table.columns
    offset = 1 if not has_time and min(raw) == 0 else 0
    times = table.column("time") if has_time else []
    epochs = [epoch + offset for epoch in raw]
    add_table_points(run, table, epochs, metric_key, CANONICAL, times)


SOURCE = Source(name=NAME, description=DESCRIPTION, detect=detect, parse=parse)
