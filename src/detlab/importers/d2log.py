"""detectron2's ``log.txt``: resumes, ``copypaste:`` results and per-category AP tables.

Each evaluation prints (``d2.evaluation.testing``)::

    copypaste: Task: bbox
    copypaste: AP,AP50,AP75,APs,APm,APl
    copypaste: 75.7732,100.0000,91.7492,nan,83.2871,72.0163

after a ``Per-category bbox AP:`` table. The iteration of an evaluation is the one of the
``iter: N`` line the metrics printer writes right after it (periodic evaluation runs before the
writer in a step), else one past the last ``iter: N`` before it (the final evaluation), else
unknown (an ``--eval-only`` log).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from detlab.importers.lines import read_text
from detlab.importers.tables import find_class_tables

__all__ = ["CopyPaste", "D2Log", "read_d2_log"]

_LOADING = re.compile(r"(?:Loading checkpoint from|\[\w*Checkpointer\] Loading from)\s+(\S+)")
_STARTING = re.compile(r"Starting training from iteration (\d+)")
_COPYPASTE = re.compile(r"copypaste:\s*(.*?)\s*$")
_ITER = re.compile(r"\biter:\s*(\d+)")
_PER_CATEGORY = re.compile(r"Per-category (\w+) AP")
#: how many lines after an evaluation its ``iter: N`` line may come
_LOOKAHEAD = 40


@dataclass(frozen=True)
class CopyPaste:
    """One ``copypaste:`` result: the task, its values by name (percent), the line, the step."""

    task: str
    values: dict[str, float]
    line: int  # 1-based
    step: int | None


@dataclass
class D2Log:
    resumes: list[tuple[str, int, int]] = field(default_factory=list)  # (checkpoint, start, line)
    results: list[CopyPaste] = field(default_factory=list)
    #: ``(step, task, per-category values, line)`` of each ``Per-category <task> AP`` table
    tables: list[tuple[int | None, str, dict[str, dict[str, float]], int]] = field(
        default_factory=list
    )


def read_d2_log(path: Path) -> D2Log:
    """What ``log.txt`` says beyond ``metrics.json``; an empty record when there is no file."""
    if not path.is_file():
        return D2Log()
    lines = read_text(path).splitlines()
    iters = [(i, int(m.group(1))) for i, line in enumerate(lines) if (m := _ITER.search(line))]
    log = D2Log(resumes=_resumes(lines))
    log.results = _results(lines, iters)
    for table in find_class_tables(lines):
        task = _task_before(lines, table.line)
        log.tables.append((_step_at(table.line, iters), task, table.values, table.line + 1))
    return log


def _resumes(lines: list[str]) -> list[tuple[str, int, int]]:
    found: list[tuple[str, int, int]] = []
    checkpoint = ""
    for number, line in enumerate(lines, start=1):
        loading = _LOADING.search(line)
        if loading:
            checkpoint = loading.group(1).rstrip(".")
        starting = _STARTING.search(line)
        if starting and int(starting.group(1)) > 0:
            found.append((checkpoint, int(starting.group(1)), number))
    return found


def _results(lines: list[str], iters: list[tuple[int, int]]) -> list[CopyPaste]:
    pasted = [(i, m.group(1)) for i, line in enumerate(lines) if (m := _COPYPASTE.search(line))]
    found: list[CopyPaste] = []
    for k, (index, text) in enumerate(pasted):
        if not text.startswith("Task:") or k + 2 >= len(pasted):
            continue
        names, values = pasted[k + 1][1].split(","), pasted[k + 2][1].split(",")
        numbers = {n.strip(): _number(v) for n, v in zip(names, values, strict=False)}
        task = text.removeprefix("Task:").strip()
        found.append(CopyPaste(task, numbers, index + 1, _step_at(index, iters)))
    return found


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _step_at(index: int, iters: list[tuple[int, int]]) -> int | None:
    after = [it for i, it in iters if index < i <= index + _LOOKAHEAD]
    if after:
        return after[0]
    before = [it for i, it in iters if i < index]
    return before[-1] + 1 if before else None


def _task_before(lines: list[str], index: int) -> str:
    for line in reversed(lines[max(0, index - 3) : index + 1]):
        found = _PER_CATEGORY.search(line)
        if found:
            return found.group(1)
    return "bbox"
