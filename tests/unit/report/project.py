"""A fixed experiment series recorded in a store, as the seed logs describe one: a baseline, a
variant restarted after NaN, one stopped early, one whose parent was deleted, one with an
unknown baseline and no metrics, NaN epochs, COCO and VOC evaluations, a split and stats."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta, timezone

import detlab
from detlab.report.collect import ProjectData, collect_project
from detlab.store.sql.store import SQLStore

PROJECT = "voc-yolo"
T0 = datetime(2022, 6, 3, 1, 0, tzinfo=timezone.utc)

GT = {
    "images": [{"id": i, "width": 100, "height": 100, "file_name": f"{i}.jpg"} for i in (1, 2)],
    "annotations": [
        {
            "id": 1,
            "image_id": 1,
            "category_id": 1,
            "bbox": [10, 10, 40, 40],
            "area": 1600,
            "iscrowd": 0,
        },
        {
            "id": 2,
            "image_id": 1,
            "category_id": 2,
            "bbox": [60, 60, 30, 20],
            "area": 600,
            "iscrowd": 0,
        },
        {
            "id": 3,
            "image_id": 2,
            "category_id": 3,
            "bbox": [5, 5, 20, 60],
            "area": 1200,
            "iscrowd": 0,
        },
    ],
    "categories": [
        {"id": 1, "name": "echinus"},
        {"id": 2, "name": "scallop"},
        {"id": 3, "name": "starfish"},
    ],
}


def _dets(shift: float) -> list[dict[str, object]]:
    return [
        {"image_id": 1, "category_id": 1, "bbox": [10 + shift, 10, 40, 40], "score": 0.9},
        {"image_id": 1, "category_id": 2, "bbox": [60, 60 + shift, 30, 20], "score": 0.8},
        {"image_id": 2, "category_id": 3, "bbox": [5, 5, 20 + shift, 60], "score": 0.7},
    ]


def _curve(run: detlab.Run, epochs: range, base: float, *, nan_at: tuple[int, ...] = ()) -> None:
    for epoch in epochs:
        ap50 = math.nan if epoch in nan_at else base + 0.02 * epoch
        run.log(
            {"train/loss": 3.0 / (epoch + 1), "val/AP50": ap50, "val/VOCmAP": ap50 - 0.01},
            step=epoch,
        )


def record_project(store: SQLStore) -> None:
    data = detlab.make_sequential_dataset(num_sequences=3, frames_per_sequence=12, seed=5)
    stats = detlab.dataset_stats(data)
    split = detlab.split_dataset(data, strategy="interval", val=0.15)
    base = {"lr": 0.5, "lambda_obj": 50.0, "batch_size": 32, "seed": 29}
    with detlab.init(
        project=PROJECT,
        name="r18-seed-sgd",
        params=base,
        store=store,
        purpose="new seeds; the baseline",
        tags=["baseline"],
    ) as run:
        _curve(run, range(6), 0.40)
        run.log_evaluation(detlab.evaluate_coco(GT, _dets(2.0)), step=5, prefix="test/")
        run.log_dataset(stats, name="urpc", role="val")
        run.log_dataset(split, name="urpc-interval", role="split")
        run.note(conclusion="below the first version", suggestions="two cosine cycles")
    low_obj = {**base, "lambda_obj": 10.0, "batch_size": 64}
    with detlab.init(
        project=PROJECT,
        name="r18-low-obj-sgd",
        params=low_obj,
        store=store,
        parent="r18-seed-sgd",
        baselines={"baseline": "r18-seed-sgd"},
        purpose="lambda_obj down to 10",
        tags=["colab", "kaggle"],
    ) as run:
        _curve(run, range(4), 0.45, nan_at=(2,))
        run.restart(epoch=3, loaded_epoch=2, seed=28, reason="nan", detail="loss NaN")
        _curve(run, range(3, 8), 0.46)
        run.log_evaluation(detlab.evaluate_coco(GT, _dets(0.0)), step=7, prefix="test/")
        run.log_evaluation(detlab.evaluate_voc(GT, _dets(0.0)), step=7, prefix="test/")
        run.log_evaluation(detlab.analyze_errors(GT, _dets(4.0)), step=7)
        run.log_dataset(stats, name="urpc", role="val")
        run.submit("public-lb", 54.5)
        run.note(conclusion="lambda_obj should stay low")
    with detlab.init(
        project=PROJECT,
        name="r18-bubbliiiing",
        params={**base, "lr": 0.01},
        store=store,
        baselines={"baseline": "r18-seed-sgd"},
    ) as run:
        _curve(run, range(4), 0.05)
        run.early_stop(3, reason="no progress")
    with detlab.init(
        project=PROJECT,
        name="orphan",
        params=base,
        store=store,
        parent="deleted-run",
        baselines={"renaissance": "never-recorded"},
    ):
        pass


def fixed(data: ProjectData) -> ProjectData:
    """The same data with fixed times and store URL, for golden files."""
    for i, run in enumerate(data.runs):
        start = T0 + timedelta(days=i)
        run.record = dataclasses.replace(
            run.record,
            created=start,
            started=start,
            ended=start + timedelta(hours=3, minutes=12),
            command=f"python train.py --cfg voc.yaml --name {run.name}",
            cwd="/work/yolo",
            git_commit="3f90505c0ffee0000000000000000000000000aa",
            git_dirty=i % 2 == 1,
            host="colab",
        )
        run.submissions = [dataclasses.replace(s, time=start) for s in run.submissions]
    data.store_url = "sqlite:///.detlab/detlab.db"
    return data


def collected(store: SQLStore) -> ProjectData:
    return fixed(collect_project(store, PROJECT))
