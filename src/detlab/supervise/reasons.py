"""Why a training process ended abnormally, from what the supervisor saw of it.

The reasons are the restart vocabulary of :data:`detlab.core.runs.RESTART_REASONS`. What is
looked at, most specific first: a failure the script reported through the SDK (a non-finite
loss, ``run.fail(...)``), the supervisor's own time limit, the kernel's OOM killer, the last
lines the process printed (CUDA and memory errors, frameworks' NaN-loss messages), and the
signal that ended it.

>>> end = AttemptEnd(returncode=1, stderr_tail=("RuntimeError: CUDA out of memory. Tried",))
>>> classify(end)
Verdict(reason='gpu_oom', detail='RuntimeError: CUDA out of memory. Tried')
>>> classify(AttemptEnd(returncode=-15)).reason
'preempted'
>>> classify(AttemptEnd(returncode=0)) is None
True
"""

from __future__ import annotations

import re
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["AttemptEnd", "Verdict", "classify", "signal_of"]

#: Printed text that names a cause, checked in this order (a CUDA OOM is also a "CUDA error").
_PATTERNS: Final = (
    (
        "gpu_oom",
        re.compile(
            r"CUDA out of memory|OutOfMemoryError: CUDA|CUDA error: out of memory"
            r"|CUBLAS_STATUS_ALLOC_FAILED|HIP out of memory|MPS backend out of memory"
        ),
    ),
    (
        "cuda_error",
        re.compile(
            r"CUDA error|cuDNN error|CUDNN_STATUS_|CUBLAS_STATUS_|device-side assert"
            r"|illegal memory access|NCCL error|CUDA kernel errors|cudaError"
        ),
    ),
    (
        "oom",
        re.compile(
            r"\bMemoryError\b|DefaultCPUAllocator: (?:can't allocate|not enough) memory"
            r"|Cannot allocate memory|std::bad_alloc"
        ),
    ),
    (
        "nan",
        re.compile(
            r"(?i)loss (?:is|became|become|becomes) (?:infinite or )?(?:nan|inf)\b"
            r"|non-finite loss"
        ),
    ),
)

#: Exit statuses a shell reports for a child killed by a signal (128 + number).
_SHELL_SIGNAL_BASE: Final = 128
_DETAIL_LINES: Final = 10
_DETAIL_CHARS: Final = 2000


@dataclass(frozen=True)
class AttemptEnd:
    """What the supervisor saw when one attempt of the command ended.

    ``returncode`` as :mod:`subprocess` gives it (negative: killed by that signal);
    ``failure`` the SDK's event (``{"event": "nan", "key": ..., "step": ...}`` or
    ``{"event": "fail", "reason": ...}``); ``oom_killed`` whether the kernel's OOM killer
    took the process (None: it could not be told).
    """

    returncode: int
    stderr_tail: Sequence[str] = ()
    stdout_tail: Sequence[str] = ()
    failure: Mapping[str, Any] | None = None
    timed_out: bool = False
    time_limit: float | None = None
    oom_killed: bool | None = None
    oom_evidence: str = ""
    stopped_by_supervisor: bool = False


@dataclass(frozen=True)
class Verdict:
    """The reason (one of ``RESTART_REASONS``) and a human detail for the restart table."""

    reason: str
    detail: str


def signal_of(returncode: int) -> signal.Signals | None:
    """The signal that ended a process, from ``subprocess``'s or a shell's exit status."""
    number = -returncode if returncode < 0 else returncode - _SHELL_SIGNAL_BASE
    if returncode > _SHELL_SIGNAL_BASE or returncode < 0:
        try:
            return signal.Signals(number)
        except ValueError:
            return None
    return None


def classify(end: AttemptEnd) -> Verdict | None:
    """The reason the attempt failed, or None when it ended normally."""
    if end.failure is not None:
        return _reported(end.failure)
    if end.timed_out:
        limit = f" of {end.time_limit:g} s" if end.time_limit is not None else ""
        return Verdict("time_limit", f"stopped at the time limit{limit} (--time-limit)")
    if end.returncode == 0:
        return None
    if end.oom_killed:
        return Verdict("oom", f"killed by the kernel's OOM killer ({end.oom_evidence})")
    printed = _from_text([*end.stdout_tail, *end.stderr_tail])
    if printed is not None:
        return printed
    return _from_status(end)


def _reported(event: Mapping[str, Any]) -> Verdict:
    if event.get("event") == "nan":
        return Verdict(
            "nan", f"{event.get('key')} = {event.get('value', 'nan')} at step {event.get('step')}"
        )
    reason = str(event.get("reason") or "unknown")
    detail = str(event.get("detail") or "")
    return Verdict(reason, detail or "reported by the training script (run.fail)")


def _from_text(lines: Sequence[str]) -> Verdict | None:
    for reason, pattern in _PATTERNS:
        for line in reversed(lines):
            if pattern.search(line):
                return Verdict(reason, line.strip()[:_DETAIL_CHARS])
    return None


def _from_status(end: AttemptEnd) -> Verdict:
    sig = signal_of(end.returncode)
    tail = _tail(end.stderr_tail)
    if sig is signal.SIGKILL:
        why = end.oom_evidence or "no OOM-killer event found"
        return Verdict("unknown", _joined(f"killed by SIGKILL ({why})", tail))
    if sig is signal.SIGTERM and not end.stopped_by_supervisor:
        return Verdict("preempted", _joined("terminated by SIGTERM from outside", tail))
    if sig is signal.SIGINT and not end.stopped_by_supervisor:
        return Verdict("manual", _joined("interrupted by SIGINT", tail))
    if sig is not None:
        return Verdict("unknown", _joined(f"killed by {sig.name}", tail))
    return Verdict("unknown", _joined(f"exit status {end.returncode}", tail))


def _tail(lines: Sequence[str]) -> str:
    kept = [line.rstrip() for line in lines if line.strip()][-_DETAIL_LINES:]
    return "\n".join(kept)[-_DETAIL_CHARS:]


def _joined(head: str, tail: str) -> str:
    return f"{head}; last lines:\n{tail}" if tail else head
