"""Stored evaluations in the report: COCO's twelve lines and per-class table, VOC's table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from detlab.metrics.result import stored_summary
from detlab.report.collect import RunData
from detlab.report.document import Block, CodeBlock, Table, text
from detlab.report.formatting import DASH, format_metric
from detlab.report.messages import Messages

__all__ = ["coco_blocks", "coco_columns", "voc_blocks"]

#: Summary-table columns from a COCO evaluation: header and stat name.
_COCO_COLUMNS = (
    ("AP", "AP"),
    ("AP50", "AP50"),
    ("AP75", "AP75"),
    ("APs", "APs"),
    ("APm", "APm"),
    ("APl", "APl"),
)
_PER_CLASS = (
    ("AP", "ap"),
    ("AP50", "ap50"),
    ("AP75", "ap75"),
    ("APs", "ap_small"),
    ("APm", "ap_medium"),
    ("APl", "ap_large"),
    ("AR100", "ar100"),
)


def coco_columns(runs: Sequence[RunData]) -> list[tuple[str, Callable[[RunData], str]]]:
    """The COCO columns of the summary table, when any run shown has a COCO evaluation."""
    if not any("coco" in r.evaluations for r in runs):
        return []
    return [(header, _stat_getter(name)) for header, name in _COCO_COLUMNS]


def _stat_getter(name: str) -> Callable[[RunData], str]:
    def get(run: RunData) -> str:
        evaluation = run.evaluations.get("coco")
        if evaluation is None:
            return DASH
        value = stored_summary(evaluation.data)[0].get(name)
        return DASH if value is None or value < 0 else f"{value:.3f}"

    return get


def coco_blocks(run: RunData, t: Messages) -> list[Block]:
    evaluation = run.evaluations.get("coco")
    if evaluation is None:
        return []
    _, lines = stored_summary(evaluation.data)
    step = DASH if evaluation.step is None else evaluation.step
    blocks: list[Block] = [CodeBlock("\n".join(lines), "text", t.format("coco_summary", step=step))]
    per_class = evaluation.data.get("per_class") or []
    if per_class:
        blocks.append(_coco_per_class(per_class, t))
    return blocks


def _coco_per_class(per_class: Sequence[dict[str, Any]], t: Messages) -> Table:
    header = (t("col_class"), *(h for h, _ in _PER_CLASS), t("col_num_gt"), t("col_num_dt"))
    rows = []
    for c in per_class:
        values = [_ap(c.get(key)) for _, key in _PER_CLASS]
        rows.append(
            (
                text(str(c["name"])),
                *(text(v) for v in values),
                text(str(c.get("num_gt", DASH))),
                text(str(c.get("num_detections", DASH))),
            )
        )
    align = ("left", *("right",) * (len(header) - 1))
    return Table(header, tuple(rows), align, caption=t("per_class_ap"))


def _ap(value: Any) -> str:
    if value is None or float(value) < 0:
        return DASH
    return f"{float(value):.3f}"


def voc_blocks(run: RunData, t: Messages) -> list[Block]:
    evaluation = run.evaluations.get("voc")
    if evaluation is None:
        return []
    data = evaluation.data
    step = DASH if evaluation.step is None else evaluation.step
    caption = t.format("voc_summary", step=step, map=format_metric("mAP", float(data["map"])))
    header = (t("col_class"), "AP", t("col_num_gt"))
    curves = data.get("curves", {})
    rows = tuple(
        (
            text(name),
            text(format_metric("AP", float(ap))),
            text(str(curves.get(name, {}).get("num_gt", DASH))),
        )
        for name, ap in data["ap"].items()
    )
    return [Table(header, rows, ("left", "right", "right"), caption=caption)]
