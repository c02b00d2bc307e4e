"""The public names: sorted, complete and importable."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "detlab",
    "detlab.analysis",
    "detlab.core",
    "detlab.data.formats",
    "detlab.metrics",
    "detlab.errors",
    "detlab.config",
]


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_unique(name: str) -> None:
    exported = importlib.import_module(name).__all__
    assert list(exported) == sorted(exported, key=_isort_key)
    assert len(set(exported)) == len(exported)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_resolves(name: str) -> None:
    module = importlib.import_module(name)
    for attr in module.__all__:
        assert getattr(module, attr) is not None, attr


def test_core_exports_every_public_class() -> None:
    core = importlib.import_module("detlab.core")
    public = {
        n
        for n, v in vars(core).items()
        if not n.startswith("_") and getattr(v, "__module__", "").startswith("detlab.core")
    }
    assert public <= set(core.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    detlab = importlib.import_module("detlab")
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = detlab.no_such_thing
