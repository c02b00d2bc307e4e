"""Where a run ran: command line, folder, git commit and dirty flag, host, Python and packages.

Captured once per process and folder (a sweep creating hundreds of runs asks git once), and
never by importing anything: package versions are read for modules already imported.
"""

from __future__ import annotations

import functools
import platform
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

__all__ = ["RunEnvironment", "capture_environment"]

#: Distributions whose versions matter in a detection log, recorded when already imported.
_WATCHED = {
    "detlab": "detlab",
    "numpy": "numpy",
    "torch": "torch",
    "torchvision": "torchvision",
    "ultralytics": "ultralytics",
    "mmdet": "mmdet",
    "mmengine": "mmengine",
    "mmcv": "mmcv",
    "detectron2": "detectron2",
    "lightning": "lightning",
    "pycocotools": "pycocotools",
    "timm": "timm",
}


@dataclass(frozen=True)
class RunEnvironment:
    command: str
    cwd: str
    git_commit: str | None
    git_dirty: bool | None
    host: str
    python_version: str
    packages: dict[str, str] = field(default_factory=dict)

    def as_fields(self) -> dict[str, object]:
        return {
            "command": self.command,
            "cwd": self.cwd,
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "host": self.host,
            "python_version": self.python_version,
            "packages": dict(self.packages),
        }


def capture_environment() -> RunEnvironment:
    cwd = str(Path.cwd())
    commit, dirty = _git_state(cwd)
    return RunEnvironment(
        command=shlex.join([Path(sys.executable).name, *sys.argv]),
        cwd=cwd,
        git_commit=commit,
        git_dirty=dirty,
        host=socket.gethostname(),
        python_version=platform.python_version(),
        packages=_package_versions(),
    )


def _package_versions() -> dict[str, str]:
    out = {}
    for module, dist in _WATCHED.items():
        if module in sys.modules:
            version = _version(module, dist)
            if version is not None:
                out[dist] = version
    return out


@functools.cache
def _version(module: str, dist: str) -> str | None:
    """A distribution's version (reading package metadata costs milliseconds: once each)."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        version = getattr(sys.modules[module], "__version__", None)
        return version if isinstance(version, str) else None


@functools.cache
def _git_state(cwd: str) -> tuple[str | None, bool | None]:
    """HEAD's commit and whether tracked files changed; (None, None) outside a repository."""
    commit = _git(cwd, "rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = _git(cwd, "status", "--porcelain", "--untracked-files=no")
    return commit, None if status is None else bool(status)


def _git(cwd: str, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
