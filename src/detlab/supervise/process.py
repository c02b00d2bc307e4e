"""One attempt of the training command as a child process, its output streamed through.

The child runs in a session of its own, so that stopping it reaches its data-loader workers
too, and so that a terminal's Ctrl-C reaches the supervisor first, which forwards it. Output is
read in chunks, not lines, so progress bars that redraw with ``\\r`` stay live; it is echoed,
appended to the log file, and its last lines kept for telling why the process ended.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, cast

__all__ = ["Child"]

_CHUNK = 65536
_TAIL_LINES = 200
_JOIN_TIMEOUT_S = 5.0


class _Stream:
    """Copies one pipe to an echo target and the log, keeping its last lines."""

    def __init__(
        self, pipe: BinaryIO, echo: BinaryIO | None, log: BinaryIO, lock: threading.Lock
    ) -> None:
        self.tail: deque[str] = deque(maxlen=_TAIL_LINES)
        self._partial = b""
        self._pipe, self._echo, self._log, self._lock = pipe, echo, log, lock
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        read = self._pipe.read1 if hasattr(self._pipe, "read1") else self._pipe.read
        while chunk := read(_CHUNK):
            self._write(chunk)
            self._keep(chunk)
        if self._partial:
            self.tail.append(self._partial.decode("utf-8", "replace"))
        self._pipe.close()

    def _write(self, chunk: bytes) -> None:
        with self._lock:
            self._log.write(chunk)
            self._log.flush()
        if self._echo is not None:
            with contextlib.suppress(OSError, ValueError):  # a closed terminal ends the echo only
                self._echo.write(chunk)
                self._echo.flush()

    def _keep(self, chunk: bytes) -> None:
        *complete, self._partial = (self._partial + chunk).replace(b"\r", b"\n").split(b"\n")
        self.tail.extend(line.decode("utf-8", "replace") for line in complete if line.strip())


class Child:
    """The running command. ``poll()`` like :class:`subprocess.Popen`; ``stop()`` ends it."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None,
        log: BinaryIO,
        echo: bool,
    ) -> None:
        self.argv = list(argv)
        self.process = subprocess.Popen(
            self.argv,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        lock = threading.Lock()
        stdout = sys.stdout.buffer if echo else None
        stderr = sys.stderr.buffer if echo else None
        # both pipes exist: stdout and stderr were asked for as PIPE above
        self._out = _Stream(cast("BinaryIO", self.process.stdout), stdout, log, lock)
        self._err = _Stream(cast("BinaryIO", self.process.stderr), stderr, log, lock)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stdout_tail(self) -> list[str]:
        return list(self._out.tail)

    @property
    def stderr_tail(self) -> list[str]:
        return list(self._err.tail)

    def poll(self) -> int | None:
        return self.process.poll()

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the child's whole process group (gone already: nothing to do)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def stop(self, grace_s: float) -> None:
        """SIGTERM, then SIGKILL after ``grace_s`` seconds: the SDK flushes on SIGTERM."""
        if self.process.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait()

    def wait(self) -> int:
        """Wait for the end and for the output to be copied; the exit status."""
        code = self.process.wait()
        for stream in (self._out, self._err):
            stream.thread.join(_JOIN_TIMEOUT_S)
        return code
