"""Ultralytics YOLO: ``attach(model, project=..., name=...)`` records its training in detlab.

>>> from ultralytics import YOLO  # doctest: +SKIP
>>> from detlab.sdk.integrations.ultralytics import attach  # doctest: +SKIP
>>> model = YOLO("yolov8n.yaml")  # doctest: +SKIP
>>> attach(model, project="voc-yolo", name="v8n-640")  # doctest: +SKIP
>>> model.train(data="voc.yaml", epochs=100)  # doctest: +SKIP

What lands in the run: the trainer's arguments as params at train start; each epoch, at its
1-based number as the console shows it, the losses, precision, recall, mAP50, mAP50-95 and
learning rates under Ultralytics' own names (``results.csv``'s columns, ``metrics/`` read as
``val/``, ``lr/`` and ``time`` under ``train/``: the points ``detlab import`` reads from the run
folder) and ``val/AP50``, ``val/AP``, ``train/loss``; the final validation of ``best.pt`` as a
per-class table; ``best.pt`` and ``last.pt`` as checkpoint artifacts. The run finishes with
training, or is marked failed (crashed on an interrupt) when training raises. Resumed training
(``resume=True``) reattaches to the run and records the restart, with the checkpoint's epoch.

Ultralytics starts multi-GPU (DDP) training in a new process that does not carry custom
callbacks: record such runs with ``detlab import runs/detect/train`` after (or during) training.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from detlab.sdk import init
from detlab.sdk.integrations._common import (
    PerClassTable,
    finish_from_exception,
    plain_params,
    require,
)
from detlab.sdk.integrations.names import ULTRALYTICS_CANONICAL, with_canonical
from detlab.sdk.run import Run

__all__ = ["UltralyticsRecorder", "attach", "epoch_metrics"]


def attach(
    model: Any, *, project: str, name: str | None = None, **init_kwargs: Any
) -> UltralyticsRecorder:
    """Register detlab's callbacks on an ``ultralytics.YOLO`` model; returns the recorder.

    The run starts when training starts (``detlab.init(project, name, **init_kwargs)``, with
    the trainer's arguments added to ``params``). ``init_kwargs`` go to :func:`detlab.init`
    (``store=``, ``parent=``, ``baselines=``, ``tags=``, ...).
    """
    require("ultralytics", "ultralytics")
    recorder = UltralyticsRecorder(project=project, name=name, init_kwargs=init_kwargs)
    for event, callback in recorder.callbacks().items():
        model.add_callback(event, callback)
    return recorder


class UltralyticsRecorder:
    """The callbacks :func:`attach` registers, and the run they record into (``.run``)."""

    def __init__(self, *, project: str, name: str | None, init_kwargs: Mapping[str, Any]) -> None:
        self.project = project
        self.name = name
        self.init_kwargs = dict(init_kwargs)
        self.run: Run | None = None
        self._in_epoch = False

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_pretrain_routine_start": self.on_pretrain_routine_start,
            "on_train_start": self.on_train_start,
            "on_train_epoch_start": self.on_train_epoch_start,
            "on_fit_epoch_end": self.on_fit_epoch_end,
            "on_train_end": self.on_train_end,
            "teardown": self.teardown,
        }

    def on_pretrain_routine_start(self, trainer: Any) -> None:
        kwargs = {k: v for k, v in self.init_kwargs.items() if k != "params"}
        kwargs.setdefault("resume", bool(getattr(trainer, "resume", False)))
        params = {**(self.init_kwargs.get("params") or {}), **plain_params(vars(trainer.args))}
        name = self.name or trainer.save_dir.name
        self.run = init(project=self.project, name=name, params=params, **kwargs)

    def on_train_start(self, trainer: Any) -> None:
        # `yolo train resume model=last.pt`: the run goes on in a new segment, from the
        # checkpoint's epoch (start_epoch counts the epochs the checkpoint holds).
        if self.run is not None and getattr(trainer, "resume", False):
            detail = f"resumed from {trainer.args.resume}"
            self.run.restart(loaded_epoch=int(trainer.start_epoch), reason="unknown", detail=detail)

    def on_train_epoch_start(self, trainer: Any) -> None:
        self._in_epoch = True

    def on_fit_epoch_end(self, trainer: Any) -> None:
        # Called after each epoch, and once more after training with the final validation
        # of best.pt (no epoch started in between): that one becomes the per-class table.
        if self.run is None:
            return
        if self._in_epoch:
            self._in_epoch = False
            self.run.log(epoch_metrics(trainer), step=trainer.epoch + 1)
            return
        table = per_class_table(trainer)
        if table is not None:
            self.run.log_evaluation(table, step=trainer.epoch)

    def on_train_end(self, trainer: Any) -> None:
        if self.run is None:
            return
        for path in (trainer.best, trainer.last):
            if path.is_file():
                self.run.log_artifact(path, kind="checkpoint")
        self.run.finish()

    def teardown(self, trainer: Any) -> None:
        # Ultralytics calls teardown in a finally block: an exception still in flight there
        # is the one that stopped training.
        if self.run is not None:
            finish_from_exception(self.run)


def epoch_metrics(trainer: Any) -> dict[str, float]:
    """One epoch's numbers: Ultralytics' names (``results.csv``) plus the canonical ones."""
    values: dict[str, float] = {}
    losses: dict[str, float] = {}
    if trainer.tloss is not None:
        losses = {k: float(v) for k, v in trainer.label_loss_items(trainer.tloss).items()}
        values.update(losses)
    metrics = {k: float(v) for k, v in (trainer.metrics or {}).items()}
    values.update(with_canonical(metrics, ULTRALYTICS_CANONICAL))
    values.update({f"train/{k}": float(v) for k, v in (trainer.lr or {}).items()})
    values = {_own_name(k): v for k, v in values.items()}
    if losses:
        values["train/loss"] = sum(losses.values())
    started = getattr(trainer, "train_time_start", None)
    if started is not None:  # results.csv's `time`: seconds since training started
        values["train/time"] = time.time() - started
    return values


def _own_name(key: str) -> str:
    return "val/" + key.removeprefix("metrics/") if key.startswith("metrics/") else key


def per_class_table(trainer: Any) -> PerClassTable | None:
    """The validator's per-class results (``class_result``: P, R, AP50, AP50-95 per class)."""
    metrics = getattr(trainer.validator, "metrics", None)
    if metrics is None or not len(metrics.ap_class_index):
        return None
    names = metrics.names or trainer.data.get("names", {})
    rows = [
        _class_row(metrics, i, int(c), names.get(int(c), str(c)))
        for i, c in enumerate(metrics.ap_class_index)
    ]
    precision, recall, ap50, ap = (float(v) for v in metrics.mean_results())
    summary = {"precision": precision, "recall": recall, "ap50": ap50, "ap": ap}
    return PerClassTable("ultralytics", rows, summary, note=f"final validation of {trainer.best}")


def _class_row(metrics: Any, i: int, class_id: int, name: str) -> dict[str, Any]:
    precision, recall, ap50, ap = (float(v) for v in metrics.class_result(i))
    row: dict[str, Any] = {
        "category_id": class_id,
        "name": name,
        "ap": ap,
        "ap50": ap50,
        "precision": precision,
        "recall": recall,
    }
    all_ap = getattr(getattr(metrics, "box", None), "all_ap", None)
    if all_ap is not None and len(all_ap) > i:
        row["ap75"] = float(all_ap[i][5])  # columns: IoU 0.50, 0.55, ..., 0.95
    for source, key in (("nt_per_class", "num_gt"), ("nt_per_image", "num_images")):
        counts = getattr(metrics, source, None)
        if counts is not None and class_id < len(counts):
            row[key] = int(counts[class_id])
    return row
