"""mmengine log rows -> detlab points, without mmengine (the live backend's logic)."""

from __future__ import annotations

import pytest

from detlab.sdk.integrations._mmengine_rows import ScalarRows


def _train(epoch: int | None, it: int, loss: float, lr: float) -> dict:
    row = {"lr": lr, "loss": loss, "loss_cls": loss / 2, "time": 0.1, "iter": it, "memory": 9}
    return row if epoch is None else {**row, "epoch": epoch}


def test_epoch_training_rows_become_one_mean_per_epoch_at_its_end() -> None:
    rows = ScalarRows()
    assert rows.add(_train(1, 2, 4.0, 0.02), step=2) == []
    assert rows.add(_train(1, 4, 2.0, 0.01), step=4) == []
    val = {"coco/bbox_mAP": 0.3, "coco/bbox_mAP_50": 0.5, "data_time": 0.1, "time": 0.2}
    (train, val_points) = rows.add(val, step=1)
    assert train == (
        {
            "train/lr": 0.01,  # the last
            "train/loss": 3.0,
            "train/loss_cls": 1.5,
            "train/time": 0.1,
            "train/memory": 9.0,
        },
        1,
    )
    assert val_points == (
        {"val/coco/bbox_mAP": 0.3, "val/coco/bbox_mAP_50": 0.5, "val/AP": 0.3, "val/AP50": 0.5},
        1,
    )


def test_a_new_epoch_or_the_end_flushes_the_previous_one() -> None:
    rows = ScalarRows()
    rows.add(_train(1, 2, 4.0, 0.02), step=2)
    ((values, step),) = rows.add(_train(2, 4, 2.0, 0.01), step=4)
    assert (values["train/loss"], step) == (4.0, 1)
    ((values, step),) = rows.flush()
    assert (values["train/loss"], step) == (2.0, 2)
    assert rows.flush() == []


def test_iteration_based_rows_keep_iterations_and_validation_follows_them() -> None:
    rows = ScalarRows()
    assert rows.add(_train(None, 50, 1.0, 0.1), step=50) == [
        (
            {
                "train/lr": 0.1,
                "train/loss": 1.0,
                "train/loss_cls": 0.5,
                "train/time": 0.1,
                "train/memory": 9.0,
            },
            50,
        )
    ]
    # LoggerHook(log_metric_by_epoch=True) in an iteration-based run logs validation at step 0
    assert rows.add({"pascal_voc/mAP": 0.7}, step=0) == [
        ({"val/pascal_voc/mAP": 0.7, "val/VOCmAP": 0.7}, 50)
    ]


@pytest.mark.parametrize(
    ("key", "canonical"),
    [
        ("coco/bbox_mAP", "val/AP"),
        ("coco/bbox_mAP_50", "val/AP50"),
        ("coco/bbox_mAP_75", "val/AP75"),
        ("coco/bbox_mAP_s", "val/APs"),
        ("coco/bbox_mAP_m", "val/APm"),
        ("coco/bbox_mAP_l", "val/APl"),
        ("pascal_voc/mAP", "val/VOCmAP"),
    ],
)
def test_mmdetection_keys_get_their_canonical_names(key: str, canonical: str) -> None:
    ((values, _),) = ScalarRows().add({key: 0.25}, step=3)
    assert values == {f"val/{key}": 0.25, canonical: 0.25}


def test_text_and_bools_are_not_metrics() -> None:
    ((values, _),) = ScalarRows().add({"coco/bbox_mAP": 0.2, "note": "x", "flag": True}, step=1)
    assert values == {"val/coco/bbox_mAP": 0.2, "val/AP": 0.2}
