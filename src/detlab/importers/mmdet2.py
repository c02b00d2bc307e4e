"""mmdetection 2.x work dirs: ``<timestamp>.log.json``, ``<timestamp>.log``, ``<config>.py``.

Each launch of ``tools/train.py`` writes a new ``<timestamp>.log.json`` into the work dir; a
work dir with several is one run, resumed: every later log is a restart (reason ``manual`` when
its text log says ``resumed epoch N``, else ``unknown``), and its epochs may go back.

Steps are epochs (1-based, as mmdetection numbers them). A training log row is written every
``log_config.interval`` iterations; ``train/<key>`` at epoch ``e`` is the mean of the rows of
that epoch (``train/lr``: the last one), so each epoch has one point per key. Runs with
``IterBasedRunner`` use iterations instead, one point per row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detlab.errors import Problem
from detlab.importers.canonical import add_coco_canonical, add_value, mark_nan_restart
from detlab.importers.lines import bad_line, nothing_readable, read_json_lines
from detlab.importers.model import ImportedRestart, ImportedRun
from detlab.importers.openmmlab import (
    EpochMeans,
    Resume,
    TextLog,
    apply_config,
    numeric,
    read_text_log,
    work_dir_stamp,
)
from detlab.importers.source import Source

__all__ = ["SOURCE", "detect", "parse"]

#: mmdetection's COCO keys -> pycocotools summary names
_COCO_KEYS = {
    "bbox_mAP": "AP",
    "bbox_mAP_50": "AP50",
    "bbox_mAP_75": "AP75",
    "bbox_mAP_s": "APs",
    "bbox_mAP_m": "APm",
    "bbox_mAP_l": "APl",
}
_NOT_METRICS = frozenset({"mode", "epoch", "iter"})


def detect(path: Path) -> bool:
    if path.is_file():
        return path.name.endswith(".log.json")
    return path.is_dir() and any(path.glob("*.log.json"))


def parse(path: Path, **_: Any) -> list[ImportedRun]:
    """The run of one work dir (or of one ``.log.json`` file)."""
    folder = path if path.is_dir() else path.parent
    logs = sorted(folder.glob("*.log.json")) if path.is_dir() else [path]
    run = ImportedRun(source="mmdet2", path=folder if path.is_dir() else path, name=folder.name)
    meta: dict[str, Any] = {}
    epochs = EpochMeans()
    for index, log in enumerate(logs):
        records = _records(log, run.problems)
        meta = meta or _meta(records)
        iter_based = "IterBasedRunner" in str(meta.get("config", ""))
        run.step_unit = "iter" if iter_based else "epoch"
        text = _text_log(log, iter_based)
        _read_log(run, log, records, text, epochs, first=index == 0)
        run.files.append(log)
        if text is not None:
            run.files.append(text.path)
            run.evaluations.extend(text.evaluations)
    epochs.flush(run)
    _finish(run, folder, logs, meta)
    return [run]


def _records(log: Path, problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    records = read_json_lines(log, problems)
    if not records and log.stat().st_size > 0:
        raise nothing_readable(log, "mmdetection 2.x JSON log lines")
    return records


def _meta(records: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """The first line's environment and config, when the log starts with one."""
    if records and "mode" not in records[0][1]:
        return records[0][1]
    return {}


def _text_log(log: Path, iter_based: bool) -> TextLog | None:
    text = log.with_name(log.name.removesuffix(".json"))
    return read_text_log(text, by_iter=iter_based) if text.is_file() else None


def _read_log(
    run: ImportedRun,
    log: Path,
    records: list[tuple[int, dict[str, Any]]],
    text: TextLog | None,
    epochs: EpochMeans,
    *,
    first: bool,
) -> None:
    step_key = "iter" if run.step_unit == "iter" else "epoch"
    rows = [(n, r) for n, r in records if r.get("mode") in ("train", "val")]
    if rows and not first:
        epochs.flush(run)
        restart = _restart(log, rows[0], text, epochs.last_epoch)
        seed = _meta(records).get("seed")
        restart.seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
        run.add_restart(mark_nan_restart(run, restart))
        epochs.epoch = epochs.last_epoch = None
    for number, row in rows:
        step = row.get(step_key)
        if not isinstance(step, int):
            run.problems.append(bad_line(log, number, f"no integer '{step_key}'; row skipped"))
            continue
        _add_row(run, log, number, row, step, epochs)


def _restart(
    log: Path, first_row: tuple[int, dict[str, Any]], text: TextLog | None, before: int | None
) -> ImportedRestart:
    resume: Resume | None = text.resumes[0] if text and text.resumes else None
    if resume is not None:
        where = f"{text.path.name if text else log.name} line {resume.line}"
        detail = f"resumed from {resume.checkpoint or 'a checkpoint'} ({where})"
        return ImportedRestart(before, resume.epoch, "manual", detail)
    start = first_row[1].get("epoch")
    loaded = start - 1 if isinstance(start, int) and start > 1 else None
    return ImportedRestart(before, loaded, "unknown", f"new log {log.name} starts at epoch {start}")


def _add_row(
    run: ImportedRun, log: Path, number: int, row: dict[str, Any], step: int, epochs: EpochMeans
) -> None:
    if epochs.last_epoch is not None and step < epochs.last_epoch and row.get("mode") == "train":
        epochs.flush(run)
        detail = f"{log.name} line {number}: epoch {step} after epoch {epochs.last_epoch}"
        restart = ImportedRestart(epochs.last_epoch, step - 1, "unknown", detail)
        run.add_restart(mark_nan_restart(run, restart))
    if row.get("mode") == "train":
        if run.step_unit == "iter":
            for key, value in row.items():
                if key not in _NOT_METRICS:
                    add_value(run, f"train/{key}", step, value)
        else:
            if step != epochs.epoch:
                epochs.flush(run)
                epochs.epoch = step
            epochs.rows.append(row)
    else:
        epochs.flush(run)
        _add_val(run, row, step)
    epochs.last_epoch = step


def _add_val(run: ImportedRun, row: dict[str, Any], step: int) -> None:
    for key, value in row.items():
        if key not in _NOT_METRICS and key != "lr":
            add_value(run, f"val/{key}", step, value)
    coco = {name: row[key] for key, name in _COCO_KEYS.items() if numeric(row.get(key))}
    add_coco_canonical(run, step, coco)
    if numeric(row.get("mAP")):
        run.add_metric("val/VOCmAP", step, float(row["mAP"]))


def _finish(run: ImportedRun, folder: Path, logs: list[Path], meta: dict[str, Any]) -> None:
    configs = sorted(folder.glob("*.py"))
    exp = str(meta.get("exp_name", ""))
    chosen = next((c for c in configs if c.name == exp), configs[0] if configs else None)
    apply_config(run, chosen, str(meta.get("config", "")))
    if "seed" in meta and "seed" not in run.params:
        run.params["seed"] = meta["seed"]
    if logs:
        run.started = work_dir_stamp(logs[0].name.removesuffix(".log.json"))
    for key in ("mmdet_version", "exp_name"):
        if meta.get(key):
            run.notes = f"{run.notes}\n{key}: {meta[key]}".strip()
    if not run.metrics:
        run.problems.append(
            Problem("warning", str(folder), "", "", "no training or validation rows in the logs")
        )


SOURCE = Source(
    name="mmdet2",
    description="mmdetection 2.x work dir: <timestamp>.log.json (+ .log text log, <config>.py)",
    detect=detect,
    parse=parse,
)
