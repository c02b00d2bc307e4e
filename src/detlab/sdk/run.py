"""``Run``: one experiment being recorded, and ``init`` that starts or resumes it.

>>> import detlab, tempfile, os
>>> url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "lab.db")
>>> with detlab.init(project="voc-yolo", name="baseline", params={"lr": 0.01}, store=url) as run:
...     for epoch in range(3):
...         run.log({"train/loss": 1.0 / (epoch + 1), "val/AP50": 0.2 * epoch}, step=epoch)
>>> value, step = detlab.open_store(url).best("voc-yolo", "baseline", "val/AP50")
>>> round(value, 2), step
(0.4, 2)
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from detlab.core.runs import (
    RESTART_REASONS,
    RUN_STATUSES,
    encode_value,
    flatten_params,
    note_fields,
)
from detlab.errors import InvalidInputError, RunStateError
from detlab.sdk import lifecycle, supervision
from detlab.sdk.environment import capture_environment
from detlab.sdk.params import params_to_dict
from detlab.sdk.writer import DEFAULT_INTERVAL_S, MetricWriter
from detlab.store.sql import writes
from detlab.store.sql.store import SQLStore
from detlab.store.sql.writes import MetricBatchRow

__all__ = ["Run"]


class Run:
    """A run being recorded. Create it with :func:`detlab.init`, never directly."""

    def __init__(
        self,
        store: SQLStore,
        project: str,
        name: str,
        run_id: int,
        *,
        segment: int,
        next_step: int,
        flush_interval: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self.store = store
        self.project = project
        self.name = name
        self.id = run_id
        self.segment = segment
        self.status = "running"
        self._next_step = next_step
        self._segment_points = False
        self._writer = MetricWriter(self._write_batch, interval=flush_interval)
        lifecycle.register(self)

    def __repr__(self) -> str:
        return f"Run(project={self.project!r}, name={self.name!r}, status={self.status!r})"

    # ------------------------------------------------------------------ metrics

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Queue metric values at ``step`` (default: one past the last step logged).

        Values are numbers (NumPy and 0-d tensor scalars too); NaN and infinities are kept
        and flagged. Nothing touches the database here: a background thread writes.
        """
        self._check_open()
        if step is None:
            step = self._next_step
        elif not isinstance(step, int) or isinstance(step, bool) or step < 0:
            step = _as_step(step)
        self._next_step = max(self._next_step, step + 1)
        now, run_id, segment = time.time(), self.id, self.segment
        rows: list[MetricBatchRow] = []
        for key, raw in metrics.items():
            value = raw if type(raw) is float else _as_float(key, raw)
            if value - value == 0.0:  # finite: the common case, without a call
                rows.append((run_id, key, step, value, 0, segment, now))
            else:
                rows.append((run_id, key, step, *encode_value(value), segment, now))
                if supervision.is_loss_key(key):
                    supervision.emit("nan", key=key, step=step, value=repr(value))
        self._writer.append(rows)
        self._segment_points = True

    def _write_batch(self, rows: Sequence[MetricBatchRow]) -> None:
        with self.store.writing() as conn:
            writes.insert_metrics(conn, rows)
            writes.update_run(conn, self.id, heartbeat=datetime.now(timezone.utc))

    def flush(self) -> None:
        """Write every queued point now."""
        self._writer.flush()

    def log_evaluation(self, result: Any, step: int | None = None, *, prefix: str = "val/") -> None:
        """Store an evaluator's result (``COCOResult``, ``VOCResult``) and log its numbers.

        Analyses with a ``to_dict()`` (``analyze_per_class(...)``, ``analyze_errors(...)``) are
        stored the same way, under their own protocol, for the report; they log no points.
        COCO logs ``<prefix>AP``, ``AP50``, ... ``ARl`` (undefined -1 values become NaN);
        VOC logs ``<prefix>mAP`` and ``<prefix>AP/<class>``. The full result is kept as data.
        """
        self._check_open()
        data = result.to_dict()
        protocol = (
            str(data.get("format", "unknown")).removeprefix("detlab.").removesuffix("_result")
        )
        numbers: dict[str, float] = {}
        if protocol == "coco":
            numbers = {k: (math.nan if v == -1 else v) for k, v in result.metrics().items()}
        elif protocol == "voc":
            numbers = {"mAP": result.map, **{f"AP/{k}": v for k, v in result.ap.items()}}
        step = self._next_step if step is None else _as_step(step)
        if numbers:
            self.log({f"{prefix}{k}": v for k, v in numbers.items()}, step=step)
        with self.store.writing() as conn:
            writes.add_evaluation(
                conn,
                self.id,
                step=step,
                protocol=protocol,
                prefix=prefix,
                data=data,
                segment=self.segment,
            )

    # ------------------------------------------------------------------ the run's record

    def log_params(self, params: Any) -> None:
        """Add or replace parameters (nested dicts become dotted keys)."""
        with self.store.writing() as conn:
            writes.set_params(conn, self.id, params_to_dict(params))

    def restart(
        self,
        *,
        epoch: int | None = None,
        loaded_epoch: int | None = None,
        seed: int | None = None,
        reason: str = "unknown",
        detail: str = "",
    ) -> None:
        """Record a restart; points logged from now on belong to a new segment.

        Right after ``init(..., resume=True)`` (which opens a segment) no second one is opened.
        """
        self._check_open()
        self._writer.flush()
        segment = self.segment + 1 if self._segment_points else self.segment
        with self.store.writing() as conn:
            writes.add_restart(
                conn,
                self.id,
                epoch=epoch,
                loaded_epoch=loaded_epoch,
                seed=seed,
                reason=reason,
                detail=detail,
                segment=segment,
            )
            writes.update_run(conn, self.id, segment=segment)
        self.segment, self._segment_points = segment, False

    def note(self, *, references: Iterable[str] | None = None, **texts: str) -> None:
        """Set free-text fields: purpose, method, change_kind, conclusion, suggestions, notes."""
        fields = note_fields(texts, references, caller="run.note")
        with self.store.writing() as conn:
            writes.update_run(conn, self.id, **fields)

    def tag(self, *tags: str, remove: bool = False) -> None:
        with self.store.writing() as conn:
            writes.set_tags(conn, self.id, tags, remove=remove)

    def submit(self, board: str, score: float, *, note: str = "") -> None:
        """Record a leaderboard score (public or private board, competition name...)."""
        with self.store.writing() as conn:
            writes.add_submission(conn, self.id, board=board, score=float(score), note=note)

    def log_artifact(self, path_or_uri: str | Path, *, kind: str = "", digest: bool = True) -> None:
        """Record a file (checkpoint, predictions, plot) by URI, with size and sha256 if local.

        ``digest=False`` skips the sha256 (a multi-gigabyte checkpoint every epoch).
        """
        path = Path(path_or_uri)
        size = sha = None
        uri = str(path_or_uri)
        if path.is_file():
            size, uri = path.stat().st_size, path.resolve().as_uri()
            sha = _sha256(path) if digest else None
        with self.store.writing() as conn:
            writes.add_artifact(conn, self.id, uri=uri, kind=kind, size=size, sha256=sha)

    def log_checkpoint(self, path: str | Path, epoch: int) -> None:
        """Register the checkpoint saved after ``epoch``: ``detlab run`` resumes from the newest.

        Recorded as an artifact of kind ``checkpoint`` (size, no digest); call it once the file
        is completely written. Queued points are written first, so a training resumed from this
        checkpoint leaves no gap in the history, even after a SIGKILL.
        """
        self._check_open()
        self._writer.flush()
        epoch = _as_step(epoch)
        resolved = Path(path).resolve()
        if not resolved.is_file():
            raise InvalidInputError(
                f"run.log_checkpoint: {str(path)!r} (epoch {epoch}) is not a file; "
                "call it after the checkpoint is saved"
            )
        self.log_artifact(resolved, kind="checkpoint", digest=False)
        supervision.emit("checkpoint", path=str(resolved), epoch=epoch)

    def log_dataset(self, stats: Any, *, name: str, role: str = "train") -> None:
        """Link a dataset's statistics to this run: ``dataset_stats(ds)`` or its ``to_dict()``.

        A split (``split_dataset(...)``: its strategy, fractions and distribution table) is stored
        the same way, under the role ``"split"`` by convention.
        The same statistics are kept once per project (by fingerprint) however many runs link
        them.
        """
        import orjson  # noqa: PLC0415  (already loaded by the store)

        if hasattr(stats, "to_dict"):
            stats = stats.to_dict()
        if not isinstance(stats, Mapping):
            raise InvalidInputError(
                f"log_dataset({name!r}): expected dataset statistics (a mapping or an object with"
                f" to_dict()), got {type(stats).__name__}"
            )
        blob = orjson.dumps(dict(stats), option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY)
        fingerprint = hashlib.sha256(blob).hexdigest()
        with self.store.writing() as conn:
            writes.link_dataset(
                conn, self.id, name=name, fingerprint=fingerprint, stats=stats, role=role
            )

    # ------------------------------------------------------------------ ending

    def fail(self, reason: str = "unknown", detail: str = "") -> None:
        """End the run as ``failed`` for ``reason`` (a restart reason such as ``"nan"``).

        Under ``detlab run`` the supervisor records the reason and restarts the training from
        its newest checkpoint (or stops it early, with ``--on-nan stop``).
        """
        if reason not in RESTART_REASONS:
            raise InvalidInputError(
                f"run.fail(reason={reason!r}): use one of {', '.join(RESTART_REASONS)}"
            )
        self._check_open()
        self._writer.flush()
        supervision.emit("fail", reason=reason, detail=detail, step=self._next_step)
        self.finish("failed", error=f"{reason}: {detail}" if detail else reason)

    def early_stop(self, step: int, *, reason: str = "") -> None:
        """Training stopped early at ``step``: record it and finish as ``early_stopped``."""
        with self.store.writing() as conn:
            writes.update_run(conn, self.id, early_stop_step=_as_step(step))
        if reason:
            self.note(notes=reason)
        self.finish(status="early_stopped")

    def finish(self, status: str = "finished", *, error: str = "") -> None:
        """Write what is queued and close the run (idempotent)."""
        if self.status != "running":
            return
        if status not in RUN_STATUSES or status == "running":
            raise InvalidInputError(
                f"finish(status={status!r}): use one of {', '.join(RUN_STATUSES[1:])}"
            )
        lifecycle.unregister(self)
        try:
            self._writer.close()
        finally:
            self.status = status
            with self.store.writing() as conn:
                writes.update_run(
                    conn, self.id, status=status, ended=datetime.now(timezone.utc), error=error
                )

    def _check_open(self) -> None:
        if self.status != "running":
            raise RunStateError(
                f"run {self.name!r} is {self.status}; resume it with "
                f"detlab.init(project={self.project!r}, name={self.name!r}, resume=True)"
            )

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.finish()
        elif isinstance(exc, KeyboardInterrupt):
            self.finish("crashed", error="KeyboardInterrupt")
        else:
            self.finish("failed", error=f"{type(exc).__name__}: {exc}")


