"""Ultralytics run folders: results.csv in both layouts, args.yaml, resumes, damaged files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from detlab.errors import InvalidInputError
from detlab.importers import ultralytics, yolov5
from detlab.importers.model import ImportedRun
from detlab.importers.registry import discover

FIXTURES = Path(__file__).parents[2] / "fixtures" / "importers" / "ultralytics"


def _parse(folder: Path) -> ImportedRun:
    (run,) = ultralytics.parse(folder)
    return run


def _copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / name, tmp_path / name))


def _steps(run: ImportedRun, key: str) -> list[int]:
    return [step for step, _ in run.metrics[key]]


def test_new_layout_best_value_and_epoch() -> None:
    run = _parse(FIXTURES / "train")
    # results.csv line 31: epoch 30, mAP50(B) 0.92185, mAP50-95(B) 0.66527
    assert run.best("val/AP50") == (0.92185, 30)
    assert run.best("val/mAP50(B)") == (0.92185, 30)
    assert run.best("val/AP") == (0.66527, 30)
    assert run.best("val/precision(B)") == (0.93876, 28)
    assert _steps(run, "val/AP50") == list(range(1, 31))  # the file's epochs are already 1-based


def test_old_padded_layout_counts_epochs_from_one() -> None:
    run = _parse(FIXTURES / "v8.0-padded")
    # the csv stores epoch 22 for mAP50(B) 0.86311: the console showed it as epoch 23
    assert run.best("val/AP50") == (0.86311, 23)
    assert run.best("val/AP") == (0.45929, 25)
    assert _steps(run, "train/box_loss") == list(range(1, 26))
    assert run.metrics["train/loss"][0] == (1, pytest.approx(1.6878 + 3.3859 + 2.143))
    assert run.metrics["train/lr/pg0"][0] == (1, 0.070545)


def test_params_command_and_config_come_from_args_yaml() -> None:
    run = _parse(FIXTURES / "train")
    assert run.params["epochs"] == 30
    assert run.params["imgsz"] == 96
    assert run.params["optimizer"] == "SGD"
    assert run.command.startswith("yolo detect train model=yolov8n.yaml data=")
    assert "epochs=30 imgsz=96 batch=8" in run.command
    assert "lr0: 0.01" in run.config_text
    assert [f.name for f in run.files] == ["results.csv", "args.yaml"]


def test_resumed_training_is_a_restart() -> None:
    run = _parse(FIXTURES / "resumed")
    (restart,) = run.restarts
    # epochs 1..16, then 14..20: resumed from the checkpoint of epoch 13 (weights/epoch12.pt)
    assert (restart.epoch, restart.loaded_epoch) == (16, 13)
    assert "line 18" in restart.detail
    assert _steps(run, "val/AP50") == [*range(1, 17), *range(14, 21)]
    assert run.segments["val/AP50"] == [0] * 16 + [1] * 7
    assert run.best("val/AP50") == (0.28192, 20)
    assert "resume=" in run.command


def test_time_going_back_is_a_resume_from_the_latest_checkpoint(tmp_path: Path) -> None:
    folder = _copy("train", tmp_path)
    csv = folder / "results.csv"
    lines = csv.read_text().splitlines()
    cells = lines[4].split(",")  # epoch 4
    cells[1] = "0.5"  # the time of a new session
    csv.write_text("\n".join([*lines[:4], ",".join(cells), *lines[5:]]) + "\n")
    (restart,) = _parse(folder).restarts
    assert (restart.epoch, restart.loaded_epoch) == (3, 3)
    assert "line 5" in restart.detail


def test_resume_in_args_without_a_visible_place(tmp_path: Path) -> None:
    folder = _copy("v8.0-padded", tmp_path)
    args = folder / "args.yaml"
    args.write_text(args.read_text().replace("resume: false", "resume: true"))
    run = _parse(folder)
    assert run.restarts == []  # a restart starts a segment: its place must be known
    assert "args.yaml says resume: True, but results.csv does not show where" in run.notes


def test_segmentation_columns_are_kept() -> None:
    run = _parse(FIXTURES / "train-seg")
    assert {"val/mAP50(M)", "val/mAP50-95(M)", "train/seg_loss", "val/seg_loss"} <= set(run.metrics)
    # train/loss: box + seg + cls + dfl + sem of epoch 1
    total = 6.85493 + 13.5132 + 4.75013 + 4.44532 + 0
    assert run.metrics["train/loss"][0] == (1, pytest.approx(total))
    assert len(run.metrics["val/AP50"]) == 3


def test_truncated_and_garbled_rows_are_reported_and_skipped(tmp_path: Path) -> None:
    folder = _copy("train", tmp_path)
    csv = folder / "results.csv"
    lines = csv.read_text().splitlines()
    lines[4] = lines[4].replace(",0,", ",n/a,", 1)  # epoch 4, a value garbled
    csv.write_text("\n".join(lines) + "\n31,8.1,6.2")  # a last row cut off by a crash
    run = _parse(folder)
    assert len(run.metrics["val/AP50"]) == 29
    assert run.best("val/AP50") == (0.92185, 30)
    first, second = run.problems
    assert (first.severity, first.file, first.record) == ("warning", str(csv), "line 5")
    assert "'metrics/precision(B)'" in first.message
    assert (second.record, second.file) == ("line 32", str(csv))
    assert "3 values for 15 columns" in second.message


@pytest.mark.parametrize(
    "content", [b"", b"\x00\x9f\x11garbage\xff\n1,2,3\n", b"not,a,results,file\n1,2,3,4\n"]
)
def test_empty_or_garbage_file_is_an_error_naming_it(tmp_path: Path, content: bytes) -> None:
    csv = tmp_path / "results.csv"
    csv.write_bytes(content)
    with pytest.raises(InvalidInputError, match=r"results\.csv"):
        ultralytics.parse(csv)


def test_detection_tells_ultralytics_from_yolov5(tmp_path: Path) -> None:
    for name in ("train", "resumed", "train-seg", "v8.0-padded"):
        assert ultralytics.detect(FIXTURES / name)
        assert not yolov5.detect(FIXTURES / name)
    yolov5_run = FIXTURES.parent / "yolov5" / "v7-results-csv"
    assert not ultralytics.detect(yolov5_run)
    assert not ultralytics.detect(tmp_path)
    assert ultralytics.detect(FIXTURES / "train" / "results.csv")


def test_the_registry_finds_every_ultralytics_run() -> None:
    found = discover(FIXTURES)
    assert {source.name for source, _ in found} == {"ultralytics"}
    assert len(found) == 4
