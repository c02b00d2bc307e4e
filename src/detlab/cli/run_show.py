"""``detlab runs show``: everything recorded about one run, as tables or as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from detlab.cli.options import ABSENT, format_number, format_time, format_value
from detlab.core.runs import BestValue, EvaluationRecord, Restart, RunRecord
from detlab.errors import NotFoundError
from detlab.metrics.result import COCOResult
from detlab.report import document
from detlab.report.framework_tables import framework_table, summary_lines
from detlab.report.messages import Messages

if TYPE_CHECKING:
    from detlab.store.sql.store import SQLStore

__all__ = [
    "MetricSummary",
    "RunDetails",
    "details_json",
    "duration",
    "load_details",
    "record_json",
    "render",
    "status_text",
]

STATUS_STYLES = {
    "running": "cyan",
    "finished": "green",
    "failed": "red",
    "crashed": "red",
    "early_stopped": "yellow",
}
#: Run fields shown as paragraphs when they are not empty.
TEXT_FIELDS = ("purpose", "method", "change_kind", "conclusion", "suggestions", "notes", "error")


@dataclass(frozen=True)
class MetricSummary:
    """One metric of a run: its last point, its best point and how many steps it has."""

    key: str
    last_value: float
    last_step: int
    best: BestValue | None
    steps: int

    def to_json(self) -> dict[str, Any]:
        best = None if self.best is None else {"value": self.best.value, "step": self.best.step}
        last = {"value": self.last_value, "step": self.last_step}
        return {"key": self.key, "last": last, "best": best, "steps": self.steps}


@dataclass(frozen=True)
class RunDetails:
    record: RunRecord
    metrics: list[MetricSummary]
    mode: str
    restarts: list[Restart]
    evaluations: list[EvaluationRecord]
    children: dict[str, list[Any]]


def load_details(store: SQLStore, project: str, name: str, mode: str) -> RunDetails:
    record = store.run(project, name)
    metrics = [_metric(store, project, name, key, mode) for key in store.metric_keys(project, name)]
    return RunDetails(
        record,
        [m for m in metrics if m is not None],
        mode,
        store.restarts(project, name),
        store.evaluations(project, name),
        store.children(project, name),
    )


def _metric(store: SQLStore, project: str, name: str, key: str, mode: str) -> MetricSummary | None:
    history = store.history(project, name, key)
    if len(history) == 0:
        return None
    try:
        best: BestValue | None = store.best(project, name, key, mode)
    except NotFoundError:  # the run exists: only NaN or infinite values were logged
        best = None
    last_value, last_step = float(history.values[-1]), int(history.steps[-1])
    return MetricSummary(key, last_value, last_step, best, len(history))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ABSENT
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


# ---------------------------------------------------------------------- JSON


def record_json(record: RunRecord) -> dict[str, Any]:
    out = asdict(record)
    out["duration_s"] = record.duration_s
    return out


def _evaluation_json(evaluation: EvaluationRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "step": evaluation.step,
        "protocol": evaluation.protocol,
        "prefix": evaluation.prefix,
        "time": evaluation.time,
        "segment": evaluation.segment,
    }
    data = evaluation.data
    coco = _coco_result(evaluation)
    if coco is not None:
        out["metrics"] = coco.metrics()
        out["summary_lines"] = list(coco.summary_lines())
    elif evaluation.protocol == "voc":
        out["metrics"] = {"mAP": data.get("map"), **{f"AP/{k}": v for k, v in data["ap"].items()}}
    else:
        out["data_keys"] = sorted(data)
    return out


def details_json(details: RunDetails) -> dict[str, Any]:
    return {
        "run": record_json(details.record),
        "mode": details.mode,
        "metrics": [m.to_json() for m in details.metrics],
        "restarts": [asdict(r) for r in details.restarts],
        "evaluations": [_evaluation_json(e) for e in details.evaluations],
        **{kind: [asdict(item) for item in items] for kind, items in details.children.items()},
    }


def _coco_result(evaluation: EvaluationRecord) -> COCOResult | None:
    if evaluation.protocol != "coco":
        return None
    try:
        return COCOResult.from_dict(evaluation.data)
    except (KeyError, TypeError, ValueError):  # written by another version: show the rest
        return None


# ---------------------------------------------------------------------- tables


def render(console: Console, details: RunDetails) -> None:
    record = details.record
    console.print(Text(f"{record.project} / {record.name}", style="bold"))
    console.print(_overview(record))
    for field in TEXT_FIELDS:
        value = getattr(record, field)
        if value:
            console.print(Text(f"{field.replace('_', ' ')}: ", style="bold") + Text(value))
    for part in (
        _params(record),
        _metrics(details),
        _restarts(details.restarts),
        *(_evaluation(e) for e in details.evaluations),
        *_children(details.children),
    ):
        if part is not None:
            console.print()
            console.print(part)


def _overview(record: RunRecord) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    git = ABSENT
    if record.git_commit:
        git = record.git_commit[:12] + (" (dirty)" if record.git_dirty else "")
    rows: list[tuple[str, str | Text]] = [
        ("status", status_text(record.status)),
        ("created", format_time(record.created, seconds=True)),
        ("started", format_time(record.started, seconds=True)),
        ("ended", format_time(record.ended, seconds=True)),
        ("duration", duration(record.duration_s)),
        ("segments", str(record.segment + 1)),
        ("early stop", "" if record.early_stop_step is None else f"step {record.early_stop_step}"),
        ("command", record.command),
        ("cwd", record.cwd),
        ("git", git),
        ("host", record.host),
        ("python", record.python_version),
        ("packages", ", ".join(f"{k} {v}" for k, v in sorted(record.packages.items()))),
        ("tags", ", ".join(record.tags)),
        ("parent", record.parent or ""),
        ("baselines", ", ".join(f"{k}: {v}" for k, v in record.baselines.items())),
        ("references", ", ".join(record.references)),
    ]
    for label, value in rows:
        if value:
            grid.add_row(label, value if isinstance(value, Text) else Text(value))
    return grid


def _params(record: RunRecord) -> Table | None:
    if not record.params:
        return None
    table = Table(title="params", title_justify="left")
    table.add_column("key")
    table.add_column("value", overflow="fold")
    for key in sorted(record.params):
        table.add_row(Text(key), Text(format_value(record.params[key])))
    return table


def _metrics(details: RunDetails) -> Table | None:
    if not details.metrics:
        return None
    table = Table(title="metrics", title_justify="left")
    for header in ("key", "last", "@step", f"best ({details.mode})", "@step", "steps"):
        table.add_column(header, justify="left" if header == "key" else "right")
    for m in details.metrics:
        best = m.best
        table.add_row(
            Text(m.key),
            format_number(m.last_value),
            str(m.last_step),
            format_number(best.value if best else None),
            str(best.step) if best else ABSENT,
            str(m.steps),
        )
    return table


def _restarts(restarts: list[Restart]) -> Table | None:
    if not restarts:
        return None
    table = Table(title="restarts", title_justify="left")
    for header in ("segment", "epoch", "loaded epoch", "seed", "reason", "detail", "time"):
        table.add_column(header, overflow="fold")
    for r in restarts:
        table.add_row(
            str(r.segment),
            *(ABSENT if v is None else str(v) for v in (r.epoch, r.loaded_epoch, r.seed)),
            r.reason,
            Text(r.detail),
            format_time(r.time, seconds=True),
        )
    return table


def _evaluation(evaluation: EvaluationRecord) -> RenderableType:
    step = ABSENT if evaluation.step is None else str(evaluation.step)
    title = Text(
        f"evaluation ({evaluation.protocol}, {evaluation.prefix or 'no prefix'}) at step {step}",
        style="bold",
    )
    coco = _coco_result(evaluation)
    if coco is not None:
        return Group(title, Text(coco.summary()))
    data = evaluation.data
    if evaluation.protocol == "voc" and "map" in data:
        per_class = ", ".join(f"{k} {format_number(v)}" for k, v in data.get("ap", {}).items())
        return Group(title, Text(f"mAP {format_number(data['map'])}; {per_class}"))
    if evaluation.protocol == "coco_summary":
        lines = summary_lines(data.get("stats"))
        if lines:
            return Group(title, Text("\n".join(lines)))
    if evaluation.protocol == "per_class_table":
        table = framework_table(evaluation, Messages("en"))
        if table is not None:
            return Group(title, _rich_table(table))
    return Group(title, Text(f"data keys: {', '.join(sorted(data))}"))


def _rich_table(table: document.Table) -> Table:
    """A report table (a framework's per-class results) for the terminal."""
    out = Table(title=Text(table.caption), title_justify="left")  # Text: no markup
    for index, header in enumerate(table.header):
        align = table.align[index] if index < len(table.align) else "left"
        out.add_column(header, justify="right" if align == "right" else "left")
    for row in table.rows:
        out.add_row(*(Text(cell.plain) for cell in row))
    return out


def _children(children: dict[str, list[Any]]) -> list[Table]:
    tables = []
    columns = {
        "submissions": ("board", "score", "note", "time"),
        "artifacts": ("uri", "kind", "size", "sha256", "time"),
        "datasets": ("name", "role", "fingerprint", "time"),
    }
    for kind, headers in columns.items():
        items = children.get(kind, [])
        if not items:
            continue
        table = Table(title=kind, title_justify="left")
        for header in headers:
            table.add_column(header, overflow="fold")
        for item in items:
            table.add_row(*(_cell(header, getattr(item, header)) for header in headers))
        tables.append(table)
    return tables


def _cell(header: str, value: Any) -> Text:
    if header == "time":
        return Text(format_time(value, seconds=True))
    if header in ("sha256", "fingerprint") and value:
        return Text(str(value)[:12])
    if isinstance(value, float):
        return Text(format_number(value))
    return Text(ABSENT if value is None else str(value))
