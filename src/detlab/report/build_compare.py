"""``--compare A B ...``: chosen runs side by side (parameters that differ, best values with
points against the first run, the primary metric's curves overlaid)."""

from __future__ import annotations

from collections.abc import Sequence

from detlab.core.runs import MISSING, percentage_points
from detlab.errors import NotFoundError
from detlab.report.collect import ProjectData, RunData
from detlab.report.document import Block, Heading, Table, Text, code, text
from detlab.report.formatting import DASH, format_metric, format_points, format_value
from detlab.report.messages import Messages
from detlab.report.plots import overlay_png
from detlab.report.run_figures import figure_or_note

__all__ = ["comparison_blocks"]


def comparison_blocks(
    data: ProjectData, names: Sequence[str], t: Messages, *, plots: bool
) -> list[Block]:
    by_name = {r.name: r for r in data.runs}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise NotFoundError(
            f"--compare: run(s) {missing} are not in the report; shown: {sorted(by_name)}"
        )
    runs = [by_name[n] for n in dict.fromkeys(names)]
    blocks: list[Block] = [Heading(2, text(t("comparison")), "comparison")]
    blocks.append(_params_table(runs, t))
    blocks.append(_metrics_table(runs, data.tracked, t))
    metric = data.metric
    series = [(r.name, r.latest[metric]) for r in runs if metric and metric in r.latest]
    if metric and series:
        caption = t.format("overlay", metric=metric)

        def make() -> bytes:
            return overlay_png(series, metric=metric, step_label="epoch")

        blocks.append(figure_or_note("compare-overlay", caption, make, t, plots=plots))
    return blocks


def _header(runs: Sequence[RunData], first: str) -> tuple[str, ...]:
    return (first, *(r.name for r in runs))


def _params_table(runs: Sequence[RunData], t: Messages) -> Table:
    keys = sorted({k for r in runs for k in r.record.params})
    rows = []
    for key in keys:
        values = [format_value(r.record.params.get(key, MISSING)) for r in runs]
        if len(set(values)) > 1:
            rows.append((text(code(key)), *(text(v) for v in values)))
    return Table(_header(runs, t("col_parameter")), tuple(rows), caption=t("compare_params"))


def _metrics_table(runs: Sequence[RunData], tracked: Sequence[str], t: Messages) -> Table:
    rows: list[tuple[Text, ...]] = []
    first = runs[0]
    for key in tracked:
        cells = [text(code(key))]
        base = first.best.get(key)
        for run in runs:
            best = run.best.get(key)
            if best is None:
                cells.append(text(DASH))
                continue
            cell = f"{format_metric(key, best.value)} @ {best.step}"
            if run is not first and base is not None:
                cell += f" ({format_points(percentage_points(best.value, base.value))})"
            cells.append(text(cell))
        rows.append(tuple(cells))
    caption = f"{t('compare_metrics')} {t.format('delta_vs_first', run=first.name)}"
    return Table(_header(runs, t("col_metric")), tuple(rows), caption=caption)
