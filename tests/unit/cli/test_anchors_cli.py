"""``detlab anchors`` through Typer's test runner, on an app built here with ``register()``.

The command is wired into ``detlab.cli.app`` separately; errors from the library reach the
runner as the ``DetlabError`` that ``detlab.cli.app.main`` turns into one stderr line (exit 2
for a ``ConfigError``, 1 otherwise). Malformed options are usage errors (exit 2) here already.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner, Result

from detlab.cli import anchors as anchors_cli
from detlab.data.anchors import anchor_fitness, parse_anchors, ratio_fitness
from detlab.data.formats import write_coco
from detlab.data.synthetic import make_sequential_dataset
from detlab.errors import ConfigError, InvalidInputError
from tests.unit.data.test_anchors import SHAPES, YOLO_DEFAULT, make_dataset, repeated


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(anchors_cli, "console", Console(width=200, highlight=False))
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    anchors_cli.register(app)

    @app.callback()
    def _root() -> None:
        """With one command and no callback, Typer would run it without its name."""

    return app


def run(app: typer.Typer, *args: str | Path) -> Result:
    return CliRunner().invoke(app, ["anchors", *map(str, args)], env={"COLUMNS": "400"})


@pytest.fixture
def shapes_gt(tmp_path: Path) -> Path:
    """Boxes of exactly three shapes (50, 30 and 20 of them) in one 640x480 image."""
    path = tmp_path / "shapes.json"
    write_coco(make_dataset(repeated(SHAPES, [50, 30, 20])), path)
    return path


@pytest.fixture
def gt(tmp_path: Path) -> Path:
    path = tmp_path / "gt.json"
    write_coco(make_sequential_dataset(num_sequences=2, frames_per_sequence=6), path)
    return path


def test_known_shapes_come_back_with_their_figures(
    app: typer.Typer, shapes_gt: Path, tmp_path: Path
) -> None:
    out = tmp_path / "anchors.json"
    current = "10,13, 16,30, 33,23"
    result = run(
        app, shapes_gt, "--n", "3", "--img-size", "640", "--current", current, "--json", out
    )
    assert result.exit_code == 0, result.output
    assert "anchors = 10,13,  62,45,  156,198" in result.output
    assert "- [10,13, 62,45, 156,198]  # P3/8" in result.output
    report = json.loads(out.read_text())
    assert report["dataset"] == str(shapes_gt)
    fitted = report["anchors"]
    assert fitted["anchors"] == [[10, 13], [62, 45], [156, 198]]
    assert fitted["counts"] == [50, 30, 20]
    assert fitted["metrics"]["bpr"] == 1.0
    assert fitted["metrics"]["mean_best_iou"] == 1.0
    wh = np.array(repeated(SHAPES, [50, 30, 20]))
    assert fitted["current"] == anchor_fitness(wh, parse_anchors(current)).to_dict()
    assert fitted["current_anchors"] == [[10, 13], [16, 30], [33, 23]]
    ratios = report["ratios"]
    assert ratios["current"] == ratio_fitness(wh[:, 1] / wh[:, 0], (0.5, 1.0, 2.0)).to_dict()


def test_tables_on_a_synthetic_set(app: typer.Typer, gt: Path) -> None:
    result = run(
        app, gt, "-n", "9", "--evolve", "100", "--current", YOLO_DEFAULT, "--num-ratios", "5"
    )
    assert result.exit_code == 0, result.output
    for phrase in (
        "9 anchors at image size 640",
        "mean IoU",
        "YOLOv5 model yaml:",
        "# P5/32",
        "BPR: best ratio within 4x (YOLOv5)",
        "recall: best IoU >= 0.5",
        "100 generations of evolution, fitness iou",
        "anchor_ratios (height / width)",
        "coverage: IoU >= 0.7",
        "h/w quantiles: 1%",
        "current anchors = 10,13,  16,30",
        "anchor_ratios = [",
    ):
        assert phrase in result.output, phrase
    assert "current" in result.output


def test_no_current_anchors_and_no_current_ratios(
    app: typer.Typer, gt: Path, tmp_path: Path
) -> None:
    out = tmp_path / "a.json"
    result = run(app, gt, "-n", "4", "--evolve", "0", "--current-ratios", "", "--json", out)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["anchors"]["current"] is None
    assert report["ratios"]["current"] is None
    assert "YOLOv5 model yaml" not in result.output  # 4 anchors are no set of 3 per level
    assert "current anchors =" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--current", "10,13, 16"], "hold 3 numbers; anchors are width,height pairs"),
        (["--current", "10,13, big,30"], "'big' in anchors '10,13, big,30' is not a number"),
        (["--current", "10,-13"], "is not a positive number"),
        (["--current-ratios", "0.5, 0"], "'0' in anchor ratios '0.5, 0' is not a positive"),
        (["--fitness", "map"], "'map' is not one of iou, ratio"),
        (["--format", "pascal"], "'pascal' is not one of coco, voc, yolo"),
        (["-n", "0"], "0 anchors: ask for at least 1"),
        (["--img-size", "-640"], "-640 px: give the training size"),
    ],
    ids=["odd", "word", "negative", "ratio-zero", "fitness", "format", "n0", "img0"],
)
def test_malformed_options_are_usage_errors(
    app: typer.Typer, gt: Path, args: list[str], message: str
) -> None:
    result = run(app, gt, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_more_anchors_than_box_shapes_is_a_config_error(app: typer.Typer, shapes_gt: Path) -> None:
    result = run(app, shapes_gt, "-n", "4")
    assert isinstance(result.exception, ConfigError)
    assert "cannot fit 4 anchors to 3 distinct box shapes" in str(result.exception)
    assert "ask for 3 or fewer" in str(result.exception)


def test_a_dataset_without_boxes_is_an_input_error(app: typer.Typer, tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    write_coco(make_dataset([]), path)
    result = run(app, path)
    assert isinstance(result.exception, InvalidInputError)
    assert "has no boxes to fit anchors to" in str(result.exception)
