"""Figures of the per-class analysis and the error breakdown (skipped without matplotlib)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from detlab.analysis.errors import analyze_errors, confusion_matrix
from detlab.analysis.per_class import analyze_per_class
from detlab.analysis.plots_per_class import (
    plot_confusion_matrix,
    plot_error_breakdown,
    plot_per_class,
)
from detlab.errors import ConfigError, MissingDependencyError
from tests.unit.analysis.test_errors import SCENE_DETS, SCENE_GT
from tests.unit.analysis.test_per_class import APS, _dataset, _result


def _matplotlib_missing() -> bool:
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        return True
    return False


needs_matplotlib = pytest.mark.skipif(_matplotlib_missing(), reason="matplotlib is not installed")


@needs_matplotlib
@pytest.mark.parametrize("metric", ["ap", "ap50"])
def test_per_class_scatter(tmp_path: Path, metric: str) -> None:
    pytest.importorskip("scipy")
    analysis = analyze_per_class(_result(APS), _dataset())
    fig = plot_per_class(analysis, metric=metric, path=tmp_path / "per_class.png")
    assert (tmp_path / "per_class.png").stat().st_size > 0
    axes = fig.get_axes()
    assert len(axes) == 3
    assert [t.get_text() for t in axes[0].texts] == ["a", "b", "c", "d", "e"]
    assert "correlation" in axes[0].get_title()


@needs_matplotlib
def test_per_class_scatter_without_correlations(tmp_path: Path) -> None:
    result = _result(APS)
    few = type(result)(**{**result.__dict__, "per_class": result.per_class[:2]})
    fig = plot_per_class(analyze_per_class(few, _dataset()), path=tmp_path / "few.svg")
    assert "at least 3" in fig.get_axes()[0].get_title().replace("\n", " ")
    with pytest.raises(ConfigError):
        plot_per_class(analyze_per_class(few, _dataset()), metric="ar")


@needs_matplotlib
@pytest.mark.parametrize("normalize", [None, "gt", "pred"], ids=["counts", "gt", "pred"])
def test_confusion_heatmap(tmp_path: Path, normalize: str | None) -> None:
    cm = confusion_matrix(SCENE_GT, SCENE_DETS)
    fig = plot_confusion_matrix(cm, normalize=normalize, path=tmp_path / "cm.png")
    ax = fig.get_axes()[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(cm.labels)
    assert any(t.get_text() for t in ax.texts)


@needs_matplotlib
def test_error_breakdown_bars(tmp_path: Path) -> None:
    fig = plot_error_breakdown(analyze_errors(SCENE_GT, SCENE_DETS), path=tmp_path / "e.png")
    labels = [t.get_text() for t in fig.get_axes()[0].get_yticklabels()]
    assert labels[-1] == "Cls (1)"


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'detlab\[plots\]'"):
        plot_confusion_matrix(confusion_matrix(SCENE_GT, SCENE_DETS))


def test_importing_the_modules_loads_neither_matplotlib_nor_scipy() -> None:
    code = (
        "import sys, detlab.analysis.plots_per_class, detlab.analysis.per_class, "
        "detlab.analysis.errors; print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = {name.split(".")[0] for name in out.stdout.split()}
    assert not loaded & {"matplotlib", "scipy"}
