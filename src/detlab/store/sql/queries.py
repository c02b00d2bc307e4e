"""Reading the run store: runs with filters, histories, best values, diffs and deltas.

"Latest value per step": a step logged again after a restart (a new segment) replaces the
earlier value; the latest point of a step is the one inserted last (the highest id).
Best values are taken over the latest values per step and over finite values only; among equal
best values the earliest step wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Select, and_, func, select
from sqlalchemy.orm import Session

from detlab.core.runs import (
    BestValue,
    DatasetSnapshot,
    Delta,
    EvaluationRecord,
    MetricHistory,
    Restart,
    RunRecord,
    delta_between,
    diff_params,
)
from detlab.errors import InvalidInputError, NotFoundError
from detlab.store.sql.models import (
    ArtifactRow,
    DatasetRow,
    EvaluationRow,
    MetricBlockRow,
    MetricKeyRow,
    MetricRow,
    ParamRow,
    ProjectRow,
    RestartRow,
    RunBaselineRow,
    RunDatasetRow,
    RunRow,
    RunTagRow,
    SubmissionRow,
    as_utc,
)
from detlab.store.sql.writes import find_run_id, metric_key_ids, run_points

__all__ = [
    "best_values",
    "bulk_histories",
    "list_runs",
    "metric_history",
    "metric_keys",
    "param_diff",
    "project_names",
    "read_run",
    "run_deltas",
    "run_ids",
    "selected_evaluations",
]

_OPS = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def check_mode(mode: str) -> None:
    if mode not in ("max", "min"):
        raise InvalidInputError(f"mode must be 'max' or 'min', got {mode!r}")


def project_names(conn: Connection) -> list[str]:
    return list(conn.execute(select(ProjectRow.name).order_by(ProjectRow.name)).scalars())


def _project_id(conn: Connection, project: str) -> int:
    found = conn.execute(select(ProjectRow.id).where(ProjectRow.name == project)).scalar()
    if found is None:
        known = ", ".join(project_names(conn)) or "none yet"
        raise NotFoundError(f"no project {project!r} in the store (projects: {known})")
    return int(found)


def _params(conn: Connection, run_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {i: {} for i in run_ids}
    if not run_ids:
        return out
    rows = conn.execute(
        select(ParamRow.run_id, ParamRow.key, ParamRow.value).where(ParamRow.run_id.in_(run_ids))
    )
    for run_id, key, value in rows:
        out[run_id][key] = orjson.loads(value)
    return out


def _tags(conn: Connection, run_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in run_ids}
    if run_ids:
        rows = conn.execute(
            select(RunTagRow.run_id, RunTagRow.tag)
            .where(RunTagRow.run_id.in_(run_ids))
            .order_by(RunTagRow.tag)
        )
        for run_id, tag in rows:
            out[run_id].append(tag)
    return out


def _baselines(conn: Connection, run_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {i: {} for i in run_ids}
    if run_ids:
        rows = conn.execute(
            select(RunBaselineRow.run_id, RunBaselineRow.label, RunBaselineRow.baseline).where(
                RunBaselineRow.run_id.in_(run_ids)
            )
        )
        for run_id, label, baseline in rows:
            out[run_id][label] = baseline
    return out


def _records(
    conn: Connection, project: str, rows: Sequence[RunRow], best: Mapping[int, BestValue]
) -> list[RunRecord]:
    ids = [r.id for r in rows]
    params, tags, baselines = _params(conn, ids), _tags(conn, ids), _baselines(conn, ids)
    return [
        RunRecord(
            project=project,
            name=r.name,
            status=r.status,
            created=as_utc(r.created) or r.created,
            started=as_utc(r.started),
            ended=as_utc(r.ended),
            params=params[r.id],
            tags=tuple(tags[r.id]),
            parent=r.parent,
            baselines=baselines[r.id],
            purpose=r.purpose,
            method=r.method,
            change_kind=r.change_kind,
            conclusion=r.conclusion,
            suggestions=r.suggestions,
            notes=r.notes,
            references=tuple(r.references),
            command=r.command,
            cwd=r.cwd,
            git_commit=r.git_commit,
            git_dirty=r.git_dirty,
            host=r.host,
            python_version=r.python_version,
            packages=dict(r.packages),
            early_stop_step=r.early_stop_step,
            error=r.error,
            segment=r.segment,
            best=best.get(r.id),
        )
        for r in rows
    ]


def read_run(conn: Connection, project: str, name: str) -> RunRecord:
    run_id = find_run_id(conn, project, name)
    with Session(conn) as session:
        row = session.scalars(select(RunRow).where(RunRow.id == run_id)).one()
        return _records(conn, project, [row], {})[0]


def list_runs(
    conn: Connection,
    project: str,
    *,
    tags: Iterable[str] = (),
    status: str | Iterable[str] | None = None,
    params: Mapping[str, Any] | None = None,
    where: Mapping[str, tuple[str, float]] | None = None,
    metric: str | None = None,
    mode: str = "max",
) -> list[RunRecord]:
    """Runs of ``project`` by creation time, filtered; ``metric`` attaches each run's best.

    ``where`` compares each run's best value (``mode``: max or min) with a threshold; runs
    without a finite value of that metric are left out.
    """
    check_mode(mode)
    query = _run_query(conn, project, tags, status, params)
    with Session(conn) as session:
        rows = list(session.scalars(query))
    ids = [r.id for r in rows]
    for key, (op, threshold) in (where or {}).items():
        if op not in _OPS:
            raise InvalidInputError(f"where[{key!r}]: unknown operator {op!r}; use {list(_OPS)}")
        bests = best_values(conn, ids, key, mode)
        keep = {i for i, b in bests.items() if _OPS[op](b.value, threshold)}
        rows = [r for r in rows if r.id in keep]
        ids = [r.id for r in rows]
    best = best_values(conn, ids, metric, mode) if metric else {}
    return _records(conn, project, rows, best)


def _run_query(
    conn: Connection,
    project: str,
    tags: Iterable[str],
    status: str | Iterable[str] | None,
    params: Mapping[str, Any] | None,
) -> Select[RunRow]:
    query = select(RunRow).where(RunRow.project_id == _project_id(conn, project))
    for tag in tags:
        query = query.where(
            RunRow.id.in_(select(RunTagRow.run_id).where(RunTagRow.tag == str(tag)))
        )
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        query = query.where(RunRow.status.in_(statuses))
    for key, value in (params or {}).items():
        text = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode()
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        number = float(value) if numeric else None
        match = ParamRow.value == text if number is None else ParamRow.number == number
        query = query.where(
            RunRow.id.in_(select(ParamRow.run_id).where(ParamRow.key == key, match))
        )
    return query.order_by(RunRow.created, RunRow.id)


def _key_ids(conn: Connection, keys: Iterable[str]) -> list[int]:
    return list(metric_key_ids(conn, keys).values())


def _latest_ids(key_id: int, run_ids: Sequence[int]) -> Any:
    return (
        run_points(run_ids, [key_id])
        .add_columns(func.max(MetricRow.id).label("id"))
        .group_by(MetricRow.run_id, MetricRow.step)
        .subquery()
    )


def best_values(
    conn: Connection, run_ids: Sequence[int], key: str, mode: str = "max"
) -> dict[int, BestValue]:
    """Each run's best finite value of ``key`` (latest value per step) and its step."""
    check_mode(mode)
    key_ids = _key_ids(conn, [key])
    if not run_ids or not key_ids:
        return {}
    latest = _latest_ids(key_ids[0], run_ids)
    order = MetricRow.value.desc() if mode == "max" else MetricRow.value.asc()
    ranked = (
        select(
            MetricRow.run_id,
            MetricRow.value,
            MetricRow.step,
            func.row_number()
            .over(partition_by=MetricRow.run_id, order_by=(order, MetricRow.step.asc()))
            .label("rank"),
        )
        .join(latest, latest.c.id == MetricRow.id)
        .where(MetricRow.flag == 0)
        .subquery()
    )
    rows = conn.execute(
        select(ranked.c.run_id, ranked.c.value, ranked.c.step).where(ranked.c.rank == 1)
    )
    return {int(r): BestValue(key, float(v), int(s)) for r, v, s in rows}


