"""The label plots: every PNG is written, with data and without; Matplotlib stays optional."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from detlab.analysis.plots import PLOT_FILES, write_label_plots
from detlab.core import Annotations, Category, Dataset, Images
from detlab.data.synthetic import make_sequential_dataset
from detlab.errors import MissingDependencyError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_pngs(written: list[Path], out: Path) -> None:
    assert [p.name for p in written] == list(PLOT_FILES)
    for path in written:
        assert path.parent == out
        assert path.read_bytes()[:8] == PNG_SIGNATURE, path


def test_writes_every_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "plots" / "nested"
    written = write_label_plots(make_sequential_dataset(num_sequences=2), out)
    _check_pngs(written, out)


def test_writes_every_plot_for_a_dataset_without_boxes(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    ds = Dataset(Images.build([], [], [], []), (Category(1, "a"),), Annotations.empty())
    _check_pngs(write_label_plots(ds, tmp_path), tmp_path)


def test_many_classes(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    ds = make_sequential_dataset(num_sequences=1, frames_per_sequence=3)
    categories = tuple(Category(i, f"class {i}") for i in range(1, 101))
    written = write_label_plots(Dataset(ds.images, categories, ds.annotations), tmp_path)
    _check_pngs(written, tmp_path)


def test_missing_matplotlib_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'detlab\[plots\]'"):
        write_label_plots(make_sequential_dataset(num_sequences=1), tmp_path)


def test_importing_the_module_loads_no_matplotlib() -> None:
    code = "import sys, detlab.analysis.plots, detlab.cli.stats; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"
