"""What Ultralytics and YOLOv5 run folders share: the results table, YAML args, restarts.

Both write one row per epoch to ``results.csv`` (YOLOv5 also to the older headerless
``results.txt``), append to it when training resumes, and dump their arguments as YAML. The
table is read row by row: a row that is cut short or holds a value that is not a number is
skipped and reported by its line number, the rest is imported.

>>> split_header("   epoch,  train/box_loss,metrics/mAP50(B)")
['epoch', 'train/box_loss', 'metrics/mAP50(B)']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detlab.errors import InvalidInputError, Problem
from detlab.importers.lines import bad_line, read_text
from detlab.importers.model import ImportedRestart, ImportedRun

__all__ = [
    "ResultsTable",
    "add_table_points",
    "find_restarts",
    "is_resumed",
    "is_yolov5_header",
    "metric_key",
    "read_csv_header",
    "read_results_csv",
    "read_yaml_mapping",
    "split_header",
    "unlocated_resume",
]


@dataclass
class ResultsTable:
    """The rows of a results file: ``rows[i]`` is ``(line number, values)`` in column order."""

    path: Path
    columns: list[str]
    rows: list[tuple[int, list[float]]] = field(default_factory=list)

    def column(self, name: str) -> list[float]:
        index = self.columns.index(name)
        return [values[index] for _, values in self.rows]

    @property
    def lines(self) -> list[int]:
        return [line for line, _ in self.rows]


def split_header(line: str) -> list[str]:
    """Column names of a CSV header line; Ultralytics <= 8.0 and YOLOv5 pad them with spaces."""
    return [name.strip() for name in line.split(",")]


def read_csv_header(path: Path) -> list[str]:
    """The column names of ``path``'s first line; ``[]`` when it cannot be read (detection)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            first = handle.readline(65536)
    except OSError:
        return []
    return split_header(first) if "," in first else []


def is_yolov5_header(columns: Sequence[str]) -> bool:
    """YOLOv5 names its learning rates ``x/lr0`` and its mAP ``metrics/mAP_0.5``."""
    return any(c.startswith("x/lr") or "mAP_0.5" in c for c in columns)


def read_results_csv(path: Path, problems: list[Problem]) -> ResultsTable:
    """Read a ``results.csv``; bad rows go to ``problems``, an unreadable file raises.

    Raises :class:`InvalidInputError` naming the file when it is empty or has no ``epoch``
    header (garbage, or not a results file).
    """
    lines = read_text(path).splitlines()
    if not lines or not lines[0].strip():
        raise InvalidInputError(f"{path}: empty file, expected a results.csv header line")
    columns = split_header(lines[0])
    if columns[0] != "epoch" or "" in columns:
        raise InvalidInputError(
            f"{path}: line 1 is not a results.csv header (expected 'epoch,...', "
            f"got {lines[0][:60]!r})"
        )
    table = ResultsTable(path, columns)
    for number, line in enumerate(lines[1:], start=2):
        if line.strip():
            values = parse_row(path, number, line.split(","), columns, problems)
            if values is not None:
                table.rows.append((number, values))
    return table


def parse_row(
    path: Path, number: int, cells: Sequence[str], columns: Sequence[str], problems: list[Problem]
) -> list[float] | None:
    """The numbers of one row, or ``None`` (and a warning) when it is cut short or garbled."""
    if len(cells) != len(columns):
        problems.append(
            bad_line(path, number, f"{len(cells)} values for {len(columns)} columns; row skipped")
        )
        return None
    values = [_to_float(cell) for cell in cells]
    for name, cell, value in zip(columns, cells, values, strict=True):
        if value is None:
            message = f"column '{name}': {cell.strip()[:30]!r} is not a number; row skipped"
            problems.append(bad_line(path, number, message))
            return None
    numbers = [value for value in values if value is not None]
    if not (math.isfinite(numbers[0]) and numbers[0] == int(numbers[0]) and numbers[0] >= 0):
        message = f"column '{columns[0]}': {cells[0].strip()!r} is not an epoch; row skipped"
        problems.append(bad_line(path, number, message))
        return None
    return numbers


