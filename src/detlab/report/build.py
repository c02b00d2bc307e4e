"""The report's content: project summary table, one section per run, analysis, comparison.

:func:`build_document` turns :class:`~detlab.report.collect.ProjectData` into a
:class:`~detlab.report.document.Document`; the renderers only lay it out. Every missing piece
(no metrics, a deleted parent, an unknown baseline, NaN epochs) becomes a dash or a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from detlab._version import __version__
from detlab.core.runs import MISSING
from detlab.report.build_analysis import analysis_blocks
from detlab.report.build_compare import comparison_blocks
from detlab.report.collect import ProjectData, RunData, metric_mode
from detlab.report.document import (
    Block,
    BulletList,
    CodeBlock,
    Details,
    Document,
    Heading,
    Paragraph,
    Table,
    Text,
    code,
    text,
)
from detlab.report.evaluations import coco_blocks, coco_columns, voc_blocks
from detlab.report.formatting import (
    DASH,
    anchor_for,
    format_date,
    format_duration,
    format_metric,
    format_number,
    format_points,
    format_value,
)
from detlab.report.framework_tables import framework_blocks
from detlab.report.messages import Messages
from detlab.report.run_figures import run_curves

__all__ = ["ReportOptions", "build_document", "differing_params"]

#: Differing parameters shown in the summary table when ``columns`` is not given.
MAX_AUTO_COLUMNS = 8
#: Longest purpose / conclusion text in a summary cell before it is cut.
_CELL_TEXT = 80


@dataclass(frozen=True)
class ReportOptions:
    lang: str = "en"
    columns: Sequence[str] | None = None
    compare: Sequence[str] = ()
    plots: bool = True
    #: Runs whose curves are drawn, the best by the primary metric first (compared runs
    #: always); ``None``: every run. A figure costs about 0.2 s, so a 200-run report keeps
    #: to the ones a reader looks at.
    max_run_figures: int | None = 20
    #: A fixed "written on" time (golden files); ``None``: now.
    now: datetime | None = None


def build_document(data: ProjectData, options: ReportOptions) -> Document:
    t = Messages(options.lang)
    doc = Document(title=t.format("title", project=data.project), lang=options.lang)
    now = options.now or datetime.now(timezone.utc)
    doc.add(
        Heading(1, text(doc.title), anchor_for(data.project)),
        Paragraph(
            text(
                t.format(
                    "generated", version=__version__, store=data.store_url, time=format_date(now)
                )
            ),
            role="muted",
        ),
    )
    if not data.runs:
        doc.add(Paragraph(text(t("nothing")), role="note"))
        return doc
    doc.add(Heading(2, text(t("summary")), "summary"), summary_table(data, t, options.columns))
    if options.compare:
        doc.extend(comparison_blocks(data, options.compare, t, plots=options.plots))
    doc.add(Heading(2, text(t("runs")), "runs"))
    drawn = _runs_to_draw(data, options)
    skipped = t.format("figure_limit", n=options.max_run_figures, total=len(data.runs))
    for run in data.runs:
        left_out = options.plots and run.name not in drawn
        doc.extend(
            run_blocks(run, data, t, plots=options.plots, left_out=skipped if left_out else "")
        )
    doc.extend(analysis_blocks(data, t, plots=options.plots))
    return doc


def _runs_to_draw(data: ProjectData, options: ReportOptions) -> set[str]:
    limit = options.max_run_figures
    if limit is None or len(data.runs) <= limit:
        return {r.name for r in data.runs}
    metric = data.metric or ""
    ranked = sorted(data.runs, key=lambda r: -(b.value if (b := r.best.get(metric)) else -1e300))
    return {r.name for r in ranked[:limit]} | set(options.compare)


# --------------------------------------------------------------------------- summary


def differing_params(runs: Sequence[RunData]) -> list[str]:
    """Parameter keys whose value is not the same in every run shown (unset counts)."""
    keys = sorted({k for r in runs for k in r.record.params})
    out = []
    for key in keys:
        values = {format_value(r.record.params.get(key, MISSING)) for r in runs}
        if len(values) > 1:
            out.append(key)
    return out


def summary_table(data: ProjectData, t: Messages, columns: Sequence[str] | None) -> Table:
    runs = data.runs
    params = list(columns) if columns is not None else differing_params(runs)[:MAX_AUTO_COLUMNS]
    labels = sorted({label for r in runs for label in r.record.baselines})
    coco = coco_columns(runs)
    has_voc = any("voc" in r.evaluations for r in runs)
    has_score = any(r.submissions for r in runs)
    fps_key = _fps_key(runs)
    metric = data.metric
    header: list[str] = [
        t("col_id"),
        t("col_date"),
        t("col_name"),
        t("col_status"),
        t("col_epochs"),
        t("col_final_loss"),
    ]
    if metric:
        header.append(t.format("col_best", metric=metric))
    header += [name for name, _ in coco]
    if has_voc:
        header.append("VOC mAP")
    header += [t.format("col_vs", label=label) for label in labels]
    if has_score:
        header.append(t("col_score"))
    if fps_key:
        header.append(t("col_fps"))
    header += params
    header += [t("col_purpose"), t("col_conclusion")]
    rows = []
    for run in runs:
        cells: list[Text] = [
            text(f"{run.number:02d}"),
            text(format_date(run.record.created)),
            text(code(run.name)),
            text(run.record.status),
            text(format_number(run.last_step())),
            text(format_number(run.final_value(_loss_key(run)))),
        ]
        if metric:
            cells.append(text(_best_cell(run, metric)))
        cells += [text(getter(run)) for _, getter in coco]
        if has_voc:
            cells.append(text(_voc_map(run)))
        cells += [text(_delta_cell(run, metric, label)) for label in labels]
        if has_score:
            cells.append(
                text(format_number(run.submissions[-1].score) if run.submissions else DASH)
            )
        if fps_key:
            best = run.best.get(fps_key)
            cells.append(text(format_number(best.value if best else None, 3)))
        cells += [text(_param_cell(run, key)) for key in params]
        cells += [text(_cut(run.record.purpose)), text(_cut(run.record.conclusion))]
        rows.append(tuple(cells))
    numeric = {t("col_id"), t("col_epochs"), t("col_final_loss")}
    align = tuple("right" if h in numeric else "left" for h in header)
    return Table(tuple(header), tuple(rows), align)


def _loss_key(run: RunData) -> str:
    if "train/loss" in run.latest:
        return "train/loss"
    losses = sorted(k for k in run.latest if k.endswith("loss"))
    return losses[0] if losses else "train/loss"


def _fps_key(runs: Sequence[RunData]) -> str | None:
    keys = sorted({k for r in runs for k in r.latest if "fps" in k.lower()})
    return keys[0] if keys else None


def _best_cell(run: RunData, metric: str) -> str:
    best = run.best.get(metric)
    if best is None:
        return DASH
    return f"{format_metric(metric, best.value)}/{best.step}"


def _delta_cell(run: RunData, metric: str | None, label: str) -> str:
    delta = run.deltas.get(metric or "", {}).get(label)
    return DASH if delta is None else format_points(delta.points)


def _voc_map(run: RunData) -> str:
    voc = run.evaluations.get("voc")
    return DASH if voc is None else format_metric("mAP", float(voc.data["map"]))


def _param_cell(run: RunData, key: str) -> str:
    value = run.record.params.get(key, MISSING)
    return DASH if value is MISSING else format_value(value)


def _cut(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        return DASH
    return value if len(value) <= _CELL_TEXT else value[: _CELL_TEXT - 1] + "…"


# --------------------------------------------------------------------------- one run


def run_blocks(
    run: RunData, data: ProjectData, t: Messages, *, plots: bool, left_out: str = ""
) -> list[Block]:
    """A run's section; ``left_out`` is the note standing in for its curves when they are
    not drawn (the figure limit)."""
    record = run.record
    blocks: list[Block] = [
        Heading(3, text(f"{run.number:02d} ", code(run.name)), anchor_for(run.name), record.tags),
        _facts(run, data, t),
    ]
    if not run.latest:
        blocks.append(Paragraph(text(t("no_metrics")), role="note"))
    blocks.extend(_text_sections(run, t))
    blocks.extend(_parameter_blocks(run, data, t))
    if run.restarts:
        blocks.append(restart_table(run, t))
    blocks.extend(_provenance(run, t))
    for builder in (coco_blocks, voc_blocks, framework_blocks):
        blocks.extend(builder(run, t))
    if run.submissions:
        blocks.append(_submissions(run, t))
    if run.latest:
        blocks.append(run_curves(run, data, t, plots=plots, left_out=left_out))
    return blocks


def _facts(run: RunData, data: ProjectData, t: Messages) -> BulletList:
    record = run.record
    items: list[tuple[str, Text, tuple[Text, ...]]] = [
        (t("date"), text(format_date(record.created)), ()),
        (t("status"), text(record.status), ()),
        (t("duration"), text(format_duration(record.duration_s)), ()),
    ]
    if record.parent:
        parent = (
            text(code(record.parent))
            if run.parent_found
            else text(t.format("parent_missing", parent=record.parent))
        )
        items.append((t("parent"), parent, ()))
    if record.baselines:
        items.append((t("baselines"), _baselines(run, data, t), ()))
    results = _results(run, data, t)
    if results:
        items.append((t("results"), text(), tuple(results)))
    return BulletList(tuple(items))


def _baselines(run: RunData, data: ProjectData, t: Messages) -> Text:
    parts: list[Any] = []
    for i, (label, name) in enumerate(run.record.baselines.items()):
        if i:
            parts.append(", ")
        if name in data.known_names:
            parts += [f"[{label}] ", code(name)]
        else:
            parts.append(t.format("baseline_missing", label=label, baseline=name))
    return text(*parts)


def _results(run: RunData, data: ProjectData, t: Messages) -> list[Text]:
    lines: list[Text] = []
    for key in data.tracked:
        if key not in run.latest:
            continue
        best = run.best.get(key)
        if best is None:
            lines.append(text(t.format("no_finite", metric=key)))
            continue
        phrase = "min_at" if metric_mode(key) == "min" else "best_at"
        line = t.format(phrase, metric=key, value=format_metric(key, best.value), step=best.step)
        deltas = [
            f"{format_points(d.points)} [{label}]"
            for label, d in run.deltas.get(key, {}).items()
            if d.points is not None
        ]
        lines.append(text(", ".join([line, *deltas])))
        bad = run.non_finite_steps(key)
        if bad:
            shown = ", ".join(str(s) for s in bad[:8]) + (", …" if len(bad) > 8 else "")
            lines.append(text(t.format("nan_note", metric=key, count=len(bad), steps=shown)))
    if run.record.early_stop_step is not None:
        lines.append(text(t.format("early_stop", step=run.record.early_stop_step)))
    return lines


def _text_sections(run: RunData, t: Messages) -> list[Block]:
    record = run.record
    fields: list[tuple[str, str]] = [
        ("purpose", record.purpose),
        ("method", record.method),
        ("change_kind", record.change_kind),
        ("conclusion", record.conclusion),
        ("suggestions", record.suggestions),
        ("notes", record.notes),
    ]
    items: list[tuple[str, Text, tuple[Text, ...]]] = [
        (t(key), text(value.strip()), ()) for key, value in fields if value.strip()
    ]
    if record.references:
        refs = tuple(text(r) for r in record.references)
        items.append((t("references"), text(), refs))
    return [BulletList(tuple(items))] if items else []


def _parameter_blocks(run: RunData, data: ProjectData, t: Messages) -> list[Block]:
    record = run.record
    blocks: list[Block] = []
    if record.parent and run.parent_found:
        changes = run.parent_changes
        body = "\n".join(f"{k} = {format_value(b)}" for k, (_, b) in changes.items())
        blocks.append(
            CodeBlock(
                body or t("no_changes"),
                "python",
                t.format("significant_changes", parent=record.parent),
            )
        )
    if record.params:
        lines = "\n".join(f"{k} = {format_value(v)}" for k, v in sorted(record.params.items()))
        blocks.append(Details(t("parameters"), (CodeBlock(lines, "python"),)))
    return blocks


def restart_table(run: RunData, t: Messages) -> Table:
    header = (
        t("col_epoch"),
        t("col_loaded_epoch"),
        t("col_seed"),
        t("col_reason"),
        t("col_detail"),
    )
    seed = run.record.params.get("seed")
    rows = [
        (
            text("0"),
            text("-1"),
            text(DASH if seed is None else str(seed)),
            text(t("normal_start")),
            text(""),
        )
    ]
    rows += [
        (
            text(_opt(r.epoch)),
            text(_opt(r.loaded_epoch)),
            text(_opt(r.seed)),
            text(r.reason),
            text(" ".join(r.detail.split())[:120]),
        )
        for r in run.restarts
    ]
    return Table(header, tuple(rows), ("center",) * 5, caption=t("restarts"))


def _opt(value: int | None) -> str:
    return DASH if value is None else str(value)


def _provenance(run: RunData, t: Messages) -> list[Block]:
    record = run.record
    blocks: list[Block] = []
    if record.command:
        blocks.append(CodeBlock(record.command, "bash", t("command")))
    if record.git_commit:
        dirty = f" ({t('dirty')})" if record.git_dirty else ""
        blocks.append(Paragraph(text(f"{t('git_commit')}: ", code(record.git_commit), dirty)))
    return blocks


def _submissions(run: RunData, t: Messages) -> Table:
    header = (t("col_board"), t("col_score_value"), t("col_time"))
    rows = tuple(
        (text(s.board), text(format_number(s.score)), text(format_date(s.time)))
        for s in run.submissions
    )
    return Table(header, rows, ("left", "right", "left"), caption=t("submissions"))
