"""Pasted text: the pycocotools 12-line summary and mmdetection's per-class tables.

From a file (``.txt``, ``.md``, ``.log``) or standard input (``detlab import - --name N``).
The text has no epochs, so each summary is one step, numbered 1, 2, ... in the order they
appear (a per-class table right after a summary shares its step; a table on its own takes the
next one). Several summaries in one text become successive steps of one run: paste each run's
results into its own file (or stdin import with its own ``--name``) to keep runs apart.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from detlab.errors import InvalidInputError
from detlab.importers.canonical import COCO_CANONICAL, add_coco_canonical
from detlab.importers.lines import read_text
from detlab.importers.model import ImportedEvaluation, ImportedRun
from detlab.importers.source import Source
from detlab.importers.tables import (
    ClassTable,
    CocoSummary,
    VOCTable,
    find_class_tables,
    find_coco_summaries,
    find_voc_tables,
)

__all__ = ["SOURCE", "STDIN", "detect", "parse", "parse_text"]

#: the path that means standard input
STDIN = Path("-")
_SUFFIXES = frozenset({".txt", ".md", ".log", ".markdown"})


def detect(path: Path) -> bool:
    if path == STDIN:
        return True
    if not (path.is_file() and path.suffix.lower() in _SUFFIXES):
        return False
    lines = read_text(path).splitlines()
    return bool(find_coco_summaries(lines) or find_voc_tables(lines) or find_class_tables(lines))


def parse(path: Path, **_: Any) -> list[ImportedRun]:
    """One run from the file (or standard input for ``-``)."""
    if path == STDIN:
        return [parse_text(sys.stdin.read(), path, name="stdin")]
    return [parse_text(read_text(path), path, name=path.stem)]


def parse_text(text: str, path: Path, *, name: str) -> ImportedRun:
    """The summaries and tables of ``text`` as one run (steps 1, 2, ... in text order)."""
    lines = text.splitlines()
    found: list[CocoSummary | VOCTable | ClassTable] = [
        *find_coco_summaries(lines),
        *find_voc_tables(lines),
        *find_class_tables(lines),
    ]
    where = "standard input" if path == STDIN else str(path)
    if not found:
        raise InvalidInputError(
            f"{where}: no pycocotools summary ('Average Precision  (AP) @[ IoU=0.50:0.95 ...') "
            "and no per-class table ('| class | gts | dets | recall | ap |' or '| category | AP "
            "|') in this text"
        )
    run = ImportedRun(source="pasted", path=path, name=name, config_text="")
    step = 0
    for item in sorted(found, key=lambda f: f.line):
        if isinstance(item, CocoSummary) or step == 0 or not _follows_summary(item, found):
            step += 1
        _add(run, item, step, where)
    return run


def _follows_summary(item: VOCTable | ClassTable, found: list[Any]) -> bool:
    """A per-class table printed right after a summary belongs to the same evaluation."""
    before = [f for f in found if f.line < item.line]
    return bool(before) and isinstance(max(before, key=lambda f: f.line), CocoSummary)


def _add(
    run: ImportedRun, item: CocoSummary | VOCTable | ClassTable, step: int, where: str
) -> None:
    source = f"{where} line {item.line + 1}"
    data: dict[str, Any]
    if isinstance(item, CocoSummary):
        for key, value in item.values.items():
            if key not in COCO_CANONICAL:  # AP... are the canonical names themselves
                run.add_metric(f"val/{key}", step, float("nan") if value == -1 else value)
        add_coco_canonical(run, step, item.values)
        data = {"format": "pycocotools_summary", "stats": item.values, "source": source}
        run.evaluations.append(ImportedEvaluation(step, "coco_summary", data))
    elif isinstance(item, VOCTable):
        if item.mean_ap is not None:
            run.add_metric("val/VOCmAP", step, item.mean_ap)
        for row in item.classes:
            run.add_metric(f"val/AP/{row['name']}", step, float(row["ap"]))
        data = {
            "format": "mmdet_voc_table",
            "iou_thr": item.iou_thr,
            "classes": item.classes,
            "mAP": item.mean_ap,
            "source": source,
        }
        run.evaluations.append(ImportedEvaluation(step, "per_class_table", data))
    else:
        data = {"format": "mmdet_coco_classwise", "classes": item.values, "source": source}
        run.evaluations.append(ImportedEvaluation(step, "per_class_table", data))


SOURCE = Source(
    name="pasted",
    description="pasted text (a .txt/.md/.log file, or '-' for standard input): the pycocotools "
    "12-line summary, mmdetection's VOC '| class | gts | dets | recall | ap |' or COCO "
    "'| category | AP |' tables",
    detect=detect,
    parse=parse,
)
