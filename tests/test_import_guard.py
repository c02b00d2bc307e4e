"""``import detlab`` stays light: heavy and optional packages load only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = [
    "sqlalchemy",
    "matplotlib",
    "jinja2",
    "torch",
    "numba",
    "pandas",
    "fastapi",
    "typer",
    "PIL",
    "ultralytics",
    "mmengine",
    "lightning",
    "pytorch_lightning",
]
FRAMEWORKS = {"torch", "ultralytics", "mmengine", "lightning", "pytorch_lightning"}


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return {name.split(".")[0] for name in out.stdout.split()}


def test_import_detlab_loads_no_heavy_package() -> None:
    loaded = _loaded_after("import detlab")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert "numpy" not in loaded  # even NumPy waits for the first real call


@pytest.mark.parametrize(
    "statement",
    [
        "import detlab.core",
        "import detlab.data.formats",
        "import detlab.data.validate",
        "import detlab.metrics",
        "from detlab import read_coco",
    ],
)
def test_numeric_core_loads_no_heavy_package(statement: str) -> None:
    loaded = _loaded_after(statement)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_integrations_package_loads_no_framework() -> None:
    # the package imports no framework; ultralytics.attach imports it when called
    loaded = _loaded_after(
        "import detlab.sdk.integrations.names, detlab.sdk.integrations.ultralytics"
    )
    assert not loaded & FRAMEWORKS, loaded & FRAMEWORKS
