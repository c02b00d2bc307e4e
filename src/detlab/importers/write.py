"""Storing an :class:`ImportedRun`, idempotently.

Importing the same folder twice adds nothing; a folder that grew adds only its new points.

- **Which run.** The folder (or file) a run was read from is kept as an artifact of kind
  ``import-source``; a later import of the same folder finds that run again, whatever its name.
  A new run takes the parsed name (or ``name=``); when another run already has it, ``-2``,
  ``-3``, ... is appended; with an explicit ``name=`` that belongs to a run imported from
  elsewhere (or recorded by the SDK), :class:`AlreadyExistsError` is raised.
- **Which points.** Per key, the points already stored are counted as ``(step, value)`` pairs
  and only the excess of the file's pairs is added, in file order. A resume that logs the same
  step twice with different values keeps both points (different pairs); the same pair logged
  twice is stored twice, and a second import finds both. A point alone at its step and segment,
  in the file and in the store, but with another value (an epoch's mean of training rows, when
  more rows of that epoch were logged since) is added after the stored one: the latest value
  per step is the new mean, the old one stays in the full history, and the next import finds
  the new one stored. It is counted as *updated*.
- **Restarts and evaluations** are compared the same way (restarts by epoch, loaded epoch,
  reason and detail; evaluations by step, protocol and data). Parameters are replaced.

Segments follow the file: points after the n-th restart are in segment n.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import orjson

from detlab.core.runs import encode_value, flatten_params
from detlab.errors import AlreadyExistsError
from detlab.importers.model import ImportedEvaluation, ImportedRestart, ImportedRun
from detlab.store.sql import queries, writes

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from detlab.core.runs import MetricHistory
    from detlab.store.sql.store import SQLStore
    from detlab.store.sql.writes import MetricBatchRow

__all__ = ["SOURCE_KIND", "ImportResult", "source_uri", "write_run"]

#: the artifact kind that remembers where an imported run was read from
SOURCE_KIND = "import-source"


@dataclass
class ImportResult:
    """What one import did (or, with ``dry_run``, would do) to the store."""

    name: str
    created: bool
    points_added: int = 0
    points_existing: int = 0
    points_updated: int = 0  # of the points added: epoch means that changed as the log grew
    evaluations_added: int = 0
    restarts_added: int = 0
    best: tuple[str, float, int] | None = None  # (key, value, step) as the files say
    problems: list[str] = field(default_factory=list)


def source_uri(run: ImportedRun) -> str:
    """The URI recorded for the run's source: the folder's ``file://`` URI (``stdin:<name>``
    for standard input)."""
    if str(run.path) == "-":
        return f"stdin:{run.name}"
    return run.path.resolve().as_uri()


def write_run(
    store: SQLStore,
    run: ImportedRun,
    *,
    project: str,
    name: str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Store ``run`` in ``project`` (adding only what is new); see the module docstring."""
    uri = source_uri(run)
    if dry_run:
        with store.reading() as conn:
            return _plan(conn, run, project, name, uri, apply=False)
    with store.writing() as conn:
        return _plan(conn, run, project, name, uri, apply=True)


def _plan(
    conn: Connection, run: ImportedRun, project: str, name: str | None, uri: str, *, apply: bool
) -> ImportResult:
    existing = _existing_name(conn, project, uri)
    target = existing or _new_name(conn, project, name or run.name, explicit=name is not None)
    result = ImportResult(target, created=existing is None, best=best_of(run))
    result.problems = [str(p) for p in run.problems]
    if existing is None:
        changes = _Changes(_all_points(run), run.evaluations, run.restarts)
    else:
        changes = _new_parts(conn, project, existing, run, result)
    result.points_added = sum(len(points) for points in changes.rows.values())
    result.points_updated = changes.superseding
    result.evaluations_added = len(changes.evaluations)
    result.restarts_added = len(changes.restarts)
    if apply:
        run_id = _ensure_run(conn, project, target, run, uri, created=existing is None)
        _store(conn, run_id, run, changes)
    return result


def _existing_name(conn: Connection, project: str, uri: str) -> str | None:
    return writes.find_run_by_artifact(conn, project, uri, SOURCE_KIND)


def _new_name(conn: Connection, project: str, wanted: str, *, explicit: bool) -> str:
    if project not in queries.project_names(conn) or not queries.run_ids(conn, project, [wanted]):
        return wanted
    if explicit:
        raise AlreadyExistsError(
            f"run {wanted!r} already exists in project {project!r} and was not imported from "
            "this path; choose another --name"
        )
    number = 2
    while queries.run_ids(conn, project, [f"{wanted}-{number}"]):
        number += 1
    return f"{wanted}-{number}"


def best_of(run: ImportedRun) -> tuple[str, float, int] | None:
    """The best value of the first of ``val/AP``, ``val/VOCmAP``, ``val/AP50`` the run has,
    by the store's rule: the latest value per step, the earliest step of the best."""
    for key in ("val/AP", "val/VOCmAP", "val/AP50"):
        latest = dict(run.metrics.get(key, ()))  # later points of a step replace earlier ones
        finite = sorted((s, v) for s, v in latest.items() if math.isfinite(v))
        if finite:
            value = max(v for _, v in finite)
            step = next(s for s, v in finite if v == value)
            return key, value, step
    return None


# ---------------------------------------------------------------------------- what is new

#: ``key -> [(index in run.metrics[key], step, value)]``
Points = dict[str, list[tuple[int, int, float]]]


@dataclass
class _Changes:
    """What an import adds: new points, evaluations and restarts; ``superseding`` counts the
    points that give a step a new value (see the module docstring)."""

    rows: Points
    evaluations: list[ImportedEvaluation]
    restarts: list[ImportedRestart]
    superseding: int = 0


