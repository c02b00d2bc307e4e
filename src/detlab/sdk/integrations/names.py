"""detlab's canonical metric names for what each framework logs under its own.

The integrations log a framework's values under its own names (moved under ``train/`` or
``val/``) and, for the common ones, also under the canonical names that the SDK and the
importers use, so that runs from different frameworks compare: ``val/AP``, ``val/AP50``,
``val/AP75``, ``val/APs``, ``val/APm``, ``val/APl`` (COCO-style fractions in [0, 1]),
``val/VOCmAP`` and ``train/loss``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["MMDET_CANONICAL", "TORCHMETRICS_ALIASES", "ULTRALYTICS_CANONICAL", "with_canonical"]

#: mmdetection's evaluator keys (mmengine ``scalars.json``) -> canonical names.
MMDET_CANONICAL: dict[str, str] = {
    "coco/bbox_mAP": "val/AP",
    "coco/bbox_mAP_50": "val/AP50",
    "coco/bbox_mAP_75": "val/AP75",
    "coco/bbox_mAP_s": "val/APs",
    "coco/bbox_mAP_m": "val/APm",
    "coco/bbox_mAP_l": "val/APl",
    "pascal_voc/mAP": "val/VOCmAP",
    "loss": "train/loss",
}

#: Ultralytics' ``results.csv`` columns (detection) -> canonical names.
ULTRALYTICS_CANONICAL: dict[str, str] = {
    "metrics/mAP50-95(B)": "val/AP",
    "metrics/mAP50(B)": "val/AP50",
}

#: torchmetrics' ``MeanAveragePrecision`` keys as Lightning and Hugging Face users log them.
TORCHMETRICS_ALIASES: dict[str, str] = {
    f"{prefix}{key}": canonical
    for prefix in ("val/", "val_")
    for key, canonical in {
        "map": "val/AP",
        "map_50": "val/AP50",
        "map_75": "val/AP75",
        "map_small": "val/APs",
        "map_medium": "val/APm",
        "map_large": "val/APl",
    }.items()
} | {"train_loss": "train/loss", "train_loss_epoch": "train/loss"}


def with_canonical(values: Mapping[str, float], canonical: Mapping[str, str]) -> dict[str, float]:
    """``values`` plus a copy of each known value under its canonical name."""
    out = dict(values)
    for key, value in values.items():
        name = canonical.get(key)
        if name is not None and name not in values:
            out[name] = value
    return out
