"""Without its framework, each integration says which extra to install.

The frameworks are hidden with ``sys.modules[name] = None`` (importing it then raises
``ImportError``), so this holds whether or not they are installed here; the integrations
themselves are tested against the real frameworks in ``tests/integrations``.
"""

from __future__ import annotations

import importlib
import sys

import pytest

from detlab.errors import MissingDependencyError

FRAMEWORKS = {
    "mmengine": ("mmengine",),
    "lightning": ("lightning", "lightning.pytorch", "pytorch_lightning"),
    "huggingface": ("transformers",),
}
EXTRAS = {"mmengine": "mmengine", "lightning": "lightning", "huggingface": "transformers"}


def _hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def test_attach_without_ultralytics_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, "ultralytics")
    from detlab.sdk.integrations.ultralytics import attach

    with pytest.raises(MissingDependencyError, match=r"pip install 'detlab\[ultralytics\]'"):
        attach(object(), project="p")


@pytest.mark.parametrize("module", sorted(FRAMEWORKS))
def test_import_without_the_framework_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    _hide(monkeypatch, *FRAMEWORKS[module])
    monkeypatch.delitem(sys.modules, f"detlab.sdk.integrations.{module}", raising=False)
    hint = rf"pip install 'detlab\[{EXTRAS[module]}\]'"
    with pytest.raises(MissingDependencyError, match=hint):
        importlib.import_module(f"detlab.sdk.integrations.{module}")


def test_missing_dependency_is_an_import_error() -> None:
    assert issubclass(MissingDependencyError, ImportError)