def metric_history(
    conn: Connection, project: str, run: str, key: str, *, all_segments: bool = False
) -> MetricHistory:
    """Points of ``key`` by step: the latest per step, or every point in logging order."""
    run_id = find_run_id(conn, project, run)
    columns = (MetricRow.step, MetricRow.value, MetricRow.flag, MetricRow.segment, MetricRow.time)
    key_ids = _key_ids(conn, [key])
    rows = []
    if key_ids:
        query = run_points([run_id], key_ids).add_columns(*columns)
        if all_segments:
            query = query.order_by(MetricRow.segment, MetricRow.step, MetricRow.id)
        else:
            latest = _latest_ids(key_ids[0], [run_id])
            query = query.join(latest, latest.c.id == MetricRow.id).order_by(MetricRow.step)
        rows = [(int(s), v, int(f), int(g), float(t)) for s, v, f, g, t in conn.execute(query)]
    if not rows and key not in metric_keys(conn, project, run):
        known = ", ".join(metric_keys(conn, project, run)) or "none"
        raise NotFoundError(f"run {run!r} has no metric {key!r} (metrics: {known})")
    return MetricHistory.build(key, rows)


def metric_keys(conn: Connection, project: str, run: str) -> list[str]:
    run_id = find_run_id(conn, project, run)
    query = (
        select(MetricKeyRow.name)
        .join(MetricBlockRow, MetricBlockRow.key_id == MetricKeyRow.id)
        .where(MetricBlockRow.run_id == run_id)
        .distinct()
    )
    return sorted(conn.execute(query).scalars())


