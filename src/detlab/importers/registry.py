"""Every source detlab imports from, and autodetection over a path.

:data:`SOURCES` is checked in order and the first source that recognises a folder wins, so
specific layouts come first and generic ones (TensorBoard event files, which detectron2 and
mmengine folders also hold; pasted text) last. Adding a source is one import and one entry.

A path may hold many runs (``work_dirs/`` with one folder per experiment): folders are searched
down to :data:`MAX_DEPTH` levels, and a folder recognised as a run is not searched further.

>>> [s.name for s in SOURCES][:2]
['mmengine', 'mmdet2']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detlab.errors import ConfigError, InvalidInputError
from detlab.importers import (
    detectron2,
    mmdet2,
    mmengine,
    pasted,
    tensorboard,
    ultralytics,
    yolov5,
)
from detlab.importers.model import ImportedRun
from detlab.importers.source import Source

__all__ = ["MAX_DEPTH", "SOURCES", "discover", "find_source", "formats_help", "parse_path"]

SOURCES: tuple[Source, ...] = (
    mmengine.SOURCE,
    mmdet2.SOURCE,
    detectron2.SOURCE,
    ultralytics.SOURCE,
    yolov5.SOURCE,
    tensorboard.SOURCE,
    pasted.SOURCE,
)

#: how deep below the given folder run folders are looked for
MAX_DEPTH = 4
#: folders never searched (checkpoints, caches, environments)
_SKIP_DIRS = frozenset(
    {".git", "__pycache__", ".venv", "node_modules", "wandb", ".ipynb_checkpoints"}
)


def find_source(name: str) -> Source:
    """The source called ``name``; a :class:`ConfigError` lists the known names."""
    for source in SOURCES:
        if source.name == name:
            return source
    known = ", ".join(s.name for s in SOURCES)
    raise ConfigError(f"unknown source {name!r}; detlab imports from: {known}")


def formats_help() -> str:
    """One line per source: its name and the files it reads."""
    return "\n".join(f"  - {source}" for source in SOURCES)


def _recognise(path: Path, sources: tuple[Source, ...]) -> Source | None:
    for source in sources:
        if source.detect(path):
            return source
    return None


def discover(path: Path, *, source: str | None = None) -> list[tuple[Source, Path]]:
    """Every run folder (or file) under ``path`` with the source that reads it.

    :class:`InvalidInputError` when nothing is recognised, listing every format detlab reads.
    """
    sources = (find_source(source),) if source else SOURCES
    if path != pasted.STDIN and not path.exists():
        raise InvalidInputError(f"{path}: no such file or folder")
    found = _walk(path, sources, 0)
    if not found:
        wanted = f"as {source} files" if source else "in any format detlab imports"
        listed = "; ".join(f"{s.name} ({s.description})" for s in SOURCES)
        raise InvalidInputError(
            f"{path}: no training run found {wanted} (searched {MAX_DEPTH} folder levels "
            f"down). detlab imports: {listed}"
        )
    return found


def _walk(path: Path, sources: tuple[Source, ...], depth: int) -> list[tuple[Source, Path]]:
    recognised = _recognise(path, sources)
    if recognised is not None:
        return [(recognised, path)]
    if not path.is_dir() or depth >= MAX_DEPTH:
        return []
    found: list[tuple[Source, Path]] = []
    for child in sorted(path.iterdir()):
        if child.is_dir() and child.name not in _SKIP_DIRS:
            found.extend(_walk(child, sources, depth + 1))
    return found


def parse_path(path: Path, *, source: str | None = None, **opts: Any) -> list[ImportedRun]:
    """Every run under ``path``, parsed (nothing is written anywhere)."""
    runs: list[ImportedRun] = []
    for found, where in discover(path, source=source):
        runs.extend(found.parse(where, **opts))
    return runs
