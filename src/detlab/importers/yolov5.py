"""YOLOv5 run folders: ``results.csv`` (v6.0 on), the headerless ``results.txt`` (up to v5.0),
``opt.yaml`` and ``hyp.yaml``.

Both results files number epochs from 0; steps are the 1-based epochs the console shows.

``results.txt`` has no header. Its 15 whitespace-separated fields are, in YOLOv5's releases up
to 5.0 (``train.py`` writes the training fields, then the 7 validation results; ``plot_results``
in ``utils/plots.py`` reads them back by position)::

    epoch/last  gpu_mem  box obj cls total  targets img_size
    P R mAP@.5 mAP@.5:.95  val_box val_obj val_cls

all on one line, the first two written like ``0/199`` and ``3.24G``. The fields take the names
YOLOv5 itself gives them in its TensorBoard tags and later in ``results.csv``
(``train/box_loss``, ``metrics/mAP_0.5``, ...), so runs from either file compare; the total
loss is ``train/loss``, ``gpu_mem`` (GB) ``train/gpu_mem`` and ``targets`` ``train/targets``.
The older ``ultralytics/yolov3`` files, whose 12th field is F1, are not this layout.

Metric names: ``train/*`` and ``val/*`` columns are kept, ``metrics/X`` becomes ``val/X``,
``x/lr0`` becomes ``train/lr0``. Canonical names: ``val/AP50`` (``mAP_0.5``), ``val/AP``
(``mAP_0.5:0.95``; the box ``(B)`` ones for segmentation runs), ``train/loss``.

``opt.yaml`` holds the run's options; since v6.0 its ``hyp`` is the hyperparameter mapping,
before that a file name, and the values are in the run's ``hyp.yaml``: both become the
``hyp`` param. Resuming appends to the results file: an epoch that does not advance is an
:class:`ImportedRestart`; a resume that opt.yaml records but the file cannot place is a note.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from detlab.errors import InvalidInputError, Problem
from detlab.importers.lines import bad_line, nothing_readable, read_text
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

__all__ = ["DESCRIPTION", "NAME", "SOURCE", "TXT_COLUMNS", "detect", "parse"]

NAME = "yolov5"
DESCRIPTION = "YOLOv5 run folder: results.csv or the headerless results.txt, opt.yaml, hyp.yaml"

#: the fields of a ``results.txt`` line, by position
TXT_COLUMNS = (
    "epoch",
    "gpu_mem",
    "train/box_loss",
    "train/obj_loss",
    "train/cls_loss",
    "train/loss",
    "targets",
    "img_size",
    "metrics/precision",
    "metrics/recall",
    "metrics/mAP_0.5",
    "metrics/mAP_0.5:0.95",
    "val/box_loss",
    "val/obj_loss",
    "val/cls_loss",
)

CANONICAL = {
    "metrics/mAP_0.5": "val/AP50",
    "metrics/mAP_0.5:0.95": "val/AP",
    "metrics/mAP_0.5(B)": "val/AP50",
    "metrics/mAP_0.5:0.95(B)": "val/AP",
}

_TXT_LINE = re.compile(r"^\s*\d+/\d+\s")
_COMMAND_ARGS = (
    ("weights", "--weights"),
    ("cfg", "--cfg"),
    ("data", "--data"),
    ("epochs", "--epochs"),
    ("batch_size", "--batch-size"),
    ("imgsz", "--imgsz"),
    ("img_size", "--img-size"),
)


def detect(path: Path) -> bool:
    """A YOLOv5 run folder, or its ``results.csv`` / ``results.txt``."""
    return results_file(path) is not None


def results_file(path: Path) -> Path | None:
    """The results file of folder ``path`` (``results.csv`` first), or ``path`` if it is one."""
    candidates = [path] if path.is_file() else [path / "results.csv", path / "results.txt"]
    for file in candidates:
        if file.is_file() and (_is_v5_csv(file) or _is_v5_txt(file)):
            return file
    return None


def _is_v5_csv(file: Path) -> bool:
    if file.suffix != ".csv":
        return False
    header = read_csv_header(file)
    return bool(header) and header[0] == "epoch" and is_yolov5_header(header)


def _is_v5_txt(file: Path) -> bool:
    if file.suffix != ".txt":
        return False
    try:
        with file.open(encoding="utf-8", errors="replace") as handle:
            first = handle.readline(4096)
    except OSError:
        return False
    return bool(_TXT_LINE.match(first)) and len(first.split()) == len(TXT_COLUMNS)


def parse(path: Path, **opts: Any) -> list[ImportedRun]:
    """Read the run in folder ``path`` (or from its results file)."""
    file = results_file(path) if path.is_dir() else path
    if file is None:
        raise InvalidInputError(f"{path}: no YOLOv5 results.csv or results.txt here")
    folder = file.parent
    run = ImportedRun(source=NAME, path=folder, name=folder.name, files=[file])
    if file.suffix == ".csv":
        table = read_results_csv(file, run.problems)
    else:
        table = read_results_txt(file, run.problems)
    opt = read_options(run, folder)
    if table.rows:
        epochs = [int(epoch) + 1 for epoch in table.column("epoch")]
        add_table_points(run, table, epochs, txt_metric_key, CANONICAL)
    else:
        run.problems.append(Problem("warning", str(file), "", "", "no epoch rows in the file"))
    if is_resumed(opt) and not run.restarts:
        run.notes = unlocated_resume("opt.yaml", opt, file)
    return [run]


def txt_metric_key(column: str) -> str | None:
    """:func:`metric_key`, leaving out the image size (a param, in opt.yaml)."""
    return None if column == "img_size" else metric_key(column)


# --------------------------------------------------------------------------- results.txt


def read_results_txt(path: Path, problems: list[Problem]) -> ResultsTable:
    """Read the headerless ``results.txt``; a line that does not fit the layout is reported."""
    table = ResultsTable(path, list(TXT_COLUMNS))
    lines = read_text(path).splitlines()
    for number, line in enumerate(lines, start=1):
        if line.strip():
            values = parse_txt_line(path, number, line, problems)
            if values is not None:
                table.rows.append((number, values))
    if not table.rows:
        raise nothing_readable(path, "a YOLOv5 results.txt (15 fields per line, '0/299 ...')")
    return table


def parse_txt_line(
    path: Path, number: int, line: str, problems: list[Problem]
) -> list[float] | None:
    """The 15 numbers of one line (``0/199`` becomes 0, ``3.24G`` 3.24), or ``None``."""
    fields = line.split()
    if len(fields) != len(TXT_COLUMNS) or not _TXT_LINE.match(line):
        message = f"{len(fields)} fields, expected {len(TXT_COLUMNS)} starting 'epoch/last'"
        problems.append(bad_line(path, number, message + "; line skipped"))
        return None
    fields[0] = fields[0].split("/")[0]
    fields[1] = fields[1].removesuffix("G")
    try:
        return [float(value) for value in fields]
    except ValueError:
        problems.append(bad_line(path, number, "a field is not a number; line skipped"))
        return None


# --------------------------------------------------------------------------- opt.yaml


def read_options(run: ImportedRun, folder: Path) -> dict[str, Any]:
    """``opt.yaml`` (with ``hyp`` from ``hyp.yaml`` when opt only names the file) as params."""
    opt_file = folder / "opt.yaml"
    opt = read_yaml_mapping(opt_file, run.problems) if opt_file.is_file() else {}
    params = dict(opt)
    hyp_file = folder / "hyp.yaml"
    if not isinstance(opt.get("hyp"), dict) and hyp_file.is_file():
        if "hyp" in opt:
            params["hyp_file"] = opt["hyp"]
        params["hyp"] = read_yaml_mapping(hyp_file, run.problems)
        run.files.append(hyp_file)
    if opt_file.is_file():
        run.files.append(opt_file)
        run.config_text = read_text(opt_file)
    run.params = params
    run.command = rebuild_command(opt)
    return opt


def rebuild_command(opt: dict[str, Any]) -> str:
    """The ``train.py`` command for the main options (opt.yaml holds every option, defaults
    included, so the exact command typed is not recoverable)."""
    if not opt:
        return ""
    parts = ["python train.py"]
    for key, flag in _COMMAND_ARGS:
        value = opt.get(key)
        if isinstance(value, list):
            value = " ".join(str(v) for v in value)
        if value not in (None, ""):
            parts.append(f"{flag} {value}")
    if isinstance(opt.get("hyp"), str):
        parts.append(f"--hyp {opt['hyp']}")
    if is_resumed(opt):
        parts.append("--resume")
    return " ".join(parts)


SOURCE = Source(name=NAME, description=DESCRIPTION, detect=detect, parse=parse)
