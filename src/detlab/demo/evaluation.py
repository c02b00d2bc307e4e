"""What the demo's training script records besides its losses: the val split's COCO and VOC
evaluations each epoch, the per-class analysis of the best epoch, the dataset it trained on.

Everything goes through the SDK as in a user's script (``run.log_evaluation``,
``run.log_dataset``); ``run`` is a :class:`detlab.sdk.Run`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from detlab.core.predictions import Predictions
from detlab.demo.features import GridSpec, TrainingData, cell_patches
from detlab.demo.model import Params, decode, forward

__all__ = ["evaluate_epoch", "link_datasets", "log_per_class", "predict"]


def predict(
    data: TrainingData,
    params: Params,
    spec: GridSpec,
    *,
    conf: float = 0.01,
    iou: float = 0.5,
) -> Predictions:
    """Detections of ``params`` on the val images, as COCO would have them."""
    x = cell_patches(data.normalise(data.images[data.val]), spec)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging model still gets scored
        out, _ = forward(params, x.reshape(-1, x.shape[-1]))
        found = decode(out.reshape(*x.shape[:3], -1), spec, conf=conf, iou=iou)
    ds = data.dataset
    image_ids = ds.images.ids[data.val][found.image]
    category_ids = ds.category_ids[found.cls]
    return Predictions.build(image_ids, category_ids, found.boxes.astype(np.float64), found.scores)


def evaluate_epoch(
    data: TrainingData,
    params: Params,
    spec: GridSpec,
    run: Any,
    epoch: int,
    *,
    conf: float,
    iou: float,
) -> float:
    """Evaluate the val split (COCO and VOC, both logged when ``run`` is given); its AP50."""
    from detlab.metrics import evaluate_coco, evaluate_voc  # noqa: PLC0415

    preds = predict(data, params, spec, conf=conf, iou=iou)
    val = data.val_dataset
    coco = evaluate_coco(val, preds)
    if run is not None:
        run.log_evaluation(coco, step=epoch)
        run.log_evaluation(evaluate_voc(val, preds), step=epoch)
    return float(coco.stats[1])


def log_per_class(
    data: TrainingData,
    params: Params,
    spec: GridSpec,
    run: Any,
    epoch: int,
    *,
    conf: float,
    iou: float,
) -> None:
    """The per-class AP of ``params`` set against class count, size and aspect ratio."""
    from detlab.analysis import analyze_per_class  # noqa: PLC0415
    from detlab.metrics import evaluate_coco  # noqa: PLC0415

    val = data.val_dataset
    result = evaluate_coco(val, predict(data, params, spec, conf=conf, iou=iou))
    run.log_evaluation(analyze_per_class(result, val), step=epoch)


def link_datasets(run: Any, data: TrainingData, val: float) -> None:
    """The val split's statistics and the interval split itself, shown in the report."""
    from detlab.data.splits import split_dataset  # noqa: PLC0415
    from detlab.data.stats import dataset_stats  # noqa: PLC0415

    split = split_dataset(data.dataset, strategy="interval", val=val)
    run.log_dataset(dataset_stats(data.val_dataset), name="demo-sequences-val", role="val")
    run.log_dataset(split, name="demo-interval-split", role="split")
