"""mmdetection 2.x importer on logs written by mmcv 1.7.2's own runner and ``TextLoggerHook``.

The fixture was produced by ``make_mmcv_fixture.py`` (see tests/fixtures/README.md): the file
format is mmcv's, the training losses are a toy model's, the validation values are synthetic.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from detlab.importers import mmdet2
from detlab.importers.model import ImportedRun

RUN = Path(__file__).parents[2] / "fixtures" / "importers" / "mmdet2" / "mmcv_runner_resumed"


def _parse() -> ImportedRun:
    (run,) = mmdet2.parse(RUN)
    return run


def test_best_ap_and_its_epoch() -> None:
    run = _parse()
    assert run.problems == []
    assert run.step_unit == "epoch"
    assert run.best("val/AP") == (0.342, 3)  # "bbox_mAP": 0.342, epoch 3, in both launches
    assert run.best("val/AP50") == (0.571, 3)
    assert run.metrics["val/AP"][:4] == [(1, 0.211), (2, 0.305), (3, 0.342), (4, 0.338)]
    assert "val/bbox_mAP_copypaste" not in run.metrics  # a string, not a value


def test_train_loss_is_the_mean_of_the_epochs_rows() -> None:
    run = _parse()
    # epoch 1's rows (iters 2, 4, 6 of 6) in 20261206_165109.log.json
    assert run.metrics["train/loss"][0] == (1, pytest.approx((4.07362 + 1.66892 + 1.86149) / 3))
    assert run.metrics["train/lr"][3] == (4, 0.002)  # step=[3]: lr x 0.1 from epoch 4


def test_second_launch_is_a_manual_resume_from_epoch_2() -> None:
    run = _parse()
    (restart,) = run.restarts
    assert (restart.epoch, restart.loaded_epoch, restart.reason) == (4, 2, "manual")
    assert "epoch_2.pth" in restart.detail
    assert "20261206_165123.log line 21" in restart.detail  # "resumed epoch 2, iter 12"
    assert restart.seed == 7
    assert [s for s, _ in run.metrics["train/loss"]] == [1, 2, 3, 4, 3, 4]
    assert run.segments["val/AP"] == [0, 0, 0, 0, 1, 1]


def test_meta_line_gives_config_seed_and_exp_name() -> None:
    run = _parse()
    assert run.params["lr_config.step"] == [3]
    assert run.params["optimizer.lr"] == 0.02
    assert run.params["seed"] == 7
    assert "exp_name: toy_faster_rcnn_r50_fpn_1x_coco.py" in run.notes
    assert [f.name for f in run.files] == [
        "20261206_165109.log.json",
        "20261206_165109.log",
        "20261206_165123.log.json",
        "20261206_165123.log",
    ]
