"""The supervised run's record in the store: created before the first attempt, a restart row and
a new segment per restart, and the final status.

The training script's own ``detlab.init()`` attaches to the same run (``DETLAB_RUN_ID``); both
write through the store's transactions, so they never overwrite each other's points.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from detlab.core.runs import flatten_params
from detlab.sdk.environment import capture_environment
from detlab.store.sql import writes

if TYPE_CHECKING:
    from detlab.store.sql.store import SQLStore
    from detlab.supervise.supervisor import RestartRecord

__all__ = ["RunLedger", "sqlite_url_absolute"]

_SQLITE = "sqlite:///"


def sqlite_url_absolute(url: str) -> str:
    """A SQLite URL with an absolute path, so a child in another folder opens the same file."""
    if not url.startswith(_SQLITE) or url == _SQLITE or ":memory:" in url:
        return url
    path = url[len(_SQLITE) :]
    if path.startswith("/"):
        return url
    return _SQLITE + str(Path(path).resolve())


@dataclass
class RunLedger:
    store: SQLStore
    project: str
    name: str
    run_id: int

    @classmethod
    def create(
        cls,
        store: SQLStore,
        project: str,
        name: str,
        *,
        command: Sequence[str],
        params: Mapping[str, Any] | None,
        tags: Sequence[str],
    ) -> RunLedger:
        """A new run (its name must be free) recording the supervised command line."""
        fields = {**capture_environment().as_fields(), "command": shlex.join(command)}
        with store.writing() as conn:
            run_id = writes.create_run(
                conn,
                project,
                name,
                fields=fields,
                params=flatten_params(dict(params or {})),
                tags=[*tags, "supervised"],
                baselines={},
            )
        return cls(store, project, name, run_id)

    def log_artifact(self, path: Path, *, kind: str) -> None:
        with self.store.writing() as conn:
            writes.add_artifact(
                conn, self.run_id, uri=path.resolve().as_uri(), kind=kind, size=None, sha256=None
            )

    def last_step(self) -> int | None:
        """The last step the run logged in its current segment (None: none yet)."""
        with self.store.reading() as conn:
            return writes.segment_last_step(conn, self.run_id)

    def add_restart(self, record: RestartRecord) -> None:
        """A restart row, and a new segment for the points the next attempt logs."""
        with self.store.writing() as conn:
            _, _, segment, _ = writes.attach_state(conn, self.run_id)
            writes.add_restart(
                conn,
                self.run_id,
                epoch=record.epoch,
                loaded_epoch=record.loaded_epoch,
                seed=record.seed,
                reason=record.reason,
                detail=record.detail,
                segment=segment + 1,
            )
            writes.update_run(
                conn, self.run_id, segment=segment + 1, status="running", ended=None, error=""
            )

    def early_stop(self, step: int | None) -> None:
        with self.store.writing() as conn:
            writes.update_run(conn, self.run_id, early_stop_step=step)

    def finish(self, status: str, *, error: str) -> str:
        """Close the run; an ``early_stopped`` set by the script itself is kept."""
        with self.store.writing() as conn:
            if status == "finished" and writes.run_status(conn, self.run_id) == "early_stopped":
                status = "early_stopped"
            writes.update_run(
                conn, self.run_id, status=status, ended=datetime.now(timezone.utc), error=error
            )
        return status
