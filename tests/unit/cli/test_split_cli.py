"""``detlab split`` through Typer's test runner, on an app holding only this command."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner, Result

from detlab.cli import split
from detlab.core.dataset import Category
from detlab.data.formats import write_coco, write_voc, write_yolo
from detlab.data.io import read_dataset
from detlab.data.synthetic import make_sequential_dataset
from detlab.errors import ConfigError, DetlabWarning, InvalidInputError


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    split.register(app)

    @app.callback()
    def _root() -> None:
        """A one-command app: ``split`` stays a subcommand, as in ``detlab``."""

    return app


def run(*args: str | Path) -> Result:
    """Invoke ``split`` wide enough that Rich wraps neither the table nor long paths."""
    return CliRunner().invoke(_app(), ["split", *map(str, args)], env={"COLUMNS": "400"})


@pytest.fixture
def gt(tmp_path: Path) -> Path:
    path = tmp_path / "gt.json"
    write_coco(make_sequential_dataset(num_sequences=8, frames_per_sequence=25, seed=4), path)
    return path


def _ids(path: Path, split_name: str | None = None) -> set[int]:
    return set(read_dataset(path, split=split_name).images.ids.tolist())


def test_coco_splits_become_one_file_each_with_the_table_beside(gt: Path, tmp_path: Path) -> None:
    out = tmp_path / "splits"
    result = run(gt, "--strategy", "interval", "--val", "0.15", "--test", "0.1", "-o", out)
    assert result.exit_code == 0, result.output
    train, val, test = (_ids(out / f"{name}.json") for name in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (150, 30, 20)
    assert not train & val
    assert not train & test
    assert not val & test
    assert train | val | test == _ids(gt)
    table = json.loads((out / "split.json").read_text())
    assert table["strategy"] == "interval"
    assert table["format"] == "coco"
    assert table["files"] == {n: str(out / f"{n}.json") for n in ("train", "val", "test")}
    dist = table["distribution"]
    assert dist["columns"] == ["full", "train", "val", "test"]
    assert dist["images"] == {"full": 200, "train": 150, "val": 30, "test": 20}
    echinus = next(c for c in dist["classes"] if c["name"] == "echinus")
    assert sum(echinus["count"][n] for n in ("train", "val", "test")) == echinus["count"]["full"]
    for phrase in ("split by interval", "echinus", "dev pp", "val: 30 images", "split.json"):
        assert phrase in result.stdout


@pytest.mark.parametrize("strategy", ["random", "stratified", "sequence"])
def test_seeded_strategies_report_their_seed(gt: Path, tmp_path: Path, strategy: str) -> None:
    result = run(gt, "-s", strategy, "--seed", "3", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert f"split by {strategy}, seed 3" in result.stdout
    table = json.loads((tmp_path / "out" / "split.json").read_text())
    assert table["seed"] == 3
    assert table["fractions"] == {"val": 0.15}
    assert not (tmp_path / "out" / "test.json").exists()


def test_voc_splits_are_file_lists_in_image_sets(tmp_path: Path) -> None:
    ds = make_sequential_dataset(num_sequences=4, frames_per_sequence=10, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DetlabWarning)  # crowd boxes become difficult
        write_voc(ds, tmp_path / "VOC")
    out = tmp_path / "out"
    result = run(tmp_path / "VOC", "-s", "stratified", "--val", "0.25", "-o", out)
    assert result.exit_code == 0, result.output
    main = out / "ImageSets" / "Main"
    assert sorted(p.name for p in main.iterdir()) == ["train.txt", "val.txt"]
    train, val = _ids(out, "train"), _ids(out, "val")
    assert (len(train), len(val)) == (30, 10)
    assert len(read_dataset(out).images) == 40


def test_yolo_splits_get_label_folders_and_linked_images(tmp_path: Path) -> None:
    from detlab.data.render import render_images

    ds = make_sequential_dataset(num_sequences=2, frames_per_sequence=5, seed=2)
    render_images(ds, tmp_path / "images")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DetlabWarning)  # crowd boxes have no YOLO form
        write_yolo(ds, tmp_path / "yolo", split="train", image_root=tmp_path / "images")
    out = tmp_path / "out"
    result = run(
        tmp_path / "yolo" / "data.yaml",
        "-s",
        "random",
        "--val",
        "0.2",
        "-o",
        out,
        "--image-root",
        tmp_path / "yolo" / "images" / "train",
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "images" / "val").iterdir()) == sorted(
        Path(read_dataset(out / "data.yaml", split="val").images.file_names[i]).name
        for i in range(2)
    )
    assert len(read_dataset(out / "data.yaml", split="train").images) == 8


def test_a_class_without_boxes_is_a_warning_and_a_row_of_zeros(tmp_path: Path) -> None:
    ds = make_sequential_dataset(num_sequences=8, frames_per_sequence=25, seed=4)
    assert (ds.counts_per_category() > 0).all()
    ds = replace(ds, categories=(*ds.categories, Category(42, "ghost")))
    write_coco(ds, tmp_path / "gt.json")
    result = run(tmp_path / "gt.json", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "detlab: warning: 1 class(es) without boxes" in result.stderr
    assert "ghost (id 42)" in result.stderr
    table = json.loads((tmp_path / "out" / "split.json").read_text())
    ghost = table["distribution"]["classes"][-1]
    assert ghost["count"] == {"full": 0, "train": 0, "val": 0}
    assert table["distribution"]["classes_without_boxes"] == ["ghost"]


# --------------------------------------------------------------------------- errors
# The real app turns a DetlabError into one stderr line (cli/app.py main); this test app
# has no such boundary, so the runner keeps the exception for the test to inspect.


def test_an_unknown_strategy_is_a_usage_error(gt: Path, tmp_path: Path) -> None:
    result = run(gt, "--strategy", "chrono", "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "'chrono' is not one of random, interval, stratified, sequence" in result.stderr


def test_an_out_path_naming_a_file_is_a_usage_error(gt: Path, tmp_path: Path) -> None:
    result = run(gt, "-o", tmp_path / "splits.json")
    assert result.exit_code == 2
    assert "names a file; give a folder" in result.stderr
    assert not (tmp_path / "splits.json").exists()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--val", "1.5"], r"val fraction 1\.5 is outside \(0, 1\)"),
        (["--val", "0"], r"val fraction 0\.0 is outside \(0, 1\)"),
        (["--val", "0.6", "--test", "0.4"], r"leaves no images for train"),
    ],
    ids=["val-1.5", "val-0", "sum-1"],
)
def test_fractions_outside_the_open_interval_are_config_errors(
    gt: Path, tmp_path: Path, args: list[str], match: str
) -> None:
    result = run(gt, *args, "-o", tmp_path / "out")
    assert isinstance(result.exception, ConfigError)
    assert result.exception.args[0]
    with pytest.raises(ConfigError, match=match):
        raise result.exception
    assert not (tmp_path / "out").exists()


def test_interval_without_frame_order_names_the_image(tmp_path: Path) -> None:
    ds = make_sequential_dataset(num_sequences=1, frames_per_sequence=4, seed=0)
    images = replace(
        ds.images,
        file_names=("cat.jpg", "dog.jpg", "fox.jpg", "owl.jpg"),
        frame_index=np.full(4, -1),
        sequence=np.full(4, -1),
        sequence_values=(),
    )
    write_coco(replace(ds, images=images), tmp_path / "zoo.json")
    result = run(tmp_path / "zoo.json", "-s", "interval", "--val", "0.25", "-o", tmp_path / "out")
    assert isinstance(result.exception, InvalidInputError)
    message = str(result.exception)
    assert message.startswith(f"{tmp_path / 'zoo.json'}: the dataset has no frame order")
    assert "'cat.jpg'" in message
