"""``detlab stats`` through Typer's test runner, on an app built here with ``register()``.

The command is wired into ``detlab.cli.app`` separately; errors reach the runner as the
``DetlabError`` that ``detlab.cli.app.main`` turns into one stderr line and exit 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner, Result

from detlab.cli import stats as stats_cli
from detlab.core import Annotations, Category, Dataset, Images
from detlab.data.formats import write_coco
from detlab.data.synthetic import make_sequential_dataset
from detlab.errors import InvalidInputError


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(stats_cli, "console", Console(width=200, highlight=False))
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    stats_cli.register(app)

    @app.callback()
    def _root() -> None:
        """With one command and no callback, Typer would run it without its name."""

    return app


def run(app: typer.Typer, *args: str | Path) -> Result:
    return CliRunner().invoke(app, ["stats", *map(str, args)])


@pytest.fixture
def gt(tmp_path: Path) -> Path:
    path = tmp_path / "gt.json"
    write_coco(make_sequential_dataset(num_sequences=2, frames_per_sequence=5), path)
    return path


def test_tables_and_json(app: typer.Typer, gt: Path, tmp_path: Path) -> None:
    out = tmp_path / "stats.json"
    result = run(app, gt, "--json", out)
    assert result.exit_code == 0, result.output
    for heading in ("Per class", "Image sizes", "Problems", "boxes per image", "echinus"):
        assert heading in result.output
    report = json.loads(out.read_text())
    assert (report["dataset"], report["split_file"]) == (str(gt), None)
    assert report["num_images"] == 10
    assert report["num_boxes"] == sum(c["count"] for c in report["per_class"])
    first = report["per_class"][0]
    assert {"id", "name", "count", "area_median", "aspect_ratio_median"} <= set(first)
    assert "320 x 240" in result.output


def test_problems_in_a_file(app: typer.Typer, tmp_path: Path) -> None:
    images = Images.build([1, 2], ["a.jpg", "b.jpg"], [100, 100], [80, 80])
    annotations = Annotations.build(
        ids=[7, 8, 9, 10],
        image_index=[0, 0, 0, 1],
        category_ids=[1, 1, 1, 1],
        boxes=[[0, 0, 0, 5], [10, 10, 20, 20], [10, 10, 20, 20], [90, 70, 30, 30]],
    )
    path = tmp_path / "faults.json"
    write_coco(Dataset(images, (Category(1, "fish"), Category(2, "crab")), annotations), path)
    out = tmp_path / "s.json"
    result = run(app, path, "--json", out)
    assert result.exit_code == 0, result.output
    issues = json.loads(out.read_text())["issues"]
    assert (issues["zero_size"]["examples"], issues["degenerate"]) == ([7], 1)
    assert issues["duplicates"]["examples"] == [9]
    assert issues["outside_image"]["examples"] == [10]
    lines = result.output.splitlines()
    assert any("exact duplicates" in line and " 9" in line for line in lines)
    crab = json.loads(out.read_text())["per_class"][1]
    assert (crab["name"], crab["count"], crab["area_median"]) == ("crab", 0, None)


def test_split_file_restricts_the_images(app: typer.Typer, gt: Path, tmp_path: Path) -> None:
    split = tmp_path / "train.txt"
    split.write_text("seq00/seq00_0000.jpg\nseq00_0001\n/data/images/seq01/seq01_0004.jpg\n")
    out = tmp_path / "s.json"
    result = run(app, gt, "--split-file", split, "--json", out)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert (report["num_images"], report["split_file"]) == (3, str(split))
    assert f"{gt} (train.txt)" in result.output


def test_split_file_with_an_unknown_image(app: typer.Typer, gt: Path, tmp_path: Path) -> None:
    split = tmp_path / "val.txt"
    split.write_text("seq00_0000\nnot_there.jpg\n")
    result = run(app, gt, "--split-file", split)
    assert isinstance(result.exception, InvalidInputError)
    assert f"{split}: line 2: 'not_there.jpg' matches no image" in str(result.exception)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        pytest.param(0, "no images; nothing to describe", id="no-images"),
        pytest.param(3, "3 image(s) but no boxes; nothing to describe", id="no-boxes"),
    ],
)
def test_empty_dataset_is_an_error_naming_the_file(
    app: typer.Typer, tmp_path: Path, images: int, message: str
) -> None:
    path = tmp_path / "empty.json"
    path.write_text(
        json.dumps(
            {
                "images": [
                    {"id": i, "file_name": f"{i}.jpg", "width": 4, "height": 4}
                    for i in range(1, images + 1)
                ],
                "annotations": [],
                "categories": [{"id": 1, "name": "a"}],
            }
        )
    )
    result = run(app, path, "--json", tmp_path / "never.json")
    assert result.exit_code == 1
    assert isinstance(result.exception, InvalidInputError)
    assert str(result.exception) == f"{path}: {message}"
    assert not (tmp_path / "never.json").exists()


def test_plots(app: typer.Typer, gt: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = run(app, gt, "--plots", tmp_path / "plots")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "aspect_ratios.png",
        "box_centres.png",
        "box_sizes.png",
        "classes.png",
        "image_sizes.png",
    ]
    assert "wrote 5 plots" in result.output


def test_bad_format_is_a_usage_error(app: typer.Typer, gt: Path) -> None:
    assert run(app, gt, "--format", "pascal").exit_code == 2