def param_diff(conn: Connection, project: str, a: str, b: str) -> dict[str, tuple[Any, Any]]:
    """Parameters that differ between runs ``a`` and ``b``: key -> (a's value, b's value).

    A key one run lacks has :data:`~detlab.core.runs.MISSING` on that side.
    """
    ids = [find_run_id(conn, project, a), find_run_id(conn, project, b)]
    params = _params(conn, ids)
    return diff_params(params[ids[0]], params[ids[1]])


def run_deltas(
    conn: Connection, project: str, run: str, key: str, mode: str = "max"
) -> dict[str, Delta]:
    """Best ``key`` of ``run`` against each labelled baseline's best, in percentage points."""
    run_id = find_run_id(conn, project, run)
    labels = _baselines(conn, [run_id])[run_id]
    project_id = _project_id(conn, project)
    names = list(labels.values())
    query = select(RunRow.name, RunRow.id).where(
        RunRow.project_id == project_id, RunRow.name.in_(names)
    )
    found: dict[str, int] = {str(n): int(i) for n, i in conn.execute(query)}
    bests = best_values(conn, [run_id, *found.values()], key, mode)
    mine = bests.get(run_id)
    out: dict[str, Delta] = {}
    for label, baseline in labels.items():
        theirs = bests.get(found[baseline]) if baseline in found else None
        out[label] = delta_between(label, baseline, mine, theirs)
    return out


def restarts(conn: Connection, project: str, run: str) -> list[Restart]:
    run_id = find_run_id(conn, project, run)
    query = select(RestartRow).where(RestartRow.run_id == run_id).order_by(RestartRow.id)
    with Session(conn) as session:
        return [r.to_entity() for r in session.scalars(query)]


def evaluations(conn: Connection, project: str, run: str) -> list[EvaluationRecord]:
    run_id = find_run_id(conn, project, run)
    query = select(EvaluationRow).where(EvaluationRow.run_id == run_id).order_by(EvaluationRow.id)
    with Session(conn) as session:
        return [r.to_entity() for r in session.scalars(query)]


