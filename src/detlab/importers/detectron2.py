"""detectron2 output folders: ``metrics.json``, ``log.txt``, ``config.yaml`` and, with
``--gt``, ``coco_instances_results.json`` evaluated by detlab's own COCO evaluator.

``metrics.json`` holds one JSON object per line (bare ``NaN`` where an area has no objects):
training rows at ``iteration`` (0-based, as detectron2 logs it), evaluation rows with
``bbox/AP``, ``bbox/AP50``, ... in percent and per category ``bbox/AP-<name>``. Steps are
iterations. detectron2 appends to the file when training resumes, so iterations going back
mark a restart; ``log.txt``'s ``[DetectionCheckpointer] Loading from`` (or ``Loading
checkpoint from``) line before ``Starting training from iteration N`` names the checkpoint.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from detlab.errors import InvalidInputError, Problem
from detlab.importers.canonical import COCO_CANONICAL, add_coco_canonical, add_value
from detlab.importers.lines import nothing_readable, read_json_lines, read_text
from detlab.importers.model import ImportedEvaluation, ImportedRestart, ImportedRun
from detlab.importers.source import Source

__all__ = ["SOURCE", "detect", "parse"]

_SKIP = frozenset({"iteration", "eta_seconds"})
_TASKS = ("bbox", "segm", "keypoints")
_LOADING = re.compile(r"(?:Loading checkpoint from|\[\w*Checkpointer\] Loading from)\s+(\S+)")
_STARTING = re.compile(r"Starting training from iteration (\d+)")
_RESULTS = "coco_instances_results.json"


def detect(path: Path) -> bool:
    metrics = path / "metrics.json"
    if not (path.is_dir() and metrics.is_file()):
        return False
    with metrics.open("rb") as handle:
        return b'"iteration"' in handle.read(4096)


def parse(path: Path, *, gt: Path | None = None, **_: Any) -> list[ImportedRun]:
    """The run of one output folder; ``gt`` evaluates its COCO results file."""
    name = path.parent.name if path.name == "output" and path.parent.name else path.name
    run = ImportedRun(source="detectron2", path=path, name=name, step_unit="iter")
    metrics = path / "metrics.json"
    rows = read_json_lines(metrics, run.problems)
    if not rows and metrics.stat().st_size > 0:
        raise nothing_readable(metrics, "detectron2 metrics (JSON lines)")
    run.files.append(metrics)
    resumes = _resumes(path / "log.txt")
    last = -1
    for number, row in rows:
        step = row.get("iteration")
        if not isinstance(step, int):
            run.problems.append(_problem(metrics, number, "no integer 'iteration'; row skipped"))
            continue
        if step < last:
            run.add_restart(_restart(metrics, number, last, step, resumes))
        _add_row(run, row, step)
        last = step
    _read_config(run, path)
    if gt is not None:
        _evaluate(run, path, gt, last)
    return [run]


def _problem(path: Path, number: int, message: str) -> Problem:
    return Problem("warning", str(path), f"line {number}", "", message)


def _resumes(log: Path) -> list[tuple[str, int, int]]:
    """``(checkpoint, start iteration, line)`` for each resume in ``log.txt``."""
    if not log.is_file():
        return []
    found: list[tuple[str, int, int]] = []
    checkpoint = ""
    for number, line in enumerate(read_text(log).splitlines(), start=1):
        loading = _LOADING.search(line)
        if loading:
            checkpoint = loading.group(1).rstrip(".")
        starting = _STARTING.search(line)
        if starting and int(starting.group(1)) > 0:
            found.append((checkpoint, int(starting.group(1)), number))
    return found


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
