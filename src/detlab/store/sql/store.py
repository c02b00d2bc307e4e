"""``SQLStore``: the run store on any SQLAlchemy database (SQLite by default, PostgreSQL).

Reads take a plain connection; writes a write transaction (see :mod:`.engine`). Every method
speaks ``core`` entities and plain Python values; no row object leaves this package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from detlab.core.runs import (
    BestValue,
    Delta,
    EvaluationRecord,
    MetricHistory,
    Restart,
    RunRecord,
    note_fields,
)
from detlab.errors import NotFoundError, StoreUnavailableError
from detlab.store.sql import queries, writes
from detlab.store.sql.engine import make_engine, write_connection
from detlab.store.sql.schema import ensure_schema

__all__ = ["SQLStore"]


class SQLStore:
    """The run store. Open one with :func:`detlab.open_store`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        ensure_schema(self.engine, url)

    @property
    def display_url(self) -> str:
        """The URL with any password masked, for messages and reports."""
        return str(self.engine.url.render_as_string(hide_password=True))

    def __repr__(self) -> str:
        return f"SQLStore({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions

    def reading(self) -> Connection:
        """A connection for reads (use it as a context manager)."""
        try:
            return self.engine.connect()
        except OperationalError as exc:
            raise StoreUnavailableError(f"cannot reach the store {self.url}: {exc.orig}") from exc

    def writing(self) -> Any:
        """A write transaction (context manager yielding a connection)."""
        return write_connection(self.engine)

    # ------------------------------------------------------------------ reads

    def projects(self) -> list[str]:
        with self.reading() as conn:
            return queries.project_names(conn)

    def runs(
        self,
        project: str,
        *,
        tags: Iterable[str] = (),
        status: str | Iterable[str] | None = None,
        params: Mapping[str, Any] | None = None,
        where: Mapping[str, tuple[str, float]] | None = None,
        metric: str | None = None,
        mode: str = "max",
    ) -> list[RunRecord]:
        """Runs of a project, oldest first, filtered by tags (all of them), status, parameter
        values (``{"optimizer": "sgd"}``) and thresholds on best values (``{"val/AP50":
        (">=", 0.5)}``, best by ``mode``); with ``metric``, each record carries ``best``."""
        with self.reading() as conn:
            return queries.list_runs(
                conn,
                project,
                tags=tags,
                status=status,
                params=params,
                where=where,
                metric=metric,
                mode=mode,
            )

    def run(self, project: str, name: str) -> RunRecord:
        with self.reading() as conn:
            return queries.read_run(conn, project, name)

    def restarts(self, project: str, name: str) -> list[Restart]:
        with self.reading() as conn:
            return queries.restarts(conn, project, name)

    def evaluations(self, project: str, name: str) -> list[EvaluationRecord]:
        with self.reading() as conn:
            return queries.evaluations(conn, project, name)

    def children(self, project: str, name: str) -> dict[str, list[Any]]:
        """Artifacts, submissions and dataset snapshots of a run."""
        with self.reading() as conn:
            return queries.run_children(conn, writes.find_run_id(conn, project, name))

    def metric_keys(self, project: str, run: str) -> list[str]:
        with self.reading() as conn:
            return queries.metric_keys(conn, project, run)

    def history(
        self, project: str, run: str, key: str, *, all_segments: bool = False
    ) -> MetricHistory:
        """``steps, values = store.history(...)``: latest value per step unless
        ``all_segments``, which gives every point logged, segment by segment."""
        with self.reading() as conn:
            return queries.metric_history(conn, project, run, key, all_segments=all_segments)

    def histories(
        self, project: str, runs: Sequence[str], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, MetricHistory]]:
        """Run -> key -> every point (all segments, logging order) in one read; runs that do
        not exist are left out. ``history.latest()`` is the latest value per step."""
        with self.reading() as conn:
            return queries.bulk_histories(conn, project, runs, keys)

    def selected_evaluations(
        self, project: str, steps: Mapping[str, int | None]
    ) -> dict[str, dict[str, EvaluationRecord]]:
        """Run -> protocol -> the evaluation logged at ``steps[run]`` (the last one there), or
        the run's last when it has none at that step (or the step is ``None``)."""
        with self.reading() as conn:
            return queries.selected_evaluations(conn, project, steps)

    def best(self, project: str, run: str, key: str, mode: str = "max") -> BestValue:
        """``value, step = store.best(...)``: the best finite value and its (earliest) step."""
        with self.reading() as conn:
            run_id = writes.find_run_id(conn, project, run)
            found = queries.best_values(conn, [run_id], key, mode).get(run_id)
            if found is None:
                known = ", ".join(queries.metric_keys(conn, project, run)) or "none"
                raise NotFoundError(
                    f"run {run!r} has no finite value of {key!r} (metrics: {known})"
                )
            return found

    def param_diff(self, project: str, a: str, b: str) -> dict[str, tuple[Any, Any]]:
        with self.reading() as conn:
            return queries.param_diff(conn, project, a, b)

    def deltas(self, project: str, run: str, key: str, mode: str = "max") -> dict[str, Delta]:
        """Per labelled baseline: best ``key`` of the run minus the baseline's, in points."""
        with self.reading() as conn:
            return queries.run_deltas(conn, project, run, key, mode)

    # ------------------------------------------------------------------ writes

    def delete_run(self, project: str, name: str) -> None:
        with self.writing() as conn:
            writes.delete_run(conn, project, name)

    def note(
        self, project: str, name: str, *, references: Iterable[str] | None = None, **texts: str
    ) -> None:
        """Set a run's free-text fields after the fact (a conclusion written once the runs it
        was compared with have finished): purpose, method, change_kind, conclusion,
        suggestions, notes, references."""
        fields = note_fields(texts, references, caller="store.note")
        with self.writing() as conn:
            writes.update_run(conn, writes.find_run_id(conn, project, name), **fields)

    def set_tags(
        self, project: str, name: str, tags: Sequence[str], *, remove: bool = False
    ) -> None:
        with self.writing() as conn:
            writes.set_tags(conn, writes.find_run_id(conn, project, name), tags, remove=remove)