def _all_points(run: ImportedRun) -> Points:
    return {k: [(i, s, v) for i, (s, v) in enumerate(pts)] for k, pts in run.metrics.items()}


def _new_parts(
    conn: Connection, project: str, name: str, run: ImportedRun, result: ImportResult
) -> _Changes:
    stored = queries.bulk_histories(conn, project, [name]).get(name, {})
    changes = _Changes({}, [], [])
    for key, points in run.metrics.items():
        fresh, superseding = _fresh_points(run, key, stored.get(key))
        result.points_existing += len(points) - len(fresh)
        changes.superseding += superseding
        if fresh:
            changes.rows[key] = fresh
    stored_evals = queries.evaluations(conn, project, name)
    old_evals = Counter(_eval_key(e.step, e.protocol, e.data) for e in stored_evals)
    changes.evaluations = _excess(
        ((_eval_key(e.step, e.protocol, e.data), e) for e in run.evaluations), old_evals
    )
    old_restarts = Counter(_restart_key(r) for r in queries.restarts(conn, project, name))
    changes.restarts = _excess(((_restart_key(r), r) for r in run.restarts), old_restarts)
    return changes


def _fresh_points(
    run: ImportedRun, key: str, history: MetricHistory | None
) -> tuple[list[tuple[int, int, float]], int]:
    """The points of ``key`` not stored yet, and how many of them give a stored step (alone at
    its step and segment, in the file and in the store) a new value."""
    points = run.metrics[key]
    indexed = [(_point(s, v), (i, s, v)) for i, (s, v) in enumerate(points)]
    if history is None:
        return [item for _, item in indexed], 0
    steps, values = history.steps.tolist(), history.values.tolist()
    fresh = _excess(indexed, Counter(_point(s, v) for s, v in zip(steps, values, strict=True)))
    stored_at = Counter(zip(steps, history.segments.tolist(), strict=True))
    new_at = Counter((s, run.segment_of(key, i)) for i, (s, _) in enumerate(points))
    wheres = [(step, run.segment_of(key, index)) for index, step, _ in fresh]
    return fresh, sum(1 for w in wheres if stored_at[w] == 1 and new_at[w] == 1)


def _excess(items: Iterable[tuple[Any, Any]], have: Counter[Any]) -> list[Any]:
    """The items whose key is not (or no longer) in ``have``, consuming ``have`` as it goes."""
    out = []
    for key, item in items:
        if have[key] > 0:
            have[key] -= 1
        else:
            out.append(item)
    return out


def _point(step: Any, value: Any) -> tuple[int, float | None, int]:
    stored, flag = encode_value(float(value))
    return int(step), stored, flag


def _eval_key(step: int | None, protocol: str, data: Any) -> tuple[Any, ...]:
    option = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    return step, protocol, orjson.dumps(data, option=option, default=str)


def _restart_key(restart: Any) -> tuple[Any, ...]:
    return restart.epoch, restart.loaded_epoch, restart.reason, restart.detail


# ---------------------------------------------------------------------------- writing


def _ensure_run(
    conn: Connection, project: str, name: str, run: ImportedRun, uri: str, *, created: bool
) -> int:
    params = flatten_params(run.params)
    if not created:
        run_id = writes.find_run_id(conn, project, name)
        writes.set_params(conn, run_id, params)
        return run_id
    fields: dict[str, Any] = {"status": "finished", "command": run.command, "notes": run.notes}
    if run.started is not None:
        fields["started"] = _utc(run.started)
    run_id = writes.create_run(
        conn, project, name, fields=fields, params=params, tags=["imported", run.source],
        baselines={},
    )  # fmt: skip
    writes.add_artifact(conn, run_id, uri=uri, kind=SOURCE_KIND, size=None, sha256=None)
    return run_id


def _segment_at(run: ImportedRun, step: int | None) -> int:
    """The segment of the last validation point logged at ``step`` (else the last segment)."""
    for key, points in run.metrics.items():
        if key.startswith("val/"):
            hits = [i for i, (s, _) in enumerate(points) if s == step]
            if hits:
                return run.segment_of(key, hits[-1])
    return run.segment


def _last_written(run: ImportedRun) -> datetime | None:
    """When the run's files were last written (the end of training, as far as files tell)."""
    times = [f.stat().st_mtime for f in run.files if f.is_file()]
    return datetime.fromtimestamp(max(times), timezone.utc) if times else None


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def _store(conn: Connection, run_id: int, run: ImportedRun, changes: _Changes) -> None:
    now = time.time()
    batch: list[MetricBatchRow] = []
    for key, points in changes.rows.items():
        for index, step, value in points:
            stored, flag = encode_value(value)
            batch.append((run_id, key, step, stored, flag, run.segment_of(key, index), now))
    writes.insert_metrics(conn, batch)
    first = len(run.restarts) - len(changes.restarts)
    for number, restart in enumerate(changes.restarts, start=first + 1):
        writes.add_restart(
            conn, run_id, epoch=restart.epoch, loaded_epoch=restart.loaded_epoch,
            seed=restart.seed, reason=restart.reason, detail=restart.detail, segment=number,
        )  # fmt: skip
    for evaluation in changes.evaluations:
        writes.add_evaluation(
            conn, run_id, step=evaluation.step, protocol=evaluation.protocol,
            prefix=evaluation.prefix, data=evaluation.data,
            segment=_segment_at(run, evaluation.step),
        )  # fmt: skip
    writes.update_run(conn, run_id, segment=run.segment, ended=_last_written(run))
