"""mmdetection 3.x / mmengine work dirs: ``<timestamp>/vis_data/scalars.json``, the text log
``<timestamp>/<timestamp>.log`` and the dumped ``vis_data/config.py``.

Every launch writes a new timestamp folder; several in one work dir are one run, resumed: each
later folder is a restart (``manual`` when its log says ``resumed epoch: N``).

Training rows carry ``epoch``, ``iter`` and ``step``; validation rows only ``step`` (the epoch,
or the iteration with ``log_metric_by_epoch=False``). Epoch-based runs get one point per epoch
and key (training rows averaged, ``train/lr`` the last); iteration-based runs
(``IterBasedTrainLoop``: rows without ``epoch``) use iterations as steps.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from detlab.errors import Problem
from detlab.importers.canonical import add_coco_canonical, add_value, mark_nan_restart
from detlab.importers.lines import nothing_readable, read_json_lines
from detlab.importers.model import ImportedRestart, ImportedRun
from detlab.importers.openmmlab import (
    EpochMeans,
    TextLog,
    apply_config,
    numeric,
    read_text_log,
    work_dir_stamp,
)
from detlab.importers.source import Source

__all__ = ["SOURCE", "detect", "parse"]

_TIMESTAMP = re.compile(r"\d{8}_\d{6}")
_SKIP_VAL = frozenset({"step", "data_time", "time", "epoch", "iter"})


def _scalars(folder: Path) -> Path:
    return folder / "vis_data" / "scalars.json"


def _launches(path: Path) -> list[Path]:
    """The timestamp folders (``20230605_200941``) of a work dir, or the folder itself when it
    holds ``vis_data/`` (one launch)."""
    if _scalars(path).is_file():
        return [path]
    return sorted(
        p for p in path.iterdir() if _TIMESTAMP.fullmatch(p.name) and _scalars(p).is_file()
    )


def detect(path: Path) -> bool:
    return path.is_dir() and bool(_launches(path))


def parse(path: Path, **_: Any) -> list[ImportedRun]:
    """The run of one work dir (all its launches) or of one timestamp folder."""
    launches = _launches(path)
    run = ImportedRun(source="mmengine", path=path, name=path.name)
    tables = [_read(launch, run.problems) for launch in launches]
    run.step_unit = "epoch" if any("epoch" in r for rows in tables for _, r in rows) else "iter"
    epochs = EpochMeans()
    for index, (launch, rows) in enumerate(zip(launches, tables, strict=True)):
        text = _text_log(launch, run.step_unit == "iter")
        if index and rows:
            epochs.flush(run)
            run.add_restart(mark_nan_restart(run, _restart(launch, rows, text, epochs.last_epoch)))
        _add_rows(run, rows, epochs)
        run.files.append(_scalars(launch))
        if text is not None:
            run.files.append(text.path)
            run.evaluations.extend(text.evaluations)
    epochs.flush(run)
    _finish(run, path, launches)
    return [run]


def _read(launch: Path, problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    path = _scalars(launch)
    rows = read_json_lines(path, problems)
    if not rows and path.stat().st_size > 0:
        raise nothing_readable(path, "mmengine scalars (JSON lines)")
    return rows


def _text_log(launch: Path, by_iter: bool) -> TextLog | None:
    text = launch / f"{launch.name}.log"
    return read_text_log(text, by_iter=by_iter) if text.is_file() else None


def _restart(
    launch: Path, rows: list[tuple[int, dict[str, Any]]], text: TextLog | None, before: int | None
) -> ImportedRestart:
    if text is not None and text.resumes:
        resume = text.resumes[0]
        where = f"{text.path.name} line {resume.line}"
        detail = f"resumed from {resume.checkpoint or 'a checkpoint'} ({where})"
        return ImportedRestart(before, resume.epoch, "manual", detail)
    first = rows[0][1]
    start = first.get("epoch", first.get("iter"))
    loaded = start - 1 if isinstance(start, int) and start > 1 else None
    return ImportedRestart(before, loaded, "unknown", f"new launch {launch.name} starts at {start}")


def _add_rows(run: ImportedRun, rows: list[tuple[int, dict[str, Any]]], epochs: EpochMeans) -> None:
    last_iter = 0
    for _, row in rows:
        if "iter" in row:
            last_iter = int(row["iter"])
            _add_train(run, row, epochs)
        else:
            epochs.flush(run)
            step = row.get("step")
            if run.step_unit == "iter" and not step:
                step = last_iter  # validation logged by epoch (0) in an iteration-based run
            if isinstance(step, int):
                _add_val(run, row, step)
                epochs.last_epoch = step if run.step_unit == "epoch" else epochs.last_epoch


def _add_train(run: ImportedRun, row: dict[str, Any], epochs: EpochMeans) -> None:
    if run.step_unit == "iter":
        for key, value in row.items():
            if key not in epochs.skip:
                add_value(run, f"train/{key}", int(row["iter"]), value)
        epochs.last_epoch = int(row["iter"])
        return
    epoch = int(row.get("epoch", 0))
    if epoch != epochs.epoch:
        epochs.flush(run)
        epochs.epoch = epoch
    epochs.rows.append(row)
    epochs.last_epoch = epoch


def _add_val(run: ImportedRun, row: dict[str, Any], step: int) -> None:
    for key, value in row.items():
        if key not in _SKIP_VAL:
            add_value(run, f"val/{key}", step, value)
    coco: dict[str, float] = {}
    for key, value in row.items():
        prefix, _, name = key.rpartition("/")
        if prefix.endswith("coco") and name.startswith("bbox_mAP") and numeric(value):
            coco[_coco_name(name)] = float(value)
        if prefix.endswith("pascal_voc") and name == "mAP" and numeric(value):
            run.add_metric("val/VOCmAP", step, float(value))
    add_coco_canonical(run, step, coco)


def _coco_name(name: str) -> str:
    suffix = name.removeprefix("bbox_mAP").removeprefix("_")
    return "AP" + suffix


def _finish(run: ImportedRun, path: Path, launches: list[Path]) -> None:
    configs = [launch / "vis_data" / "config.py" for launch in launches]
    existing = [c for c in configs if c.is_file()]
    apply_config(run, existing[-1] if existing else None)
    if launches:
        run.started = work_dir_stamp(launches[0].name)
    if not run.metrics:
        message = "no training or validation rows in vis_data/scalars.json"
        run.problems.append(Problem("warning", str(path), "", "", message))


SOURCE = Source(
    name="mmengine",
    description="mmdetection 3.x / mmengine work dir: <timestamp>/vis_data/scalars.json "
    "(+ <timestamp>.log, vis_data/config.py)",
    detect=detect,
    parse=parse,
)
