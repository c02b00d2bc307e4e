"""What the integrations share: importing a framework, plain parameters, per-class tables."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from detlab._deps import import_optional

if TYPE_CHECKING:
    from detlab.sdk.run import Run

__all__ = ["PerClassTable", "finish_from_exception", "plain_params", "require"]

_SCALARS = (bool, int, float, str, type(None))


def require(module: str, extra: str) -> ModuleType:
    """Import a framework or raise ``MissingDependencyError`` naming ``detlab[extra]``."""
    return import_optional(module, extra=extra, purpose=f"by detlab's {extra} integration")


def plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A framework's settings as values the store keeps (paths, devices... become text)."""
    return {str(k): _plain(v) for k, v in params.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return plain_params(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Path):
        return str(value)
    return str(value)


def finish_from_exception(run: Run) -> None:
    """Close ``run`` from a ``finally`` block: failed on an error, crashed on an interrupt."""
    exc = sys.exc_info()[1]
    if exc is None:
        run.finish()
    elif isinstance(exc, KeyboardInterrupt):
        run.finish("crashed", error="KeyboardInterrupt")
    else:
        run.finish("failed", error=f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class PerClassTable:
    """A framework's own per-class results, stored with ``run.log_evaluation`` as they are.

    ``rows`` hold ``name`` and the framework's numbers under detlab's per-class keys where
    they exist (``ap``, ``ap50``, ``ap75``, ``num_gt``; fractions in [0, 1]) and its own names
    otherwise (``precision``, ``recall``, ``num_images``). Nothing is logged as points.
    """

    source: str
    rows: Sequence[Mapping[str, Any]]
    summary: Mapping[str, float] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "detlab.per_class_table_result",
            "version": 1,
            "source": self.source,
            "per_class": [dict(r) for r in self.rows],
            "summary": dict(self.summary),
            "note": self.note,
        }
