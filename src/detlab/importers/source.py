"""``Source``: one kind of files detlab can import, as the registry lists it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from detlab.importers.model import ImportedRun

__all__ = ["Source"]


@dataclass(frozen=True)
class Source:
    """A source of runs: its name, the files it reads, and how to recognise and read them.

    ``detect(path)`` answers for one folder or file without descending into subfolders (the
    registry walks the tree); ``parse(path, **opts)`` reads every run there. Options a parser
    does not use are ignored (``gt=`` is only read by detectron2).
    """

    name: str
    description: str
    detect: Callable[[Path], bool]
    parse: Callable[..., list[ImportedRun]]

    def __str__(self) -> str:
        return f"{self.name}: {self.description}"
