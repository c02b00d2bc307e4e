"""Analysis sections: the datasets the runs used (statistics, split distribution, image sizes),
per-class AP set against class attributes, and the TIDE error breakdown, when stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from detlab.analysis.per_class import (
    ClassRow,
    ExcludedClass,
    PerClassAnalysis,
    analyze_class_rows,
)
from detlab.core.runs import DatasetSnapshot
from detlab.report.collect import ProjectData, RunData
from detlab.report.document import Block, Heading, Paragraph, Table, text
from detlab.report.formatting import DASH, anchor_for, format_number
from detlab.report.messages import Messages
from detlab.report.run_figures import figure_or_note

__all__ = ["analysis_blocks", "per_class_analysis"]

_IMAGE_SIZES = 10


def analysis_blocks(data: ProjectData, t: Messages, *, plots: bool) -> list[Block]:
    blocks: list[Block] = []
    for snapshot in _snapshots(data.runs):
        blocks.extend(_dataset_blocks(snapshot, t))
    best = _best_run(data)
    if best is not None:
        analysis = per_class_analysis(best)
        if analysis is not None:
            blocks.extend(_per_class_blocks(best, analysis, t, plots=plots))
    for run in data.runs:
        breakdown = run.evaluations.get("error_breakdown")
        if breakdown is not None:
            blocks.extend(_error_blocks(run, breakdown.data, t))
    if blocks:
        blocks.insert(0, Heading(2, text(t("analysis")), "analysis"))
    return blocks


def _snapshots(runs: Sequence[RunData]) -> list[DatasetSnapshot]:
    seen: dict[str, DatasetSnapshot] = {}
    for run in runs:
        for snapshot in run.datasets:
            seen.setdefault(snapshot.fingerprint, snapshot)
    return list(seen.values())


def _dataset_blocks(snapshot: DatasetSnapshot, t: Messages) -> list[Block]:
    stats = snapshot.stats
    if "distribution" in stats:
        return _split_blocks(snapshot, t)
    if "per_class" not in stats:
        return []
    blocks: list[Block] = [
        Heading(3, text(t.format("dataset", name=snapshot.name)), anchor_for(snapshot.name)),
        Paragraph(
            text(
                t.format(
                    "dataset_overview",
                    images=stats.get("num_images", DASH),
                    boxes=stats.get("num_boxes", DASH),
                    classes=len(stats["per_class"]),
                    empty=stats.get("empty_images", DASH),
                )
            )
        ),
    ]
    header = (
        t("col_class"),
        t("col_count"),
        t("col_share"),
        t("col_area_median"),
        t("col_aspect_median"),
    )
    rows = tuple(
        (
            text(str(c["name"])),
            text(str(c["count"])),
            text(_pct(c.get("share"))),
            text(format_number(c.get("area_median"))),
            text(format_number(c.get("aspect_ratio_median"), 3)),
        )
        for c in stats["per_class"]
    )
    blocks.append(Table(header, rows, ("left", "right", "right", "right", "right")))
    sizes = stats.get("image_sizes") or []
    if sizes:
        total = sum(int(s["count"]) for s in sizes) or 1
        size_rows = tuple(
            (
                text(str(s["width"])),
                text(str(s["height"])),
                text(str(s["count"])),
                text(_pct(int(s["count"]) / total)),
            )
            for s in sizes[:_IMAGE_SIZES]
        )
        header2 = (t("col_width"), t("col_height"), t("col_images"), t("col_share"))
        blocks.append(Table(header2, size_rows, ("right",) * 4, caption=t("image_sizes")))
    return blocks


def _split_blocks(snapshot: DatasetSnapshot, t: Messages) -> list[Block]:
    stats = snapshot.stats
    dist = stats["distribution"]
    columns = list(dist["columns"])
    title = t.format("split_distribution", name=snapshot.name, strategy=stats.get("strategy"))
    header = (t("col_class"), *columns, *(f"{c} %" for c in columns))
    rows = [
        (
            text(str(c["name"])),
            *(text(str(c["count"][col])) for col in columns),
            *(text(f"{float(c['share_pct'][col]):.2f}") for col in columns),
        )
        for c in dist["classes"]
    ]
    rows.append(
        (
            text("images"),
            *(text(str(dist["images"][c])) for c in columns),
            *(text("") for _ in columns),
        )
    )
    return [
        Heading(3, text(title), anchor_for(f"split-{snapshot.name}")),
        Table(header, tuple(rows), ("left", *("right",) * (len(header) - 1))),
        Paragraph(text(t.format("split_deviation", pp=f"{float(dist['max_deviation_pp']):.2f}"))),
    ]


def _pct(value: Any) -> str:
    return DASH if value is None else f"{100 * float(value):.1f}%"


def _best_run(data: ProjectData) -> RunData | None:
    metric = data.metric
    if metric is None:
        return None
    ranked = [r for r in data.runs if r.best.get(metric) is not None]
    if not ranked:
        return None
    return max(ranked, key=lambda r: r.best[metric].value)  # type: ignore[union-attr]


def per_class_analysis(run: RunData) -> PerClassAnalysis | None:
    """A stored analysis, or one made from the run's COCO evaluation and the per-class
    attributes of a dataset snapshot linked to it (the val set's when there is one)."""
    stored = run.evaluations.get("per_class_analysis")
    if stored is not None:
        return PerClassAnalysis.from_dict(stored.data)
    coco = run.evaluations.get("coco")
    snapshots = [
        s for s in run.datasets if "per_class" in s.stats and "distribution" not in s.stats
    ]
    if coco is None or not snapshots:
        return None
    snapshot = next((s for s in snapshots if s.role == "val"), snapshots[0])
    attributes = {int(c["id"]): c for c in snapshot.stats["per_class"]}
    return analyze_class_rows(*_rows(coco.data.get("per_class") or [], attributes))


def _rows(
    per_class: Sequence[Mapping[str, Any]], attributes: Mapping[int, Mapping[str, Any]]
) -> tuple[list[ClassRow], list[ExcludedClass]]:
    rows, excluded = [], []
    for c in per_class:
        cid = int(c["category_id"])
        if float(c["ap"]) < 0:
            excluded.append(ExcludedClass(cid, str(c["name"]), "no ground truth"))
            continue
        attr = attributes.get(cid, {})
        rows.append(
            ClassRow(
                cid,
                str(c["name"]),
                float(c["ap"]),
                float(c["ap50"]),
                int(c["num_gt"]),
                attr.get("area_median"),
                attr.get("aspect_ratio_median"),
            )
        )
    return rows, excluded


def _per_class_blocks(
    run: RunData, analysis: PerClassAnalysis, t: Messages, *, plots: bool
) -> list[Block]:
    header = (
        t("col_class"),
        "AP",
        "AP50",
        t("col_num_gt"),
        t("col_area_median"),
        t("col_aspect_median"),
    )
    rows = tuple(
        (
            text(r.name),
            text(f"{r.ap:.3f}"),
            text(DASH if r.ap50 is None else f"{r.ap50:.3f}"),
            text(str(r.num_gt)),
            text(format_number(r.area_median)),
            text(format_number(r.aspect_ratio_median, 3)),
        )
        for r in analysis.rows
    )
    title = t.format("per_class_attributes", run=run.name)
    blocks: list[Block] = [
        Heading(3, text(title), anchor_for(f"per-class-{run.name}")),
        Table(header, rows, ("left", *("right",) * 5)),
    ]
    if analysis.correlations is None:
        blocks.append(Paragraph(text(analysis.note), role="note"))
    else:
        blocks += [Paragraph(text(c.sentence)) for c in analysis.correlations if c.metric == "ap"]
    if analysis.correlations is not None:

        def make() -> bytes:
            from detlab.analysis.plots_per_class import plot_per_class  # noqa: PLC0415
            from detlab.report.plots import figure_png  # noqa: PLC0415

            return figure_png(plot_per_class(analysis))

        name = f"per-class-{run.number:02d}"
        blocks.append(figure_or_note(name, title, make, t, plots=plots))
    return blocks


def _error_blocks(run: RunData, data: Mapping[str, Any], t: Messages) -> list[Block]:
    title = t.format("error_breakdown", run=run.name)
    header = (t("col_error"), t("col_dap"), t("col_errors"))
    counts = data.get("counts", {})
    rows = [
        (text(kind), text(_points(value)), text(str(counts.get(kind, DASH))))
        for kind, value in data.get("delta_ap", {}).items()
    ]
    rows += [
        (text(kind), text(_points(value)), text(""))
        for kind, value in data.get("special_delta_ap", {}).items()
    ]
    ap = data.get("ap")
    caption = f"AP@{data.get('fg_iou', 0.5)}: {_points(ap)}"
    return [
        Heading(3, text(title), anchor_for(f"errors-{run.name}")),
        Table(header, tuple(rows), ("left", "right", "right"), caption=caption),
    ]


def _points(value: Any) -> str:
    return DASH if value is None else f"{100 * float(value):.2f}"
