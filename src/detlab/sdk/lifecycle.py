"""Runs still open when the process ends: finished at a normal exit, crashed otherwise.

``atexit`` closes every open run: ``finished`` after a normal exit, ``crashed`` when an uncaught
exception ended the program (seen through ``sys.excepthook``). SIGTERM (a scheduler's or
Kaggle's stop) writes what is queued and marks open runs ``crashed`` before the previous handler
runs; a process killed with SIGKILL cannot react, and its last interval of points is all it
loses. Handlers are installed once, on the first run, and only from the main thread.
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading
import weakref
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from detlab.sdk.run import Run

__all__ = ["register", "unregister"]

_open: weakref.WeakSet[Run] = weakref.WeakSet()
_installed = False
_uncaught: list[str] = []
_previous_sigterm: Any = None
_previous_excepthook = sys.excepthook


def register(run: Run) -> None:
    _install()
    _open.add(run)


def unregister(run: Run) -> None:
    _open.discard(run)


def _install() -> None:
    global _installed, _previous_sigterm  # noqa: PLW0603  (installed once per process)
    if _installed:
        return
    _installed = True
    atexit.register(_at_exit)
    sys.excepthook = _excepthook
    if threading.current_thread() is threading.main_thread():
        _previous_sigterm = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _on_sigterm)


def _finish_all(status: str, error: str) -> None:
    for run in list(_open):
        _finish_one(run, status, error)


def _finish_one(run: Run, status: str, error: str) -> None:
    try:
        run.finish(status, error=error)
    except Exception as exc:  # noqa: BLE001  (at exit: report it and close the other runs)
        print(f"detlab: could not close run {run.name!r}: {exc}", file=sys.stderr)  # noqa: T201


def _at_exit() -> None:
    if _uncaught:
        _finish_all("crashed", _uncaught[-1])
    else:
        _finish_all("finished", "")


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    _uncaught.append(f"{exc_type.__name__}: {exc}")
    _previous_excepthook(exc_type, exc, tb)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _finish_all("crashed", "SIGTERM")
    previous = _previous_sigterm
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_IGN:
        return
    else:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)