def _to_float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def find_restarts(
    path: Path, epochs: Sequence[int], lines: Sequence[int], times: Sequence[float] = ()
) -> dict[int, ImportedRestart]:
    """Where training resumed: the restart taking effect at each row index.

    ``epochs`` are 1-based. An epoch equal to or below the one before means training was
    resumed from the checkpoint of the epoch before it. With ``times`` (Ultralytics' ``time``
    column, seconds since the session started), a drop in time while the epoch advances is a
    resume from the latest checkpoint, which the epochs alone do not show.
    """
    found: dict[int, ImportedRestart] = {}
    for i in range(1, len(epochs)):
        before, now = epochs[i - 1], epochs[i]
        went_back = now <= before
        if went_back or (times and times[i] < times[i - 1]):
            detail = _restart_detail(path, lines[i], before, now, went_back=went_back)
            found[i] = ImportedRestart(epoch=before, loaded_epoch=now - 1, detail=detail)
    return found


def _restart_detail(path: Path, line: int, before: int, now: int, *, went_back: bool) -> str:
    if went_back:
        return f"{path.name} line {line}: epoch {now} follows epoch {before}"
    return f"{path.name} line {line}: the time column starts again at epoch {now}"


def add_table_points(
    run: ImportedRun,
    table: ResultsTable,
    epochs: Sequence[int],
    key_of: Callable[[str], str | None],
    canonical: Mapping[str, str],
    times: Sequence[float] = (),
) -> None:
    """Every value of ``table`` as a point at its 1-based epoch, restarts where they happen.

    ``key_of`` names the metric of each column (``None`` leaves the column out); a column in
    ``canonical`` is also written under detlab's canonical name. ``train/loss`` is the sum of
    the row's ``train/*_loss`` columns unless the table has its own ``train/loss``.
    """
    restarts = find_restarts(table.path, epochs, table.lines, times)
    keys = [key_of(name) for name in table.columns]
    also = [canonical.get(name) for name in table.columns]
    losses = _loss_columns(table.columns)
    for i, (epoch, (_, values)) in enumerate(zip(epochs, table.rows, strict=True)):
        if i in restarts:
            run.add_restart(restarts[i])
        for key, extra, value in zip(keys, also, values, strict=True):
            for name in (key, extra):
                if name:
                    run.add_metric(name, epoch, value)
        if losses:
            run.add_metric("train/loss", epoch, float(sum(values[j] for j in losses)))


def _loss_columns(columns: Sequence[str]) -> list[int]:
    if "train/loss" in columns:
        return []
    return [i for i, c in enumerate(columns) if c.startswith("train/") and c.endswith("_loss")]


def unlocated_resume(args_name: str, args: Mapping[str, Any], table: Path) -> str:
    """The note for a resume that the run's arguments record but its table cannot place (no
    epoch went back: training resumed from the latest checkpoint, and no ``time`` column shows
    it). A note, not a restart: a restart starts a segment at a known point."""
    return (
        f"{args_name} says resume: {args.get('resume')}, but {table.name} does not show where "
        "(no epoch goes back); the restart is not recorded"
    )


def metric_key(column: str) -> str | None:
    """The metric a results column becomes: ``train/`` and ``val/`` names are kept,
    ``metrics/X`` (computed on the validation set) becomes ``val/X``, YOLOv5's ``x/lr0``
    becomes ``train/lr0``, anything else goes under ``train/``; ``epoch`` is the step.
    """
    if column == "epoch":
        return None
    if column.startswith(("train/", "val/")):
        return column
    if column.startswith("metrics/"):
        return "val/" + column.removeprefix("metrics/")
    return "train/" + column.removeprefix("x/")


def is_resumed(args: Mapping[str, Any]) -> bool:
    """Whether a run's arguments say it resumed (``resume: true`` or a checkpoint path)."""
    value = args.get("resume")
    return bool(value) and str(value).strip().lower() not in {"false", "none", "0"}


def read_yaml_mapping(path: Path, problems: list[Problem]) -> dict[str, Any]:
    """A YAML file that should hold a mapping (``args.yaml``, ``opt.yaml``, ``hyp.yaml``).

    A file that does not parse or is not a mapping is reported as a warning and gives ``{}``:
    the metrics of a run are worth importing without its arguments.
    """
    import yaml  # noqa: PLC0415 - only the YOLO importers need YAML

    try:
        data = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        problems.append(Problem("warning", str(path), "", "", f"not valid YAML ({exc}); ignored"))
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = type(data).__name__
        problems.append(Problem("warning", str(path), "", "", f"a YAML {kind}, not a mapping"))
        return {}
    return {str(key): value for key, value in data.items()}
