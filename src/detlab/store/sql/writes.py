"""Writing to the run store: runs, parameters, metric batches, restarts and the rest.

Every function takes an open write connection (:func:`~detlab.store.sql.engine.write_connection`)
so that callers group statements into one transaction; nothing here commits by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Table, delete, func, insert, select, update

from detlab.core.runs import RESTART_REASONS, RUN_STATUSES, flatten_params
from detlab.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from detlab.store.sql.models import (
    ArtifactRow,
    Base,
    DatasetRow,
    EvaluationRow,
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
    "resume_state",
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
    last = conn.execute(select(func.max(MetricRow.step)).where(MetricRow.run_id == run_id)).scalar()
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
    last = conn.execute(select(func.max(MetricRow.step)).where(MetricRow.run_id == run_id)).scalar()
    return str(found[0]), str(found[1]), int(found[2]), 0 if last is None else int(last) + 1


def segment_last_step(conn: Connection, run_id: int) -> int | None:
    """The last step a run logged in its current segment (None: nothing yet)."""
    found = conn.execute(
        select(func.max(MetricRow.step))
        .join(RunRow, RunRow.id == MetricRow.run_id)
        .where(MetricRow.run_id == run_id, MetricRow.segment == RunRow.segment)
    ).scalar()
    return None if found is None else int(found)


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

    The tuples go to the DB-API cursor as they are: building a dict per point for SQLAlchemy's
    parameter processing would cost more than the insert itself.
    """
    if not rows:
        return
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    columns = "run_id, key, step, value, flag, segment, time"
    statement = f"INSERT INTO metrics ({columns}) VALUES ({', '.join([marker] * 7)})"
    conn.exec_driver_sql(statement, list(rows))


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
    for table in (
        MetricRow, ParamRow, RunTagRow, RunBaselineRow, RestartRow, EvaluationRow,
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