def _as_float(key: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"run.log: metric {key!r} has value {value!r} ({type(value).__name__}), not a number"
        ) from exc


def _as_step(step: Any) -> int:
    try:
        as_int = int(step)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"step must be an integer, got {step!r}") from exc
    if as_int != step or as_int < 0:
        raise InvalidInputError(f"step must be a non-negative integer, got {step!r}")
    return as_int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _generated_name() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def start_run(
    store: SQLStore,
    *,
    project: str,
    name: str | None,
    params: Any,
    parent: str | None,
    baselines: Mapping[str, str] | None,
    tags: Sequence[str],
    resume: bool,
    texts: Mapping[str, str],
    references: Sequence[str],
    flush_interval: float,
) -> Run:
    """Create the run (or reopen it with ``resume``) and hand back a live :class:`Run`."""
    flat = flatten_params(params_to_dict(params))
    supervised_id = supervision.claim_run_id()
    if supervised_id is not None:
        return _attach_run(
            store,
            supervised_id,
            params=flat,
            links={"parent": parent, **{k: v for k, v in texts.items() if v}},
            baselines=baselines,
            tags=tags,
            flush_interval=flush_interval,
        )
    name = name or _generated_name()
    with store.writing() as conn:
        existing = writes.resume_state(conn, project, name) if resume else None
        if existing is None:
            fields = {
                **capture_environment().as_fields(),
                **{k: str(v) for k, v in texts.items()},
                "parent": parent,
                "references": list(references),
            }
            run_id = writes.create_run(
                conn,
                project,
                name,
                fields=fields,
                params=flat,
                tags=tags,
                baselines=dict(baselines or {}),
            )
            segment, next_step = 0, 0
        else:
            run_id, segment, next_step = existing
            segment += 1
            writes.update_run(conn, run_id, status="running", ended=None, error="", segment=segment)
            writes.set_params(conn, run_id, flat)
            writes.set_tags(conn, run_id, tags)
    return Run(
        store,
        project,
        name,
        run_id,
        segment=segment,
        next_step=next_step,
        flush_interval=flush_interval,
    )


def _attach_run(
    store: SQLStore,
    run_id: int,
    *,
    params: Mapping[str, Any],
    links: Mapping[str, Any],
    baselines: Mapping[str, str] | None,
    tags: Sequence[str],
    flush_interval: float,
) -> Run:
    """Attach to the run ``detlab run`` created: its name, project and segment win.

    The supervisor opens a segment at each restart, so attaching opens none; the script's
    parameters, links and package versions are recorded, the supervisor's command line kept.
    """
    env = capture_environment()
    fields = {k: v for k, v in links.items() if v is not None}
    with store.writing() as conn:
        project, name, segment, next_step = writes.attach_state(conn, run_id)
        writes.update_run(
            conn, run_id, status="running", ended=None, error="", packages=env.packages, **fields
        )
        writes.set_params(conn, run_id, params)
        writes.set_tags(conn, run_id, tags)
        if baselines:
            writes.set_baselines(conn, run_id, baselines)
    return Run(
        store,
        project,
        name,
        run_id,
        segment=segment,
        next_step=next_step,
        flush_interval=flush_interval,
    )
