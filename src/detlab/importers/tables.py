"""Evaluation tables as frameworks print them, found in log text or pasted text.

- the pycocotools 12-line summary (``Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all |
  maxDets=100 ] = 0.338``), also with a leading ``#`` or indentation as people paste it;
- mmdetection's Pascal VOC table (``| class | gts | dets | recall | ap |`` and its ``| mAP |``
  row), as ``eval_map`` prints it after each evaluation;
- per-category AP tables (``| category | AP | category | AP |``), printed by mmdetection with
  ``classwise=True`` and by detectron2.

Each finder returns what it found with the 0-based index of the table's first line, so callers
can tie a table to the epoch logged around it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "ClassTable",
    "CocoSummary",
    "VOCTable",
    "find_class_tables",
    "find_coco_summaries",
    "find_voc_tables",
]

_SUMMARY = re.compile(
    r"Average (?:Precision|Recall)\s+\((?P<kind>AP|AR)\)\s*@\[\s*IoU=(?P<iou>[\d.:]+)\s*\|"
    r"\s*area=\s*(?P<area>\w+)\s*\|\s*maxDets=\s*(?P<dets>\d+)\s*\]\s*=\s*(?P<value>-?[\d.]+)"
)
_AREAS = {"all": "", "small": "s", "medium": "m", "large": "l"}
_IOU = {"0.50:0.95": "", "0.50": "50", "0.75": "75", "0.5": "50"}


@dataclass
class CocoSummary:
    """One pycocotools summary: ``AP``, ``AP50``, ... ``ARl`` as fractions (-1: undefined)."""

    line: int
    values: dict[str, float] = field(default_factory=dict)


@dataclass
class VOCTable:
    """mmdetection's VOC table: per class ``gts``, ``dets``, ``recall``, ``ap``; and ``mAP``."""

    line: int
    classes: list[dict[str, float | str]] = field(default_factory=list)
    mean_ap: float | None = None
    iou_thr: float | None = None


@dataclass
class ClassTable:
    """Per-category values of a ``| category | AP |`` table: name -> column -> value."""

    line: int
    values: dict[str, dict[str, float]] = field(default_factory=dict)


def _cells(line: str) -> list[str] | None:
    text = line.strip().lstrip("#").strip()
    if not (text.startswith("|") and text.endswith("|")):
        return None
    return [c.strip() for c in text[1:-1].split("|")]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _summary_key(match: re.Match[str]) -> str | None:
    kind, iou, area, dets = match["kind"], match["iou"], match["area"], int(match["dets"])
    if iou not in _IOU or area not in _AREAS:
        return None
    if kind == "AP":
        return f"AP{_IOU[iou]}{_AREAS[area]}" if not (_IOU[iou] and _AREAS[area]) else None
    if iou != "0.50:0.95":
        return None
    return f"AR{_AREAS[area]}" if area != "all" else f"AR{dets}"


def find_coco_summaries(lines: Sequence[str]) -> list[CocoSummary]:
    """Every block of consecutive summary lines; a new block starts at each ``AP`` line."""
    found: list[CocoSummary] = []
    current: CocoSummary | None = None
    for index, line in enumerate(lines):
        match = _SUMMARY.search(line)
        key = _summary_key(match) if match else None
        if match is None or key is None:
            current = None
            continue
        if current is None or key == "AP" or key in current.values:
            current = CocoSummary(index)
            found.append(current)
        current.values[key] = float(match["value"])
    return found


def find_voc_tables(lines: Sequence[str]) -> list[VOCTable]:
    """Every ``| class | gts | dets | recall | ap |`` table with its ``mAP`` row."""
    found: list[VOCTable] = []
    iou_thr: float | None = None
    index = 0
    while index < len(lines):
        iou_match = re.search(r"iou_thr:\s*([\d.]+)", lines[index])
        if iou_match:
            iou_thr = _number(iou_match.group(1))
        cells = _cells(lines[index])
        if cells and [c.lower() for c in cells[:5]] == ["class", "gts", "dets", "recall", "ap"]:
            table, index = _read_voc(lines, index)
            table.iou_thr = iou_thr
            found.append(table)
            iou_thr = None
            continue
        index += 1
    return found


def _read_voc(lines: Sequence[str], start: int) -> tuple[VOCTable, int]:
    table = VOCTable(start)
    index = start + 1
    while index < len(lines):
        text = lines[index].strip().lstrip("#").strip()
        cells = _cells(lines[index])
        if cells is None and not text.startswith("+"):
            break
        index += 1
        if not cells or len(cells) < 5:
            continue
        if cells[0] == "mAP":
            table.mean_ap = _number(cells[4])
            continue
        numbers = [_number(c) for c in cells[1:5]]
        if any(n is None for n in numbers):
            continue
        gts, dets, recall, ap = (float(n) for n in numbers if n is not None)
        table.classes.append(
            {"name": cells[0], "gts": int(gts), "dets": int(dets), "recall": recall, "ap": ap}
        )
    return table, index


def find_class_tables(lines: Sequence[str]) -> list[ClassTable]:
    """Every table whose header starts with ``category``: ``| category | AP | category | AP |``
    (several pairs per row) or ``| category | mAP | mAP_50 | ... |`` (one category per row)."""
    found: list[ClassTable] = []
    index = 0
    while index < len(lines):
        cells = _cells(lines[index])
        if cells and cells[0].lower() == "category" and len(cells) >= 2:
            table, index = _read_class_table(lines, index, cells)
            found.append(table)
            continue
        index += 1
    return found


def _read_class_table(
    lines: Sequence[str], start: int, header: list[str]
) -> tuple[ClassTable, int]:
    table = ClassTable(start)
    paired = len(header) % 2 == 0 and all(c.lower() == "category" for c in header[::2])
    index = start + 1
    while index < len(lines):
        text = lines[index].strip().lstrip("#").strip()
        cells = _cells(lines[index])
        if cells is None and not text.startswith("+"):
            break
        index += 1
        if not cells or set("".join(cells)) <= set(":-"):
            continue
        if paired:
            _add_pairs(table, header, cells)
        else:
            _add_row(table, header, cells)
    return table, index


def _add_pairs(table: ClassTable, header: list[str], cells: list[str]) -> None:
    for offset in range(0, min(len(cells), len(header)) - 1, 2):
        name, value = cells[offset], _number(cells[offset + 1])
        if name and value is not None:
            table.values[name] = {header[offset + 1]: value}


def _add_row(table: ClassTable, header: list[str], cells: list[str]) -> None:
    values = {h: _number(c) for h, c in zip(header[1:], cells[1:], strict=False)}
    kept = {h: v for h, v in values.items() if v is not None}
    if cells and cells[0] and kept:
        table.values[cells[0]] = kept
