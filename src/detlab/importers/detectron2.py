"""detectron2 output folders: ``metrics.json``, ``log.txt``, ``config.yaml`` and, with
``--gt``, ``coco_instances_results.json`` evaluated by detlab's own COCO evaluator.

A folder with ``metrics.json`` or, for an ``--eval-only`` run, only ``log.txt``.
``metrics.json`` holds one JSON object per line (bare ``NaN`` where an area has no objects):
training rows at ``iteration`` (0-based, as detectron2 logs it), evaluation rows with
``bbox/AP``, ``bbox/AP50``, ... in percent and per category ``bbox/AP-<name>``. Steps are
iterations. detectron2 appends to the file when training resumes, so iterations going back
mark a restart; ``log.txt``'s ``[DetectionCheckpointer] Loading from`` (or ``Loading
checkpoint from``) line before ``Starting training from iteration N`` names the checkpoint, and
its ``copypaste:`` results and per-category tables are imported where ``metrics.json`` lacks
them (:mod:`detlab.importers.d2log`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detlab.errors import InvalidInputError, Problem
from detlab.importers.canonical import (
    COCO_CANONICAL,
    add_coco_canonical,
    add_value,
    mark_nan_restart,
)
from detlab.importers.d2log import D2Log, read_d2_log
from detlab.importers.lines import nothing_readable, read_json_lines, read_text
from detlab.importers.model import ImportedEvaluation, ImportedRestart, ImportedRun
from detlab.importers.source import Source

__all__ = ["SOURCE", "detect", "parse"]

_SKIP = frozenset({"iteration", "eta_seconds"})
_TASKS = ("bbox", "segm", "keypoints")
_RESULTS = "coco_instances_results.json"


def detect(path: Path) -> bool:
    """A folder with a ``metrics.json`` of ``iteration`` rows, or a detectron2 ``log.txt``."""
    return _head_has(path / "metrics.json", b'"iteration"') or _head_has(path / "log.txt", b" d2.")


def _head_has(path: Path, marker: bytes) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        return marker in handle.read(65536)


def parse(path: Path, *, gt: Path | None = None, **_: Any) -> list[ImportedRun]:
    """The run of one output folder; ``gt`` evaluates its COCO results file."""
    name = path.parent.name if path.name == "output" and path.parent.name else path.name
    run = ImportedRun(source="detectron2", path=path, name=name, step_unit="iter")
    log = read_d2_log(path / "log.txt")
    last = _read_metrics(run, path / "metrics.json", log.resumes)
    if log.results or log.tables:
        run.files.append(path / "log.txt")
        _add_log_results(run, log, last)
    _read_config(run, path)
    if gt is not None:
        _evaluate(run, path, gt, last)
    return [run]


def _read_metrics(run: ImportedRun, metrics: Path, resumes: list[tuple[str, int, int]]) -> int:
    """Add ``metrics.json``'s rows; the last iteration (-1 without rows)."""
    if not metrics.is_file():
        return -1
    rows = read_json_lines(metrics, run.problems)
    if not rows and metrics.stat().st_size > 0:
        raise nothing_readable(metrics, "detectron2 metrics (JSON lines)")
    run.files.append(metrics)
    last = -1
    for number, row in rows:
        step = row.get("iteration")
        if not isinstance(step, int):
            run.problems.append(_problem(metrics, number, "no integer 'iteration'; row skipped"))
            continue
        if step < last:
            run.add_restart(mark_nan_restart(run, _restart(metrics, number, last, step, resumes)))
        _add_row(run, row, step)
        last = step
    return last


def _add_log_results(run: ImportedRun, log: D2Log, last: int) -> None:
    """``copypaste:`` results that ``metrics.json`` lacks, and the per-category tables."""
    for result in log.results:
        step = result.step if result.step is not None else max(last, 0)
        logged = run.metrics.get(f"val/{result.task}/AP", [])
        if any(s == step for s, _ in logged):
            continue
        for name, value in result.values.items():
            run.add_metric(f"val/{result.task}/{name}", step, value)
        if result.task == "bbox":
            add_coco_canonical(run, step, result.values, scale=0.01)
    for at, task, values, line in log.tables:
        data = {"format": "detectron2_per_category", "task": task, "classes": values,
                "source": f"log.txt line {line}"}  # fmt: skip
        step = at if at is not None else max(last, 0)
        run.evaluations.append(ImportedEvaluation(step, "per_class_table", data))


def _problem(path: Path, number: int, message: str) -> Problem:
    return Problem("warning", str(path), f"line {number}", "", message)


def _restart(
    metrics: Path, number: int, last: int, step: int, resumes: list[tuple[str, int, int]]
) -> ImportedRestart:
    for checkpoint, start, line in resumes:
        if start <= step + 1:
            detail = f"resumed from {checkpoint or 'a checkpoint'} (log.txt line {line})"
            return ImportedRestart(last, start - 1, "manual", detail)
    detail = f"{metrics.name} line {number}: iteration {step} after {last}"
    return ImportedRestart(last, None, "unknown", detail)


def _add_row(run: ImportedRun, row: dict[str, Any], step: int) -> None:
    for key, value in row.items():
        if key in _SKIP:
            continue
        task = key.partition("/")[0]
        prefix = "val" if task in _TASKS else "train"
        add_value(run, f"{prefix}/{key}", step, value)
    if "total_loss" in row:
        add_value(run, "train/loss", step, row["total_loss"])
    coco = {name: row[f"bbox/{name}"] for name in COCO_CANONICAL if f"bbox/{name}" in row}
    numbers = {k: float(v) for k, v in coco.items() if isinstance(v, (int, float))}
    add_coco_canonical(run, step, numbers, scale=0.01)


def _read_config(run: ImportedRun, path: Path) -> None:
    config = path / "config.yaml"
    if not config.is_file():
        return
    import yaml  # noqa: PLC0415  (PyYAML only when a config is there)

    text = read_text(config)
    run.config_text = text
    run.files.append(config)
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        run.problems.append(Problem("warning", str(config), where, "", f"not valid YAML: {exc}"))
        return
    if isinstance(values, dict):
        run.params.update(values)


def _evaluate(run: ImportedRun, path: Path, gt: Path, last: int) -> None:
    found = sorted(path.rglob(_RESULTS))
    if not found:
        raise InvalidInputError(f"{path}: --gt given but no {_RESULTS} under this folder")
    from detlab.metrics import evaluate_coco  # noqa: PLC0415  (NumPy only when evaluating)

    result = evaluate_coco(gt, found[0])
    step = max(last, 0)
    run.files.append(found[0])
    run.evaluations.append(ImportedEvaluation(step, "coco", result.to_dict()))
    if not run.metrics.get("val/AP") or run.metrics["val/AP"][-1][0] != step:
        add_coco_canonical(run, step, result.metrics())


SOURCE = Source(
    name="detectron2",
    description="detectron2 output folder: metrics.json (+ log.txt, config.yaml; "
    "coco_instances_results.json evaluated with --gt)",
    detect=detect,
    parse=parse,
)
