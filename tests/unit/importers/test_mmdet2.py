"""mmdetection 2.x work dirs: log.json rows, the text log's tables and resume lines, the config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from detlab.errors import InvalidInputError
from detlab.importers import mmdet2
from detlab.importers.model import ImportedRun

FIXTURES = Path(__file__).parents[2] / "fixtures" / "importers" / "mmdet2"
URPC = FIXTURES / "cascade_rcnn_r50_fpn_1x_urpc"
VOC = FIXTURES / "faster_rcnn_r50_fpn_1x_voc0712"


def _parse(folder: Path) -> ImportedRun:
    (run,) = mmdet2.parse(folder)
    return run


def test_best_coco_ap_and_its_epoch_are_what_the_log_says() -> None:
    run = _parse(URPC)
    assert run.source == "mmdet2"
    assert run.name == "cascade_rcnn_r50_fpn_1x_urpc"
    assert run.best("val/AP") == (0.431, 3)  # "bbox_mAP": 0.431 at epoch 3 (second log)
    assert run.best("val/AP50") == (0.788, 3)
    assert run.metrics["val/bbox_mAP_s"][0] == (1, 0.118)
    assert [s for s, _ in run.metrics["val/AP"]] == [1, 2, 3, 4]


def test_training_rows_become_one_point_per_epoch() -> None:
    run = _parse(URPC)
    loss = dict(run.metrics["train/loss"][:2])
    assert loss[1] == pytest.approx((1.5392 + 0.98495) / 2)
    assert run.metrics["train/lr"][0] == (1, 0.00398)  # the last lr of epoch 1
    assert "train/s0.acc" in run.metrics


def test_resume_from_the_second_log_is_a_manual_restart() -> None:
    run = _parse(URPC)
    (restart,) = run.restarts
    assert (restart.epoch, restart.loaded_epoch, restart.reason) == (3, 2, "manual")
    assert "epoch_2.pth" in restart.detail
    assert "20200304_090000.log line 9" in restart.detail
    assert run.segments["val/AP"] == [0, 0, 1, 1]
    # epoch 3 was logged in both launches: both points are kept, the later one in segment 1
    assert [s for s, _ in run.metrics["train/loss"]] == [1, 2, 3, 3, 4]


def test_truncated_line_is_reported_by_number_and_the_rest_imported() -> None:
    run = _parse(URPC)
    (problem,) = run.problems
    assert problem.file.endswith("20200303_101500.log.json")
    assert problem.record == "line 9"
    assert problem.severity == "warning"
    assert run.metrics["train/loss"][2][0] == 3  # epoch 3's first row, before the cut


def test_config_is_read_without_running_it() -> None:
    run = _parse(URPC)
    assert run.params["optimizer.lr"] == 0.02
    assert run.params["lr_config.step"] == [8, 11]
    assert run.params["model.rpn_head.anchor_generator.ratios"] == [0.2, 0.5, 1.0, 2.0, 5.0]
    normalize = run.params["train_pipeline"][4]
    assert normalize == {"type": "Normalize", "mean": [123.675, 116.28, 103.53],
                         "std": [58.395, 57.12, 57.375], "to_rgb": True}  # fmt: skip
    assert run.params["data.train.ann_file"] == "data/urpc/annotations/train.json"
    assert run.params["total_iters"] == "len(data['train']) * 12"  # kept as source text
    assert run.params["seed"] == 42  # from the log's first line
    assert "../_base_/default_runtime.py" in run.notes
    assert "optimizer = dict(type='SGD'" in run.config_text


def test_per_class_tables_from_the_text_log() -> None:
    run = _parse(URPC)
    first, second = run.evaluations
    assert (first.step, first.protocol) == (1, "per_class_table")
    assert first.data["classes"]["holothurian"] == {"AP": 0.288}
    assert second.step == 2
    assert second.data["classes"]["starfish"] == {"AP": 0.417}


def test_voc_run_best_map_and_table() -> None:
    run = _parse(VOC)
    assert run.best("val/VOCmAP") == (0.7017, 3)
    assert run.best("val/AP50") == (0.702, 3)  # mmdetection's own name, under val/
    assert "val/AP" not in run.metrics
    (table,) = run.evaluations
    assert table.step == 3
    assert table.data["mAP"] == 0.702
    assert table.data["iou_thr"] == 0.5
    assert table.data["classes"][0]["name"] == "aeroplane"
    assert run.params["optimizer.lr"] == 0.01  # no .py: the config text in the log


def test_log_with_nothing_readable_is_an_error_naming_the_file(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(VOC, tmp_path / "voc"))
    (folder / "20210512_143000.log.json").write_text("garbage\n{not json\n")
    with pytest.raises(InvalidInputError, match=r"20210512_143000\.log\.json: nothing readable"):
        mmdet2.parse(folder)


def test_epochs_going_back_in_one_log_are_a_restart(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    rows = [
        '{"mode": "train", "epoch": 1, "iter": 50, "lr": 0.02, "loss": 1.0}',
        '{"mode": "train", "epoch": 2, "iter": 50, "lr": 0.02, "loss": 0.8}',
        '{"mode": "train", "epoch": 2, "iter": 50, "lr": 0.02, "loss": 0.9}',
        '{"mode": "train", "epoch": 1, "iter": 50, "lr": 0.02, "loss": 1.1}',
    ]
    (folder / "20200101_000000.log.json").write_text("\n".join(rows) + "\n")
    run = _parse(folder)
    (restart,) = run.restarts
    assert (restart.epoch, restart.loaded_epoch, restart.reason) == (2, 0, "unknown")
    assert "line 4" in restart.detail


def test_nan_loss_before_a_resume_gives_reason_nan_and_the_new_seed(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    first = [
        '{"env_info": "", "seed": 7, "exp_name": "run.py"}',
        '{"mode": "train", "epoch": 7, "iter": 50, "lr": 0.02, "loss": 0.61}',
        '{"mode": "val", "epoch": 7, "iter": 285, "lr": 0.02, "bbox_mAP": 0.41}',
        '{"mode": "train", "epoch": 8, "iter": 50, "lr": 0.02, "loss": NaN}',
    ]
    second = [
        '{"env_info": "", "seed": 28, "exp_name": "run.py"}',
        '{"mode": "train", "epoch": 8, "iter": 50, "lr": 0.02, "loss": 0.59}',
    ]
    (folder / "20200101_000000.log.json").write_text("\n".join(first) + "\n")
    (folder / "20200102_000000.log.json").write_text("\n".join(second) + "\n")
    (folder / "20200102_000000.log").write_text(
        "2020-01-02 00:00:01,000 - mmdet - INFO - load checkpoint from local path: epoch_7.pth\n"
        "2020-01-02 00:00:02,000 - mmdet - INFO - resumed epoch 7, iter 1995\n"
    )
    run = _parse(folder)
    (restart,) = run.restarts
    assert (restart.epoch, restart.loaded_epoch, restart.reason, restart.seed) == (8, 7, "nan", 28)
    assert restart.detail.startswith("train/loss NaN at step 8; resumed from epoch_7.pth")
