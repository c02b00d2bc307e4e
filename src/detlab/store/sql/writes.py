"""Writing to the run store: runs, parameters, metric batches, restarts and the rest.

Every function takes an open write connection (:func:`~detlab.store.sql.engine.write_connection`)
so that callers group statements into one transaction; nothing here commits by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Table, and_, delete, func, insert, select, text, update

from detlab.core.runs import RESTART_REASONS, RUN_STATUSES, flatten_params
from detlab.errors import AlreadyExistsError, InvalidInputError, NotFoundError, StoreError
from detlab.store.sql.models import (
    ArtifactRow,
    Base,
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
)

__all__ = [
    "MetricBatchRow",
    "add_artifact",
    "add_evaluation",
    "add_restart",
    "add_submission",
    "attach_state",
    "create_run",
    "delete_run",
    "ensure_project",
    "find_run_by_artifact",
    "find_run_id",
    "insert_metrics",
    "link_dataset",
    "metric_key_ids",
    "resume_state",
    "run_points",
    "run_status",
    "segment_last_step",
    "set_baselines",
    "set_params",
    "set_tags",
    "update_run",
]

#: ``(run_id, key, step, value, flag, segment, time)``: one metric point as the writer queues it.
MetricBatchRow = tuple[int, str, int, float | None, int, int, float]

#: Run fields that :func:`update_run` may set.
RUN_FIELDS = frozenset(
    {
        "status", "started", "ended", "heartbeat", "parent", "purpose", "method", "change_kind",
        "conclusion", "suggestions", "notes", "references", "command", "cwd", "git_commit",
        "git_dirty", "host", "python_version", "packages", "early_stop_step", "error", "segment",
    }
)  # fmt: skip


def _t(model: type[Base]) -> Table:
    """A model's table: Core statements on it skip the ORM's per-statement work and cache."""
    return cast(Table, model.__table__)


def _add(conn: Connection, model: type[Base], **values: Any) -> int:
    """Insert one row (values as parameters, so the compiled statement is reused); its id."""
    result = conn.execute(insert(_t(model)), values)
    key = result.inserted_primary_key
    return int(key[0]) if key and key[0] is not None else 0


def now() -> datetime:
    return datetime.now(timezone.utc)


def ensure_project(conn: Connection, name: str) -> int:
    found = conn.execute(select(ProjectRow.id).where(ProjectRow.name == name)).scalar()
    if found is not None:
        return int(found)
    return _add(conn, ProjectRow, name=name, created=now())


def find_run_id(conn: Connection, project: str, name: str) -> int:
    """The id of ``project``/``name``; :class:`NotFoundError` names what exists instead."""
    found = conn.execute(
        select(RunRow.id)
        .join(ProjectRow, ProjectRow.id == RunRow.project_id)
        .where(ProjectRow.name == project, RunRow.name == name)
    ).scalar()
    if found is not None:
        return int(found)
    has_project = conn.execute(select(ProjectRow.id).where(ProjectRow.name == project)).scalar()
    if has_project is None:
        raise NotFoundError(f"no project {project!r} in the store")
    raise NotFoundError(f"no run {name!r} in project {project!r}")


def resume_state(conn: Connection, project: str, name: str) -> tuple[int, int, int] | None:
    """``(run id, current segment, next step)`` of an existing run, or None."""
    found = conn.execute(
        select(RunRow.id, RunRow.segment)
        .join(ProjectRow, ProjectRow.id == RunRow.project_id)
        .where(ProjectRow.name == project, RunRow.name == name)
    ).first()
    if found is None:
        return None
    run_id, segment = int(found[0]), int(found[1])
    last = conn.execute(_last_step(run_id)).scalar()
    return run_id, segment, 0 if last is None else int(last) + 1


def attach_state(conn: Connection, run_id: int) -> tuple[str, str, int, int]:
    """``(project, run name, current segment, next step)`` of the run with id ``run_id``."""
    found = conn.execute(
        select(ProjectRow.name, RunRow.name, RunRow.segment)
        .join(ProjectRow, ProjectRow.id == RunRow.project_id)
        .where(RunRow.id == run_id)
    ).first()
    if found is None:
        raise NotFoundError(f"no run with id {run_id} in the store (DETLAB_RUN_ID)")
    last = conn.execute(_last_step(run_id)).scalar()
    return str(found[0]), str(found[1]), int(found[2]), 0 if last is None else int(last) + 1


def segment_last_step(conn: Connection, run_id: int) -> int | None:
    """The last step a run logged in its current segment (None: nothing yet)."""
    segment = select(RunRow.segment).where(RunRow.id == run_id).scalar_subquery()
    found = conn.execute(_last_step(run_id).where(MetricRow.segment == segment)).scalar()
    return None if found is None else int(found)


def run_points(run_ids: Sequence[int], key_ids: Sequence[int] | None = None) -> Any:
    """``SELECT`` over blocks joined to their points, of ``run_ids`` (and ``key_ids``).

    Blocks must drive the join (each one a range of the points' primary key): ``+ 0`` keeps
    a planner from looking blocks up from the points instead, which would scan every point.
    """
    m, b = MetricRow, MetricBlockRow
    query = (
        select()
        .select_from(b)
        .join(
            m,
            and_(
                m.id >= b.first_id,
                m.id <= b.last_id,
                m.run_id + 0 == b.run_id + 0,
                m.key_id + 0 == b.key_id + 0,
            ),
        )
    )
    query = query.where(b.run_id.in_(list(run_ids)))
    if key_ids is not None:
        query = query.where(b.key_id.in_(list(key_ids)))
    return query


def _last_step(run_id: int) -> Any:
    return run_points([run_id]).add_columns(func.max(MetricRow.step))


def run_status(conn: Connection, run_id: int) -> str:
    return str(conn.execute(select(RunRow.status).where(RunRow.id == run_id)).scalar_one())


def create_run(
    conn: Connection,
    project: str,
    name: str,
    *,
    fields: Mapping[str, Any],
    params: Mapping[str, Any],
    tags: Iterable[str],
    baselines: Mapping[str, str],
) -> int:
    """Insert a new run; :class:`AlreadyExistsError` when the name is taken in the project."""
    project_id = ensure_project(conn, project)
    taken = conn.execute(
        select(RunRow.id).where(RunRow.project_id == project_id, RunRow.name == name)
    ).scalar()
    if taken is not None:
        raise AlreadyExistsError(
            f"run {name!r} already exists in project {project!r}; "
            "pass resume=True to continue it, or choose another name"
        )
    _check_fields(fields)
    stamp = now()
    values = {"created": stamp, "started": stamp, "status": "running", **fields}
    run_id = _add(conn, RunRow, project_id=project_id, name=name, **{**_defaults(), **values})
    set_params(conn, run_id, params, new=True)
    set_tags(conn, run_id, tags, new=True)
    set_baselines(conn, run_id, baselines, new=True)
    return run_id


def set_baselines(
    conn: Connection, run_id: int, baselines: Mapping[str, str], *, new: bool = False
) -> None:
    """Add or replace labelled baselines (``{"baseline": "r18-sgd"}``) of a run."""
    if not baselines:
        return
    table = _t(RunBaselineRow)
    if not new:
        conn.execute(
            delete(table).where(table.c.run_id == run_id, table.c.label.in_(list(baselines)))
        )
    conn.execute(
        insert(table),
        [{"run_id": run_id, "label": k, "baseline": v} for k, v in baselines.items()],
    )


def _defaults() -> dict[str, Any]:
    text = ("purpose", "method", "change_kind", "conclusion", "suggestions", "notes")
    more = ("command", "cwd", "host", "python_version", "error")
    return {
        **dict.fromkeys(text + more, ""),
        "references": [],
        "packages": {},
        "segment": 0,
    }


def _check_fields(fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - RUN_FIELDS
    if unknown:
        raise InvalidInputError(f"unknown run field(s): {', '.join(sorted(unknown))}")
    status = fields.get("status")
    if status is not None and status not in RUN_STATUSES:
        raise InvalidInputError(f"run status {status!r} is not one of {', '.join(RUN_STATUSES)}")


def update_run(conn: Connection, run_id: int, **fields: Any) -> None:
    _check_fields(fields)
    if fields:
        runs = _t(RunRow)
        conn.execute(update(runs).where(runs.c.id == run_id), fields)


def param_row(run_id: int, key: str, value: Any) -> dict[str, Any]:
    """One parameter as stored: JSON text, a type name, and a number for numeric filters."""
    kind = _param_type(value)
    number = float(value) if kind in ("int", "float") else None
    text = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode()
    return {"run_id": run_id, "key": key, "value": text, "type": kind, "number": number}


def _param_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    item = getattr(value, "item", None)  # NumPy scalars
    if callable(item):
        return _param_type(item())
    return "str"


def set_params(
    conn: Connection, run_id: int, params: Mapping[str, Any], *, new: bool = False
) -> None:
    """Set (insert or replace) flattened parameters; ``new``: the run has none yet."""
    flat = flatten_params(params)
    if not flat:
        return
    if not new:
        conn.execute(
            delete(_t(ParamRow)).where(ParamRow.run_id == run_id, ParamRow.key.in_(list(flat)))
        )
    conn.execute(insert(_t(ParamRow)), [param_row(run_id, k, v) for k, v in flat.items()])


def set_tags(
    conn: Connection,
    run_id: int,
    tags: Iterable[str],
    *,
    remove: bool = False,
    new: bool = False,
) -> None:
    wanted = sorted({str(t) for t in tags})
    if not wanted:
        return
    if not new:
        conn.execute(delete(RunTagRow).where(RunTagRow.run_id == run_id, RunTagRow.tag.in_(wanted)))
    if not remove:
        conn.execute(insert(_t(RunTagRow)), [{"run_id": run_id, "tag": t} for t in wanted])


def insert_metrics(conn: Connection, rows: Sequence[MetricBatchRow]) -> None:
    """Insert a batch of points with the driver's own executemany (the writer's hot path).

    Keys become ids from ``metric_keys`` (new names are added). The points get consecutive
    ids after the largest one stored, in the batch's order, which keeps each key's logging
    order; the ``metrics`` table has no secondary index to update, and one
    ``metric_blocks`` row per run and key says which ids hold its points (the previous block
    is extended when the run's last batch ended just before). Serialised with other writers:
    SQLite's write lock, a transaction-scoped advisory lock on PostgreSQL.
    """
    if not rows:
        return
    sqlite = conn.dialect.name == "sqlite"
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _METRICS_LOCK})
    columns = {name: list(map(itemgetter(k), rows)) for k, name in enumerate(_POINT_COLUMNS)}
    names = metric_key_ids(conn, set(columns["key"]), create=True)
    key_ids = list(map(names.__getitem__, columns.pop("key")))
    columns["key_id"] = key_ids
    metrics = _t(MetricRow)
    first = int(conn.execute(select(func.coalesce(func.max(metrics.c.id), 0))).scalar_one()) + 1
    last = first + len(rows) - 1
    if not sqlite:  # SQLite numbers them so itself: the largest rowid + 1, under the write lock
        columns = {"id": list(range(first, last + 1)), **columns}
    _execute_points(conn, columns)
    if sqlite and conn.execute(select(func.max(metrics.c.id))).scalar_one() != last:
        raise StoreError("metric points were numbered unexpectedly; the batch was not stored")
    _add_blocks(conn, set(zip(columns["run_id"], key_ids, strict=True)), first, last)


#: The columns of a :data:`MetricBatchRow`, in order (``key`` becomes ``key_id``).
_POINT_COLUMNS = ("run_id", "key", "step", "value", "flag", "segment", "time")


def _execute_points(conn: Connection, columns: dict[str, list[Any]]) -> None:
    """One executemany over the columns; an integer column holding one value for the whole
    batch (a run's id, its segment, the flag when nothing was NaN) is written into the
    statement as a literal, so each point binds fewer parameters."""
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    values, bound = [], []
    for name, column in columns.items():
        first = column[0]
        constant = name in ("run_id", "flag", "segment") and type(first) is int
        if constant and column.count(first) == len(column):
            values.append(str(int(first)))
            continue
        values.append(marker)
        bound.append(column)
    statement = f"INSERT INTO metrics ({', '.join(columns)}) VALUES ({', '.join(values)})"
    # The DB-API cursor takes the rows lazily: zip hands out one tuple at a time (reused when
    # the driver let go of it), so the batch is never copied and the collector never runs.
    cursor = conn.connection.cursor()
    try:  # sqlite3 and psycopg both take any iterable of rows
        lazy = zip(*bound, strict=True)
        cursor.executemany(statement, cast("Sequence[Sequence[Any]]", lazy))
    finally:
        cursor.close()


_METRICS_LOCK = 0x646C6D74  # "dlmt": the advisory lock key for metric inserts on PostgreSQL


def metric_key_ids(
    conn: Connection, names: Iterable[str], *, create: bool = False
) -> dict[str, int]:
    """Ids of the metric ``names`` that exist (all of them with ``create``, adding new ones)."""
    wanted = sorted(set(names))
    table = _t(MetricKeyRow)
    found = {
        str(name): int(key_id)
        for key_id, name in conn.execute(
            select(table.c.id, table.c.name).where(table.c.name.in_(wanted))
        )
    }
    missing = [name for name in wanted if name not in found]
    if create and missing:
        conn.execute(insert(table), [{"name": name} for name in missing])
        return metric_key_ids(conn, wanted)
    return found


def _add_blocks(conn: Connection, pairs: set[tuple[int, int]], first: int, last: int) -> None:
    """Record ids ``first..last`` as holding each (run, key) of ``pairs``."""
    blocks = _t(MetricBlockRow)
    for run_id in sorted({run for run, _ in pairs}):
        key_ids = sorted(key for run, key in pairs if run == run_id)
        # Blocks of this run that end just before this batch: extend them.
        follows = blocks.c.run_id == run_id, blocks.c.last_id == first - 1
        extended = set(
            conn.execute(
                select(blocks.c.key_id).where(*follows, blocks.c.key_id.in_(key_ids))
            ).scalars()
        )
        if extended:
            conn.execute(
                update(blocks)
                .where(*follows, blocks.c.key_id.in_(sorted(extended)))
                .values(last_id=last)
            )
        new = [
            {"run_id": run_id, "key_id": key, "first_id": first, "last_id": last}
            for key in key_ids
            if key not in extended
        ]
        if new:
            conn.execute(insert(blocks), new)


def add_restart(
    conn: Connection,
    run_id: int,
    *,
    epoch: int | None,
    loaded_epoch: int | None,
    seed: int | None,
    reason: str,
    detail: str,
    segment: int,
) -> None:
    if reason not in RESTART_REASONS:
        raise InvalidInputError(
            f"restart reason {reason!r} is not one of {', '.join(RESTART_REASONS)} "
            "(put the specifics in detail=...)"
        )
    _add(
        conn,
        RestartRow,
        run_id=run_id,
        epoch=epoch,
        loaded_epoch=loaded_epoch,
        seed=seed,
        reason=reason,
        detail=detail,
        time=now(),
        segment=segment,
    )


def add_evaluation(
    conn: Connection,
    run_id: int,
    *,
    step: int | None,
    protocol: str,
    prefix: str,
    data: Mapping[str, Any],
    segment: int,
) -> None:
    _add(
        conn,
        EvaluationRow,
        run_id=run_id,
        step=step,
        protocol=protocol,
        prefix=prefix,
        data=dict(data),
        time=now(),
        segment=segment,
    )


def add_artifact(
    conn: Connection, run_id: int, *, uri: str, kind: str, size: int | None, sha256: str | None
) -> None:
    _add(conn, ArtifactRow, run_id=run_id, uri=uri, kind=kind, size=size, sha256=sha256, time=now())


def add_submission(conn: Connection, run_id: int, *, board: str, score: float, note: str) -> None:
    _add(conn, SubmissionRow, run_id=run_id, board=board, score=float(score), note=note, time=now())


def link_dataset(
    conn: Connection,
    run_id: int,
    *,
    name: str,
    fingerprint: str,
    stats: Mapping[str, Any],
    role: str,
) -> None:
    """Store a dataset snapshot once per project (by fingerprint) and link it to the run."""
    project_id = conn.execute(select(RunRow.project_id).where(RunRow.id == run_id)).scalar_one()
    dataset_id = conn.execute(
        select(DatasetRow.id).where(
            DatasetRow.project_id == project_id, DatasetRow.fingerprint == fingerprint
        )
    ).scalar()
    if dataset_id is None:
        dataset_id = _add(
            conn,
            DatasetRow,
            project_id=project_id,
            name=name,
            fingerprint=fingerprint,
            stats=dict(stats),
            time=now(),
        )
    conn.execute(
        delete(RunDatasetRow).where(
            RunDatasetRow.run_id == run_id,
            RunDatasetRow.dataset_id == dataset_id,
            RunDatasetRow.role == role,
        )
    )
    _add(conn, RunDatasetRow, run_id=run_id, dataset_id=dataset_id, role=role)


def delete_run(conn: Connection, project: str, name: str) -> None:
    """Delete a run and everything recorded for it (foreign keys cascade)."""
    run_id = find_run_id(conn, project, name)
    points = run_points([run_id]).add_columns(MetricRow.id)
    conn.execute(delete(MetricRow).where(MetricRow.id.in_(points)))
    for table in (
        MetricBlockRow, ParamRow, RunTagRow, RunBaselineRow, RestartRow, EvaluationRow,
        ArtifactRow, SubmissionRow, RunDatasetRow,
    ):  # fmt: skip
        conn.execute(delete(table).where(table.run_id == run_id))
    conn.execute(delete(RunRow).where(RunRow.id == run_id))


def find_run_by_artifact(conn: Connection, project: str, uri: str, kind: str) -> str | None:
    """The name of the run of ``project`` holding an artifact ``uri`` of ``kind``, if any
    (how an import finds the run it wrote from the same folder before)."""
    found = conn.execute(
        select(RunRow.name)
        .join(ProjectRow, ProjectRow.id == RunRow.project_id)
        .join(ArtifactRow, ArtifactRow.run_id == RunRow.id)
        .where(ProjectRow.name == project, ArtifactRow.uri == uri, ArtifactRow.kind == kind)
        .order_by(RunRow.id)
    ).first()
    return None if found is None else str(found[0])
