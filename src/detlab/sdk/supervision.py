"""The training script's side of ``detlab run``: attaching to the supervised run, and telling
the supervisor about checkpoints, non-finite losses and failures.

``detlab run`` starts the training command with two variables in its environment:
``DETLAB_RUN_ID`` (the run it created; the first ``detlab.init()`` of the process attaches to it)
and ``DETLAB_SUPERVISOR_EVENTS`` (a file of JSON lines this module appends events to). Without
them every function here does nothing, so a script behaves the same supervised or not.

>>> is_loss_key("train/loss_cls"), is_loss_key("train/box_loss"), is_loss_key("val/AP50")
(True, True, False)
"""

from __future__ import annotations

import json
import os
from typing import Any, Final

__all__ = [
    "ENV_EVENTS",
    "ENV_RUN_ID",
    "claim_run_id",
    "emit",
    "is_loss_key",
    "supervised",
]

ENV_RUN_ID: Final = "DETLAB_RUN_ID"
ENV_EVENTS: Final = "DETLAB_SUPERVISOR_EVENTS"

_claimed = False


def supervised() -> bool:
    """Whether this process runs under ``detlab run``."""
    return bool(os.environ.get(ENV_EVENTS))


def claim_run_id() -> int | None:
    """The supervised run's id for the process's first ``init()``; None afterwards or unsupervised.

    Only the first run of a process attaches: a script that starts more runs records the
    others as runs of their own.
    """
    global _claimed  # noqa: PLW0603  (one attachment per process)
    raw = os.environ.get(ENV_RUN_ID, "")
    if _claimed or not raw:
        return None
    _claimed = True
    try:
        return int(raw)
    except ValueError:
        from detlab.errors import ConfigError  # noqa: PLC0415

        raise ConfigError(f"{ENV_RUN_ID}={raw!r} is not a run id (an integer)") from None


def is_loss_key(key: str) -> bool:
    """A metric key that names a loss: its last path part contains ``loss``."""
    return "loss" in key.rsplit("/", 1)[-1].lower()


def emit(event: str, **fields: Any) -> None:
    """Append one event for the supervisor (a no-op when unsupervised).

    One ``write`` of one line on a file opened for appending: lines from several threads or
    processes never interleave.
    """
    path = os.environ.get(ENV_EVENTS)
    if not path:
        return
    line = json.dumps({"event": event, "pid": os.getpid(), **fields}, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
