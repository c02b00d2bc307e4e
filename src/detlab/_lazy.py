"""Names a package exports but imports only when first used (PEP 562 ``__getattr__``).

>>> __getattr__, __dir__ = lazy_exports("detlab.example", {"x": "json"}, ["x"])  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, lazy: Mapping[str, str], names: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``lazy`` maps a name to its module.

    A resolved name is stored in the package's namespace, so it is looked up once.
    """

    def __getattr__(name: str) -> Any:  # noqa: N807  (the module hook's own name)
        module = lazy.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(names)

    return __getattr__, __dir__
