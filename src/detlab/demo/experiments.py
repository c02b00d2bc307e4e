"""The experiment part of the demo: three training runs recorded in the store, as the seed logs
describe them.

No network is trained here: a detector's improvement over epochs is simulated by detections
whose recall and localisation get better each epoch, and every epoch is evaluated for real with
:func:`~detlab.metrics.evaluate_coco` and logged with :meth:`~detlab.sdk.Run.log_evaluation`.
One run loses its loss to NaN and is restarted from the previous checkpoint with a new seed; one
is cut off by a Colab disconnect, resumed, and stops early. The store then answers what a log
written by hand would hold: best values and their epochs, deltas against the baseline in
percentage points, the restart table, the parameters that changed.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from detlab.core.dataset import Dataset
from detlab.core.predictions import Predictions
from detlab.core.runs import Delta, Restart, RunRecord
from detlab.data.splits import split_dataset
from detlab.data.stats import dataset_stats
from detlab.errors import NotFoundError
from detlab.metrics import evaluate_coco
from detlab.sdk import init
from detlab.store.sql.store import SQLStore

__all__ = ["PROJECT", "ExperimentTour", "run_experiment_tour", "simulated_detections"]

PROJECT = "detlab-demo"
METRIC = "val/AP50"

#: name -> (params, how well it learns, parent, what happens to it)
RUNS: dict[str, tuple[dict[str, Any], float, str | None, str]] = {
    "yolov3-r18-sgd": (
        {"model": {"backbone": "resnet18"}, "optimizer": {"name": "sgd", "lr": 0.01},
         "epochs": 12, "img_size": 416, "augment": {"mosaic": False}},
        0.80, None, "clean",
    ),
    "yolov3-r18-mosaic": (
        {"model": {"backbone": "resnet18"}, "optimizer": {"name": "sgd", "lr": 0.01},
         "epochs": 12, "img_size": 416, "augment": {"mosaic": True}},
        0.90, "yolov3-r18-sgd", "nan",
    ),
    "yolov3-r18-mosaic-adam": (
        {"model": {"backbone": "resnet18"}, "optimizer": {"name": "adam", "lr": 0.001},
         "epochs": 12, "img_size": 416, "augment": {"mosaic": True}},
        0.95, "yolov3-r18-mosaic", "disconnect",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class ExperimentTour:
    records: list[RunRecord]
    deltas: dict[str, dict[str, Delta]]
    restarts: dict[str, list[Restart]]
    summary: tuple[str, ...]


def simulated_detections(ds: Dataset, quality: float, seed: int) -> Predictions:
    """Detections of a detector at ``quality`` in [0, 1]: recall, box noise and false alarms."""
    rng = np.random.default_rng(seed)
    ann = ds.annotations
    found = rng.random(len(ann)) < 0.35 + 0.6 * quality
    boxes = ann.boxes[found].copy()
    sigma = (0.25 - 0.2 * quality) * boxes[:, 2:]
    boxes[:, :2] += rng.normal(0, 1, boxes[:, :2].shape) * sigma
    boxes[:, 2:] *= np.exp(rng.normal(0, 0.3 - 0.25 * quality, boxes[:, 2:].shape))
    scores = np.clip(0.4 + 0.5 * quality + rng.normal(0, 0.15, boxes.shape[0]), 0.01, 1.0)
    n_false = int(ds.num_images * (2.0 - 1.5 * quality))
    false_boxes = np.column_stack(
        [
            rng.uniform(0, 400, n_false),
            rng.uniform(0, 300, n_false),
            rng.uniform(8, 80, (n_false, 2)),
        ]
    )
    category_ids = np.array([c.id for c in ds.categories])
    return Predictions.build(
        np.concatenate([ds.images.ids[ann.image_index[found]], rng.choice(ds.images.ids, n_false)]),
        np.concatenate([ann.category_ids[found], rng.choice(category_ids, n_false)]),
        np.concatenate([boxes, false_boxes]),
        np.concatenate([scores, rng.uniform(0.01, 0.6, n_false)]),
    )


def _quality(epoch: int, rate: float) -> float:
    return rate * (1.0 - math.exp(-(epoch + 1) / 4.0))


def run_experiment_tour(store: SQLStore, ds: Dataset, *, seed: int = 0) -> ExperimentTour:
    """Record the three demo runs in ``store`` (replacing the demo project's earlier runs)."""
    for name in RUNS:
        with contextlib.suppress(NotFoundError):
            store.delete_run(PROJECT, name)
    last = None
    for name, (params, rate, parent, event) in RUNS.items():
        last = _train(store, ds, name, params, rate, parent, event, seed)
    deltas = {name: store.deltas(PROJECT, name, METRIC) for name in RUNS}
    restarts = {name: store.restarts(PROJECT, name) for name in RUNS}
    records = store.runs(PROJECT, metric=METRIC)
    return ExperimentTour(records, deltas, restarts, last or ())


def _train(
    store: SQLStore,
    ds: Dataset,
    name: str,
    params: dict[str, Any],
    rate: float,
    parent: str | None,
    event: str,
    seed: int,
) -> tuple[str, ...]:
    baselines = {"baseline": "yolov3-r18-sgd"} if parent else {}
    if parent and parent != "yolov3-r18-sgd":
        baselines["parent"] = parent
    run = init(
        PROJECT, name, params=params, parent=parent, baselines=baselines, store=store,
        purpose=f"does {name.removeprefix('yolov3-r18-') or 'it'} help?", tags=["demo"],
    )  # fmt: skip
    run.log_dataset(dataset_stats(ds), name="demo-sequences", role="val")
    run.log_dataset(split_dataset(ds, strategy="interval", val=0.15), name="demo-interval",
                    role="split")  # fmt: skip
    summary: tuple[str, ...] = ()
    best, since_best = -1.0, 0
    for epoch in range(int(params["epochs"])):
        loss = 2.5 * math.exp(-epoch / 5) + 0.3
        if event == "nan" and epoch == 8 and run.segment == 0:
            run.log({"train/loss": math.nan}, step=epoch)
            run.restart(epoch=8, loaded_epoch=7, seed=seed + 28, reason="nan", detail="loss NaN")
        if event == "disconnect" and epoch == 5 and run.segment == 0:
            run.finish("crashed", error="Colab runtime disconnected")
            run = init(PROJECT, name, store=store, resume=True)
            run.restart(epoch=5, loaded_epoch=4, seed=seed + 5, reason="disconnect")
        quality = _quality(epoch, rate)
        if event == "disconnect":  # this one overfits after epoch 7 and stops early
            quality -= 0.08 * max(0, epoch - 7)
        result = evaluate_coco(ds, simulated_detections(ds, quality, seed + epoch))
        run.log({"train/loss": loss}, step=epoch)
        run.log_evaluation(result, step=epoch)
        summary = result.summary_lines()
        ap50 = float(result.stats[1])
        best, since_best = (ap50, 0) if ap50 > best else (best, since_best + 1)
        if event == "disconnect" and since_best >= 2 and epoch >= 8:
            run.early_stop(epoch, reason=f"no gain in {METRIC} for 2 epochs")
            return summary
    run.note(conclusion="simulated: see the deltas", suggestions="try a larger backbone")
    run.finish()
    return summary
