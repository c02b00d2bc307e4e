"""Importing a framework in a test module: skipped locally when missing, a failure in CI.

``make test`` runs ``tests/integrations`` in ``.venv-frameworks`` (``make test-frameworks``),
where every framework is installed; there (``CI=true``) a missing one fails the run instead of
skipping it silently.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def require(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(
            f"{module} is not installed here; `make test-frameworks` runs these tests",
            allow_module_level=True,
        )
