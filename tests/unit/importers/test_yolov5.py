"""YOLOv5 run folders: results.csv, the headerless results.txt, opt.yaml and hyp.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from detlab.errors import InvalidInputError
from detlab.importers import ultralytics, yolov5
from detlab.importers.model import ImportedRun
from detlab.importers.registry import discover

FIXTURES = Path(__file__).parents[2] / "fixtures" / "importers" / "yolov5"
TXT = FIXTURES / "v5.0-results-txt"
CSV = FIXTURES / "v7-results-csv"


def _parse(path: Path) -> ImportedRun:
    (run,) = yolov5.parse(path)
    return run


def _copy(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


def _steps(run: ImportedRun, key: str) -> list[int]:
    return [step for step, _ in run.metrics[key]]


def test_results_txt_best_value_and_epoch() -> None:
    run = _parse(TXT)
    # line 45: "44/199 ... 0.5415 0.7054 0.6459 0.1916 ...": 0-based epoch 44 is epoch 45
    assert run.best("val/AP50") == (0.6459, 45)
    assert run.best("val/mAP_0.5") == (0.6459, 45)
    assert run.best("val/AP") == (0.2119, 49)
    assert _steps(run, "val/AP50") == list(range(1, 51))


def test_results_txt_columns_by_position() -> None:
    run = _parse(TXT)
    # line 1: 0/199 2.15G 0.08873 0.03634 0.02163 0.1467 8 640 0.004527 0.3889 0.004008 ...
    first = {key: points[0] for key, points in run.metrics.items()}
    assert first["train/gpu_mem"] == (1, 2.15)
    assert first["train/box_loss"] == (1, 0.08873)
    assert first["train/loss"] == (1, 0.1467)  # the file's own total
    assert first["train/targets"] == (1, 8)
    assert first["val/precision"] == (1, 0.004527)
    assert first["val/recall"] == (1, 0.3889)
    assert first["val/cls_loss"] == (1, 0.01663)
    assert not any("img_size" in key for key in run.metrics)


def test_results_csv_best_value_and_epoch() -> None:
    run = _parse(CSV)
    # csv epoch 23 has mAP_0.5 0.79846, just above epoch 0's 0.79833
    assert run.best("val/AP50") == (0.79846, 24)
    assert run.best("val/AP") == (0.61818, 8)
    assert _steps(run, "train/lr0")[:2] == [1, 2]
    assert run.metrics["train/lr0"][0] == (1, 0.070143)
    assert run.metrics["train/loss"][0] == (1, pytest.approx(0.013848 + 0.010485 + 0.0042507))


def test_opt_yaml_with_its_hyp_block() -> None:
    run = _parse(CSV)
    assert run.params["epochs"] == 400
    assert run.params["hyp"]["lr0"] == 0.01
    assert run.params["hyp"]["mosaic"] == 1.0
    assert run.command.startswith("python train.py --weights E:/yolov5/")
    assert "--epochs 400 --batch-size 5 --imgsz 640" in run.command


def test_hyp_yaml_fills_in_when_opt_names_the_file(tmp_path: Path) -> None:
    assert _parse(TXT).params["hyp"] == "data/hyp.scratch.yaml"
    folder = _copy(TXT, tmp_path)
    (folder / "hyp.yaml").write_text("lr0: 0.01\nmomentum: 0.937\n")
    run = _parse(folder)
    assert run.params["hyp"] == {"lr0": 0.01, "momentum": 0.937}
    assert run.params["hyp_file"] == "data/hyp.scratch.yaml"
    assert run.params["img_size"] == [640, 640]
    assert "--img-size 640 640" in run.command


def test_epochs_going_back_are_a_restart(tmp_path: Path) -> None:
    folder = _copy(TXT, tmp_path)
    results = folder / "results.txt"
    lines = results.read_text().splitlines()
    results.write_text("\n".join([*lines, *lines[20:23]]) + "\n")  # resumed: epochs 20..22 again
    run = _parse(folder)
    (restart,) = run.restarts
    assert (restart.epoch, restart.loaded_epoch) == (50, 20)
    assert "line 51" in restart.detail
    assert _steps(run, "val/AP50")[-4:] == [50, 21, 22, 23]


def test_truncated_txt_line_is_reported(tmp_path: Path) -> None:
    folder = _copy(TXT, tmp_path)
    results = folder / "results.txt"
    results.write_text(results.read_text() + "    50/199     3.24G   0.04")
    run = _parse(folder)
    assert len(run.metrics["val/AP50"]) == 50
    (problem,) = run.problems
    assert (problem.severity, problem.file, problem.record) == ("warning", str(results), "line 51")


def test_garbled_csv_value_is_reported(tmp_path: Path) -> None:
    folder = _copy(CSV, tmp_path)
    results = folder / "results.csv"
    lines = results.read_text().splitlines()
    lines[3] = lines[3].replace("0.84421", "0.8x421")
    results.write_text("\n".join(lines) + "\n")
    run = _parse(folder)
    (problem,) = run.problems
    assert problem.record == "line 4"
    assert "'metrics/precision'" in problem.message
    assert len(run.metrics["val/AP50"]) == 24


def test_garbage_or_empty_files_are_errors_naming_them(tmp_path: Path) -> None:
    txt = tmp_path / "results.txt"
    txt.write_text("hello\nworld\n")
    assert not yolov5.detect(tmp_path)
    with pytest.raises(InvalidInputError, match=r"results\.txt: nothing readable"):
        yolov5.parse(txt)
    csv = tmp_path / "results.csv"
    csv.write_text("")
    with pytest.raises(InvalidInputError, match=r"results\.csv: empty file"):
        yolov5.parse(csv)


def test_detection() -> None:
    assert yolov5.detect(TXT)
    assert yolov5.detect(CSV)
    assert yolov5.detect(TXT / "results.txt")
    assert not ultralytics.detect(TXT)
    assert not ultralytics.detect(CSV)
    found = discover(FIXTURES)
    assert [(s.name, p.name) for s, p in found] == [
        ("yolov5", "v5.0-results-txt"),
        ("yolov5", "v7-results-csv"),
    ]
