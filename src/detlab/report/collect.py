"""What a report needs from the store, read once: runs, their points, best values, deltas,
restarts, the evaluation at each run's best epoch, submissions and dataset snapshots.

Everything after this module works on these plain records, so a report of hundreds of runs
costs a handful of queries, not several per run and metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from detlab.core.runs import (
    BestValue,
    DatasetSnapshot,
    Delta,
    EvaluationRecord,
    MetricHistory,
    Restart,
    RunRecord,
    Submission,
    delta_between,
    diff_params,
)
from detlab.errors import NotFoundError
from detlab.store.sql.store import SQLStore

__all__ = [
    "CANONICAL_METRICS",
    "ProjectData",
    "RunData",
    "collect_project",
    "default_metric",
    "metric_mode",
]

#: Metrics shown in each run's results when logged, after the primary one (issue 8's names).
CANONICAL_METRICS = ("val/AP", "val/AP50", "val/AP75", "val/VOCmAP", "val/mAP")
_MAX_TRACKED = 4


def metric_mode(key: str) -> str:
    """``"min"`` for losses and errors, ``"max"`` for everything else."""
    last = key.rsplit("/", 1)[-1].lower()
    return "min" if "loss" in last or "error" in last or last.endswith("time") else "max"


def default_metric(keys: Sequence[str]) -> str | None:
    """``val/AP50`` when logged, else the first canonical metric, else the first ``val/`` key."""
    present = set(keys)
    for key in ("val/AP50", *CANONICAL_METRICS):
        if key in present:
            return key
    val = sorted(k for k in present if k.startswith("val/"))
    return val[0] if val else (sorted(present)[0] if present else None)


@dataclass
class RunData:
    """One run as the report shows it."""

    number: int
    record: RunRecord
    histories: dict[str, MetricHistory]
    latest: dict[str, MetricHistory]
    best: dict[str, BestValue | None]
    restarts: list[Restart]
    evaluations: dict[str, EvaluationRecord]
    submissions: list[Submission]
    datasets: list[DatasetSnapshot]
    parent_found: bool
    parent_changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    deltas: dict[str, dict[str, Delta]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.record.name

    def last_step(self) -> int | None:
        steps = [int(h.steps.max()) for h in self.latest.values() if len(h)]
        return max(steps) if steps else None

    def final_value(self, key: str) -> float | None:
        history = self.latest.get(key)
        if history is None or not len(history):
            return None
        return float(history.values[-1])

    def non_finite_steps(self, key: str) -> list[int]:
        history = self.latest.get(key)
        if history is None:
            return []
        return [
            int(s)
            for s, v in zip(history.steps, history.values, strict=True)
            if not math.isfinite(float(v))
        ]


@dataclass
class ProjectData:
    project: str
    store_url: str
    metric: str | None
    tracked: list[str]
    runs: list[RunData]
    #: Names of runs elsewhere in the project (not shown): parents and baselines resolve.
    known_names: set[str]


def collect_project(
    store: SQLStore,
    project: str,
    *,
    runs: Sequence[str] | None = None,
    metric: str | None = None,
) -> ProjectData:
    """Read what the report of ``project`` (all runs, or those named) needs."""
    records = store.runs(project)
    numbers = {r.name: i + 1 for i, r in enumerate(records)}
    by_name = {r.name: r for r in records}
    chosen = _choose(records, by_name, runs, project)
    linked = {n for r in chosen for n in (r.parent, *r.baselines.values()) if n in by_name}
    names = sorted({r.name for r in chosen} | linked)
    histories = store.histories(project, names)
    keys = sorted({k for r in chosen for k in histories.get(r.name, {})})
    metric = metric or default_metric(keys)
    tracked = _tracked(metric, keys)
    best = {
        name: {k: h.best(metric_mode(k)) for k, h in per_key.items()}
        for name, per_key in histories.items()
    }
    steps = {r.name: _step_of(best.get(r.name, {}).get(metric or "")) for r in chosen}
    evaluations = store.selected_evaluations(project, steps)
    out = []
    for record in chosen:
        children = store.children(project, record.name)
        per_key = histories.get(record.name, {})
        data = RunData(
            number=numbers[record.name],
            record=record,
            histories=per_key,
            latest={k: h.latest() for k, h in per_key.items()},
            best=best.get(record.name, {}),
            restarts=store.restarts(project, record.name),
            evaluations=evaluations.get(record.name, {}),
            submissions=list(children["submissions"]),
            datasets=list(children["datasets"]),
            parent_found=record.parent in by_name,
        )
        if record.parent in by_name:
            data.parent_changes = diff_params(by_name[record.parent].params, record.params)
        data.deltas = {k: _deltas(record, k, best) for k in tracked}
        out.append(data)
    return ProjectData(project, store.display_url, metric, tracked, out, set(by_name))


def _choose(
    records: list[RunRecord],
    by_name: Mapping[str, RunRecord],
    runs: Sequence[str] | None,
    project: str,
) -> list[RunRecord]:
    if runs is None:
        return records
    unknown = [n for n in runs if n not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name)) or "none"
        raise NotFoundError(f"project {project!r} has no run(s) {unknown}; its runs: {known}")
    return [by_name[n] for n in dict.fromkeys(runs)]


def _tracked(metric: str | None, keys: Sequence[str]) -> list[str]:
    present = set(keys)
    ordered = [metric] if metric else []
    ordered += [k for k in CANONICAL_METRICS if k in present and k != metric]
    return ordered[:_MAX_TRACKED]


def _step_of(best: BestValue | None) -> int | None:
    return None if best is None else best.step


def _deltas(
    record: RunRecord, key: str, best: Mapping[str, Mapping[str, BestValue | None]]
) -> dict[str, Delta]:
    """As ``store.deltas``: this run's best against each labelled baseline's, in points."""
    mine = best.get(record.name, {}).get(key)
    return {
        label: delta_between(label, baseline, mine, best.get(baseline, {}).get(key))
        for label, baseline in record.baselines.items()
    }