def run_children(conn: Connection, run_id: int) -> dict[str, list[Any]]:
    """Artifacts, submissions and dataset snapshots of one run."""
    with Session(conn) as session:
        artifacts = session.scalars(
            select(ArtifactRow).where(ArtifactRow.run_id == run_id).order_by(ArtifactRow.id)
        ).all()
        submissions = session.scalars(
            select(SubmissionRow).where(SubmissionRow.run_id == run_id).order_by(SubmissionRow.id)
        ).all()
        datasets = session.execute(
            select(DatasetRow, RunDatasetRow.role)
            .join(RunDatasetRow, and_(RunDatasetRow.dataset_id == DatasetRow.id))
            .where(RunDatasetRow.run_id == run_id)
            .order_by(DatasetRow.id)
        ).all()
        snapshots: list[DatasetSnapshot] = [row.to_entity(role) for row, role in datasets]
        return {
            "artifacts": [r.to_entity() for r in artifacts],
            "submissions": [r.to_entity() for r in submissions],
            "datasets": snapshots,
        }


def run_ids(conn: Connection, project: str, names: Sequence[str]) -> dict[str, int]:
    """Ids of the named runs of ``project`` that exist (missing names are left out)."""
    query = select(RunRow.name, RunRow.id).where(
        RunRow.project_id == _project_id(conn, project), RunRow.name.in_(list(names))
    )
    return {str(n): int(i) for n, i in conn.execute(query)}


def bulk_histories(
    conn: Connection, project: str, names: Sequence[str], keys: Sequence[str] | None = None
) -> dict[str, dict[str, MetricHistory]]:
    """Every point of the named runs (of ``keys``, or all), in one query.

    Per run and key, the history holds all segments in logging order (``.latest()`` gives
    the latest value per step). Runs that do not exist are left out.
    """
    ids = run_ids(conn, project, names)
    by_id = {i: n for n, i in ids.items()}
    out: dict[str, dict[str, MetricHistory]] = {n: {} for n in ids}
    if not ids:
        return out
    columns = (
        MetricRow.run_id,
        MetricKeyRow.name,
        MetricRow.step,
        MetricRow.value,
        MetricRow.flag,
        MetricRow.segment,
        MetricRow.time,
    )
    key_ids = None if keys is None else _key_ids(conn, keys)
    query = (
        run_points(list(by_id), key_ids)
        .add_columns(*columns)
        .join(MetricKeyRow, MetricKeyRow.id == MetricBlockRow.key_id)
        .order_by(MetricRow.run_id, MetricKeyRow.name, MetricRow.id)
    )
    rows = conn.execute(query).all()
    # Rows come grouped by (run, key): cut the fetched list where either changes.
    start = 0
    for end in range(1, len(rows) + 1):
        if end == len(rows) or rows[end][:2] != rows[start][:2]:
            run_id, key = rows[start][0], rows[start][1]
            out[by_id[run_id]][key] = MetricHistory.build(key, [r[2:] for r in rows[start:end]])
            start = end
    return out


def selected_evaluations(
    conn: Connection, project: str, steps: Mapping[str, int | None]
) -> dict[str, dict[str, EvaluationRecord]]:
    """Per named run and protocol, one evaluation: the last one logged at ``steps[run]`` when
    there is one, else the run's last. Only the chosen rows' data are read."""
    ids = run_ids(conn, project, list(steps))
    by_id = {i: n for n, i in ids.items()}
    out: dict[str, dict[str, EvaluationRecord]] = {n: {} for n in ids}
    if not ids:
        return out
    index = select(
        EvaluationRow.id, EvaluationRow.run_id, EvaluationRow.step, EvaluationRow.protocol
    ).where(EvaluationRow.run_id.in_(list(by_id)))
    chosen: dict[tuple[int, str], tuple[bool, int]] = {}
    for eval_id, run_id, step, protocol in conn.execute(index.order_by(EvaluationRow.id)):
        at_step = step is not None and step == steps[by_id[run_id]]
        key = (run_id, protocol)
        previous = chosen.get(key)
        if previous is None or at_step or not previous[0]:
            chosen[key] = (at_step, eval_id)
    wanted = [eval_id for _, eval_id in chosen.values()]
    with Session(conn) as session:
        rows = session.scalars(select(EvaluationRow).where(EvaluationRow.id.in_(wanted)))
        for row in rows:
            out[by_id[row.run_id]][row.protocol] = row.to_entity()
    return out
