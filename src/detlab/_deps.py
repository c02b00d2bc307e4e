"""Optional dependencies, imported only inside the functions that need them.

A missing package becomes a :class:`~detlab.errors.MissingDependencyError` that names the
extra to install, instead of an ``ImportError`` deep inside a call.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from detlab.errors import MissingDependencyError

__all__ = ["import_optional"]

#: Which extra provides which top-level module.
EXTRAS: dict[str, str] = {
    "matplotlib": "plots",
    "psycopg": "postgres",
    "torch": "torch",
}


def import_optional(module: str, *, extra: str | None = None, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise a :class:`MissingDependencyError` naming how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".", 1)[0]
        extra = extra or EXTRAS.get(top)
        hint = f"pip install 'detlab[{extra}]'" if extra else f"pip install {top}"
        needed = f" (needed {purpose})" if purpose else ""
        raise MissingDependencyError(f"{module} is not installed{needed}; {hint}") from exc
