"""Evaluations a framework computed itself, in the report as the framework printed them.

Importers keep mmdetection's VOC table and ``classwise`` table, detectron2's per-category
table and a pasted pycocotools summary; the Ultralytics integration keeps the validator's
per-class results. They are stored under the protocols ``per_class_table`` and
``coco_summary`` (not ``coco``: there are no precision arrays behind them) and shown here with
the numbers unchanged: fractions stay fractions, detectron2's percentages stay percentages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from detlab.core.runs import EvaluationRecord
from detlab.metrics.params import COCOParams
from detlab.metrics.summary import format_row, stat_names, summary_rows
from detlab.report.document import Block, CodeBlock, Table, text
from detlab.report.formatting import DASH
from detlab.report.messages import Messages

if TYPE_CHECKING:
    from detlab.report.collect import RunData

__all__ = ["framework_blocks", "framework_table", "summary_lines"]

#: The stored ``format`` -> the tool that printed the numbers.
_TOOLS = {
    "mmdet_voc_table": "mmdetection",
    "mmdet_coco_classwise": "mmdetection",
    "detectron2_per_category": "detectron2",
    "pycocotools_summary": "pycocotools",
}
#: Row keys of ``detlab.per_class_table_result`` in the order shown, with their headers.
_RESULT_COLUMNS = (
    ("ap", "AP"),
    ("ap50", "AP50"),
    ("ap75", "AP75"),
    ("precision", "P"),
    ("recall", "R"),
    ("num_gt", "#GT"),
    ("num_images", "#images"),
)
_NOT_COLUMNS = frozenset({"name", "category_id"})
_FOLDERS = re.compile(r"^\S*[/\\]")


def framework_blocks(run: RunData, t: Messages) -> list[Block]:
    """A pasted or imported COCO summary (when detlab did not evaluate the run itself) and a
    framework's per-class table."""
    blocks: list[Block] = []
    summary = run.evaluations.get("coco_summary")
    if summary is not None and "coco" not in run.evaluations:
        lines = summary_lines(summary.data.get("stats"))
        if lines:
            caption = t.format("framework_summary", tool=_tool(summary.data), where=_where(summary))
            blocks.append(CodeBlock("\n".join(lines), "text", caption))
    table = run.evaluations.get("per_class_table")
    if table is not None:
        built = framework_table(table, t)
        if built is not None:
            blocks.append(built)
    return blocks


def framework_table(evaluation: EvaluationRecord, t: Messages) -> Table | None:
    """The stored per-class table as a report table, or ``None`` for a format not known here."""
    data = evaluation.data
    form = data.get("format")
    if form == "mmdet_voc_table":
        header, rows = _voc_rows(data.get("classes"), t)
        extra = _voc_extra(data)
    elif form in ("mmdet_coco_classwise", "detectron2_per_category"):
        header, rows = _named_columns(data.get("classes"), t)
        extra = f"{data['task']}" if data.get("task") else ""
    elif form == "detlab.per_class_table_result":
        header, rows = _result_rows(data.get("per_class"), t)
        extra = _result_extra(data)
    else:
        return None
    if not rows:
        return None
    caption = t.format("framework_per_class", tool=_tool(data), where=_where(evaluation))
    if extra:
        caption = f"{caption}; {extra}"
    align = ("left", *("right",) * (len(header) - 1))
    return Table(header, tuple(rows), align, caption=caption)


def _tool(data: Mapping[str, Any]) -> str:
    form = str(data.get("format", ""))
    if form in _TOOLS:
        return _TOOLS[form]
    return str(data.get("source") or form or "?")


def _where(evaluation: EvaluationRecord) -> str:
    step = DASH if evaluation.step is None else str(evaluation.step)
    source = evaluation.data.get("source")
    if evaluation.data.get("format") == "detlab.per_class_table_result":
        source = evaluation.data.get("note")  # its source is the tool itself
    if isinstance(source, str):
        source = _FOLDERS.sub("", source)  # "/abs/path/run.log line 8" -> "run.log line 8"
    return f"epoch {step}" + (f", {source}" if source else "")


def summary_lines(stats: Any) -> list[str]:
    """The twelve pycocotools lines from named stats (``AP`` ... ``ARl``) or a list of 12
    (fewer when some are missing; none for anything else)."""
    params = COCOParams.build()
    names = stat_names(params)
    if isinstance(stats, Mapping):
        values = [stats.get(name) for name in names]
    elif isinstance(stats, Sequence) and len(stats) == len(names):
        values = list(stats)
    else:
        return []
    return [
        format_row(params, row, float(value))
        for row, value in zip(summary_rows(params), values, strict=True)
        if isinstance(value, int | float)
    ]


def _cell(value: Any) -> str:
    """Integers as they are, other numbers with three decimals, NaN and -1 as a dash."""
    if isinstance(value, bool) or value is None:
        return DASH
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value) or value == -1.0:
            return DASH
        return f"{value:.3f}"
    return str(value)


def _voc_rows(classes: Any, t: Messages) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    header = (t("col_class"), t("col_num_gt"), t("col_num_dt"), "recall", "AP")
    rows = [
        (
            text(str(row.get("name", DASH))),
            *(text(_cell(row.get(key))) for key in ("gts", "dets", "recall", "ap")),
        )
        for row in _dicts(classes)
    ]
    return header, rows


def _voc_extra(data: Mapping[str, Any]) -> str:
    parts = []
    if isinstance(data.get("iou_thr"), int | float):
        parts.append(f"IoU {float(data['iou_thr']):.2f}")
    if isinstance(data.get("mAP"), int | float):
        parts.append(f"mAP {float(data['mAP']):.3f}")
    return ", ".join(parts)


def _named_columns(classes: Any, t: Messages) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """``{class: {column: value}}``: the columns in the order they first appear."""
    if not isinstance(classes, Mapping):
        return (), []
    columns: list[str] = []
    for values in classes.values():
        if isinstance(values, Mapping):
            columns.extend(str(c) for c in values if c not in columns)
    rows = [
        (text(str(name)), *(text(_cell(values.get(c))) for c in columns))
        for name, values in classes.items()
        if isinstance(values, Mapping)
    ]
    return (t("col_class"), *columns), rows


def _result_rows(per_class: Any, t: Messages) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    rows_in = list(_dicts(per_class))
    present = {key for row in rows_in for key in row}
    known = [(key, head) for key, head in _RESULT_COLUMNS if key in present]
    named = {key for key, _ in _RESULT_COLUMNS} | _NOT_COLUMNS
    others = sorted(key for key in present if key not in named)
    keys = [key for key, _ in known] + others
    header = (t("col_class"), *(head for _, head in known), *others)
    rows = [
        (
            text(str(row.get("name", row.get("category_id", DASH)))),
            *(text(_cell(row.get(k))) for k in keys),
        )
        for row in rows_in
    ]
    return header, rows


def _result_extra(data: Mapping[str, Any]) -> str:
    summary = data.get("summary")
    if not isinstance(summary, Mapping):
        return ""
    return ", ".join(
        f"{name} {_cell(float(value))}"
        for name, value in summary.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    )


def _dicts(rows: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(rows, Sequence) and not isinstance(rows, str):
        return [row for row in rows if isinstance(row, Mapping)]
    return []
