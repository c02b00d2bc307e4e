"""Finding the checkpoint to resume from: the newest usable one.

Candidates come from the ``--checkpoints`` glob and from ``run.log_checkpoint(path, epoch)``
calls (the epoch given there wins over one read from the file name). Usable means: still there,
not empty, a complete zip archive when it is one (PyTorch's and NumPy's ``.npz`` formats are;
a process killed while saving leaves a truncated one), and, after a non-finite loss, saved for
an epoch before the one that went NaN.

>>> epoch_from_name(Path("work_dirs/r18/epoch_12.pth")), epoch_from_name(Path("last.pt"))
(12, None)
"""

from __future__ import annotations

import glob
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Checkpoint", "epoch_from_name", "find_checkpoints", "newest_usable"]

_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")
_ZIP_MAGIC = b"PK"


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    epoch: int | None
    mtime_ns: int


def epoch_from_name(path: Path) -> int | None:
    """The last number in the file's name (``epoch_7.pth`` -> 7), if any."""
    found = _LAST_NUMBER.search(path.stem)
    return int(found.group(1)) if found else None


def find_checkpoints(
    pattern: str | None, registered: Iterable[tuple[str, int]]
) -> list[Checkpoint]:
    """Every candidate, from the glob (relative to the current folder) and the SDK's list."""
    epochs: dict[Path, int | None] = {}
    if pattern:
        for name in glob.glob(pattern, recursive=True):  # noqa: PTH207  (a user's glob string)
            path = Path(name).resolve()
            epochs[path] = epoch_from_name(path)
    for name, registered_epoch in registered:
        epochs[Path(name).resolve()] = registered_epoch
    found = []
    for path, epoch in epochs.items():
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.is_file():
            found.append(Checkpoint(path, epoch, stat.st_mtime_ns))
    return found


def newest_usable(
    candidates: Iterable[Checkpoint], *, before_epoch: int | None = None
) -> Checkpoint | None:
    """The newest usable checkpoint: highest epoch, then latest written."""
    usable = [c for c in candidates if _complete(c.path) and _before(c, before_epoch)]
    if not usable:
        return None
    return max(usable, key=lambda c: (c.epoch if c.epoch is not None else -1, c.mtime_ns))


def _before(checkpoint: Checkpoint, epoch: int | None) -> bool:
    return epoch is None or checkpoint.epoch is None or checkpoint.epoch < epoch


def _complete(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            magic = handle.read(2)
    except OSError:
        return False
    if not magic:
        return False
    if magic != _ZIP_MAGIC:
        return True
    try:
        with zipfile.ZipFile(path) as archive:
            archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return False
    return True
