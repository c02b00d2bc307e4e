"""Importers: training runs people already have, read from their frameworks' files.

Each source module (``mmdet2``, ``mmengine``, ``detectron2``, ``pasted``, ...) turns files into
:class:`~detlab.importers.model.ImportedRun` objects and never touches the store;
:mod:`detlab.importers.registry` lists the sources and finds runs under a path;
:mod:`detlab.importers.write` stores a run idempotently. See ``docs/importers.md``.
"""

from __future__ import annotations

from detlab.importers.model import (
    CANONICAL_METRICS,
    ImportedEvaluation,
    ImportedRestart,
    ImportedRun,
)

__all__ = ["CANONICAL_METRICS", "ImportedEvaluation", "ImportedRestart", "ImportedRun"]
