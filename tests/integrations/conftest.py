"""Settings for the integration tests: no network, and the frameworks' known warnings.

Hugging Face's libraries run offline (``HF_HUB_OFFLINE``).

Ultralytics reads ``YOLO_CONFIG_DIR`` and ``YOLO_OFFLINE`` when it is imported, so they are
set here, before any test module imports it: offline it looks nothing up, and the font its
dataset check asks for (``Arial.ttf``, otherwise downloaded) is a copy of a font Matplotlib
ships.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from detlab.store import open_store
from detlab.store.sql.store import SQLStore


def _offline_ultralytics() -> Path:
    os.environ["YOLO_OFFLINE"] = "true"
    config_dir = Path(tempfile.mkdtemp(prefix="detlab-yolo-config-"))
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    try:
        import matplotlib
    except ImportError:
        return config_dir
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    settings_dir = config_dir / "Ultralytics"  # Ultralytics' USER_CONFIG_DIR
    settings_dir.mkdir()
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        shutil.copyfile(font, settings_dir / name)
    return config_dir


_YOLO_CONFIG_DIR = _offline_ultralytics()
os.environ["HF_HUB_OFFLINE"] = "1"  # transformers: never look for anything on the hub


#: Warnings the frameworks raise from their own code with the versions CI installs; each
#: named exactly, so that anything new still fails.
FRAMEWORK_WARNINGS = (
    # Lightning's _pytree helper with torch >= 2.14
    r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning",
)


def pytest_configure(config: pytest.Config) -> None:
    for line in FRAMEWORK_WARNINGS:
        config.addinivalue_line("filterwarnings", line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_YOLO_CONFIG_DIR, ignore_errors=True)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lab.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[SQLStore]:
    opened = open_store(store_url)
    yield opened
    opened.close()
