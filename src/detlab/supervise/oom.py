"""Telling whether the kernel's OOM killer ended a process, where the machine lets us see it.

Two sources, each used when readable: the ``oom_kill`` counter of this process's memory cgroup
(``memory.events`` on cgroup v2, ``memory.oom_control`` on v1), read before and after an
attempt; and the kernel log (``/dev/kmsg``), searched for the line that names the killed pid.
Neither is readable everywhere (containers, unprivileged users); then the answer is "unknown"
and a SIGKILL is reported as such.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

__all__ = ["OOMProbe", "memory_cgroup_counter"]

_CGROUP_ROOT = Path("/sys/fs/cgroup")
_KMSG = Path("/dev/kmsg")
_KILLED = re.compile(r"Killed process (\d+)")
_KMSG_RECORD = 8192
_KMSG_MAX_RECORDS = 100_000


def memory_cgroup_counter() -> Path | None:
    """The file holding this process's cgroup ``oom_kill`` counter, if there is one."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if controllers == "":  # cgroup v2
            candidates = [_CGROUP_ROOT / rel / "memory.events", _CGROUP_ROOT / "memory.events"]
        elif "memory" in controllers.split(","):
            base = _CGROUP_ROOT / "memory"
            candidates = [base / rel / "memory.oom_control", base / "memory.oom_control"]
        else:
            continue
        for candidate in candidates:
            if _read_counter(candidate) is not None:
                return candidate
    return None


def _read_counter(path: Path) -> int | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == "oom_kill" and value.strip().isdigit():
            return int(value)
    return None


class OOMProbe:
    """Watches one attempt: :meth:`start` before launching, :meth:`check` after it ended.

    ``counter`` is the cgroup file (default: found from ``/proc/self/cgroup``; tests pass their
    own); ``kmsg`` the kernel log device (None: do not read it).
    """

    def __init__(self, counter: Path | None = None, kmsg: Path | None = _KMSG) -> None:
        self.counter = counter if counter is not None else memory_cgroup_counter()
        self.kmsg = kmsg
        self._before: int | None = None
        self._kmsg_fd: int | None = None

    def start(self) -> None:
        self._before = _read_counter(self.counter) if self.counter is not None else None
        self._close_kmsg()
        if self.kmsg is not None:
            try:
                self._kmsg_fd = os.open(self.kmsg, os.O_RDONLY | os.O_NONBLOCK)
                os.lseek(self._kmsg_fd, 0, os.SEEK_END)
            except OSError:
                self._close_kmsg()

    def check(self, pid: int) -> tuple[bool | None, str]:
        """``(killed, evidence)``: True with where it was seen, False when sources show no
        kill, None when no source could be read."""
        try:
            return self._check(pid)
        finally:
            self._close_kmsg()

    def _check(self, pid: int) -> tuple[bool | None, str]:
        seen: bool | None = None
        if self.counter is not None and self._before is not None:
            after = _read_counter(self.counter)
            if after is not None:
                if after > self._before:
                    return True, f"oom_kill {self._before} -> {after} in {self.counter}"
                seen = False
        if self._kmsg_fd is not None:
            line = self._kernel_log_line(self._kmsg_fd, pid)
            if line:
                return True, f"kernel log: {line}"
            seen = False
        return seen, ""

    @staticmethod
    def _kernel_log_line(fd: int, pid: int) -> str:
        for _ in range(_KMSG_MAX_RECORDS):
            try:
                record = os.read(fd, _KMSG_RECORD)
            except OSError as exc:
                if exc.errno == errno.EPIPE:  # records overwritten meanwhile: read on
                    continue
                break
            if not record:
                break
            text = record.decode("utf-8", "replace").split(";", 1)[-1].strip()
            found = _KILLED.search(text)
            if found and int(found.group(1)) == pid:
                return text
        return ""

    def _close_kmsg(self) -> None:
        if self._kmsg_fd is not None:
            os.close(self._kmsg_fd)
            self._kmsg_fd = None
