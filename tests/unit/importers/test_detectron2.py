"""detectron2 output folders: a public run's metrics.json, resumes, and --gt evaluation."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from detlab.errors import InvalidInputError
from detlab.importers import detectron2
from detlab.importers.model import ImportedRun

FIXTURES = Path(__file__).parents[2] / "fixtures" / "importers" / "detectron2"
OUTPUT = FIXTURES / "fruits" / "output"
GT = OUTPUT / "inference" / "fruit_val_coco_format.json"


def _parse(folder: Path, gt: Path | None = None) -> ImportedRun:
    (run,) = detectron2.parse(folder, gt=gt)
    return run


def test_best_ap_in_fractions_at_its_iteration() -> None:
    run = _parse(OUTPUT)
    assert run.name == "fruits"  # the folder above detectron2's "output"
    assert run.step_unit == "iter"
    assert run.best("val/AP") == (0.757732398239824, 300)  # "bbox/AP": 75.7732398239824
    assert run.best("val/bbox/AP") == (75.7732398239824, 300)  # the source's own name, percent
    assert run.best("val/AP50") == (1.0, 300)
    step, value = run.metrics["val/AP"][0]
    assert step == 99
    assert value == pytest.approx(0.23934527287997305)
    assert run.metrics["val/bbox/AP-hazelnut"][-1] == (300, 83.2871287128713)


def test_bare_nan_is_read_and_kept() -> None:
    run = _parse(OUTPUT)
    steps = [s for s, _ in run.metrics["val/APs"]]
    assert steps == [99, 199, 300]
    assert all(math.isnan(v) for _, v in run.metrics["val/APs"])
    assert run.best("val/APs") is None


def test_training_rows_and_canonical_loss() -> None:
    run = _parse(OUTPUT)
    assert run.metrics["train/loss"][0] == (19, 2.632075755856931)  # total_loss
    assert run.metrics["train/lr"][-1] == (299, 0.0002491675)
    assert "train/eta_seconds" not in run.metrics
    assert run.restarts == []
    assert run.problems == []


def test_results_file_evaluated_against_gt_by_detlab() -> None:
    run = _parse(OUTPUT, GT)
    (evaluation,) = run.evaluations
    assert (evaluation.step, evaluation.protocol) == (300, "coco")
    # detlab's evaluation of the committed results agrees with detectron2's own at iteration 300
    assert evaluation.data["stats"][0] == pytest.approx(0.757732398239824)


def test_gt_without_results_file_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "output"
    folder.mkdir()
    shutil.copy(OUTPUT / "metrics.json", folder)
    with pytest.raises(InvalidInputError, match=r"coco_instances_results\.json"):
        _parse(folder, GT)


def _resumed(tmp_path: Path) -> Path:
    """The public metrics.json with a resume appended, as detectron2 appends it."""
    folder = Path(shutil.copytree(OUTPUT, tmp_path / "fruits" / "output"))
    lines = (OUTPUT / "metrics.json").read_text().splitlines()
    with (folder / "metrics.json").open("a") as handle:
        handle.write("\n".join(lines[5:9]) + "\n")  # iterations 119..179 again
    (folder / "log.txt").write_text(
        "[08/08 13:50:00 fvcore.common.checkpoint]: [DetectionCheckpointer] Loading from "
        "./output/model_0099999.pth\n"
        "[08/08 13:50:01 d2.engine.train_loop]: Starting training from iteration 100\n"
    )
    return folder


def test_iterations_going_back_with_a_resume_line(tmp_path: Path) -> None:
    run = _parse(_resumed(tmp_path))
    (restart,) = run.restarts
    assert (restart.epoch, restart.loaded_epoch, restart.reason) == (300, 99, "manual")
    assert "model_0099999.pth" in restart.detail
    assert "log.txt line 2" in restart.detail
    assert run.segments["train/loss"][-1] == 1


def test_corrupted_line_reported_with_its_number(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(OUTPUT, tmp_path / "output"))
    lines = (OUTPUT / "metrics.json").read_text().splitlines()
    lines[3] = lines[3][:-30]
    (folder / "metrics.json").write_text("\n".join(lines) + "\n")
    run = _parse(folder)
    (problem,) = run.problems
    assert problem.record == "line 4"
    assert run.best("val/AP") == (0.757732398239824, 300)


#: The end of a training log as detectron2 prints it (lines in the format of d2's
#: CommonMetricPrinter, COCOEvaluator and print_csv_format; values those of metrics.json).
FINAL_EVAL_LOG = """\
[08/08 13:47:20 d2.utils.events]:  eta: 0:00:25  iter: 279  total_loss: 0.5279  lr: 0.00023252
[08/08 13:47:45 d2.utils.events]:  eta: 0:00:00  iter: 299  total_loss: 0.4286  lr: 0.00024917
[08/08 13:47:46 d2.engine.hooks]: Overall training speed: 298 iterations in 0:06:06
[08/08 13:47:48 d2.evaluation.coco_evaluation]: Evaluation results for bbox:
|   AP   |  AP50   |  AP75  |  APs  |  APm   |  APl   |
|:------:|:-------:|:------:|:-----:|:------:|:------:|
| 75.773 | 100.000 | 91.749 |  nan  | 83.287 | 72.016 |
[08/08 13:47:48 d2.evaluation.coco_evaluation]: Per-category bbox AP:
| category   | AP     | category   | AP     | category   | AP     |
|:-----------|:-------|:-----------|:-------|:-----------|:-------|
| date       | 79.742 | fig        | 64.290 | hazelnut   | 83.287 |
[08/08 13:47:48 d2.engine.defaults]: Evaluation results for fruit_val in csv format:
[08/08 13:47:48 d2.evaluation.testing]: copypaste: Task: bbox
[08/08 13:47:48 d2.evaluation.testing]: copypaste: AP,AP50,AP75,APs,APm,APl
[08/08 13:47:48 d2.evaluation.testing]: copypaste: 75.7732,100.0000,91.7492,nan,83.2871,72.0163
"""


def test_log_tables_join_metrics_without_duplicating_them(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(OUTPUT, tmp_path / "fruits" / "output"))
    (folder / "log.txt").write_text(FINAL_EVAL_LOG)
    run = _parse(folder)
    assert [s for s, _ in run.metrics["val/bbox/AP"]] == [99, 199, 300]  # no second 300
    (table,) = run.evaluations
    assert (table.step, table.protocol) == (300, "per_class_table")
    assert table.data["classes"]["fig"] == {"AP": 64.29}
    assert table.data["task"] == "bbox"


def test_eval_only_log_without_metrics_json(tmp_path: Path) -> None:
    folder = tmp_path / "eval_only"
    folder.mkdir()
    (folder / "log.txt").write_text(FINAL_EVAL_LOG)
    assert detectron2.detect(folder)
    run = _parse(folder)
    best = run.best("val/AP")  # copypaste's 75.7732 / 100, after the last "iter: 299" line
    assert best is not None
    assert best[1] == 300
    assert best[0] == pytest.approx(0.757732)
    assert run.metrics["val/bbox/APl"] == [(300, 72.0163)]
    assert math.isnan(run.metrics["val/APs"][0][1])
