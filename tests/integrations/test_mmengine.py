"""A real mmengine ``Runner``: a tiny model, 2 epochs, COCO- and VOC-named val metrics."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detlab.store.sql.store import SQLStore
from tests.integrations.frameworks import require

mmengine = require("mmengine")
torch = require("torch")

from mmengine.config import Config  # noqa: E402
from mmengine.evaluator import BaseMetric  # noqa: E402
from mmengine.model import BaseModel  # noqa: E402
from mmengine.registry import DATASETS, METRICS, MODELS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from torch.utils.data import Dataset  # noqa: E402

import detlab.sdk.integrations.mmengine  # noqa: E402, F401  (registers the backend and hook)

PROJECT = "mmdet-live"
EPOCHS = 2
COCO_KEYS = ("bbox_mAP", "bbox_mAP_50", "bbox_mAP_75", "bbox_mAP_s", "bbox_mAP_m", "bbox_mAP_l")


@MODELS.register_module(force=True)
class DetlabTinyModel(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, targets, mode="tensor"):
        out = self.linear(inputs).squeeze(-1)
        if mode == "loss":
            loss = torch.nn.functional.mse_loss(out, targets)
            return {"loss_bbox": loss, "loss_cls": 0.5 * loss}
        return [(out, targets)]


@DATASETS.register_module(force=True)
class DetlabTinyDataset(Dataset):
    def __init__(self, size: int = 16) -> None:
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(size, 2, generator=generator)
        self.y = self.x @ torch.tensor([1.5, -2.0]) + 0.3

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict:
        return {"inputs": self.x[i], "targets": self.y[i]}


@METRICS.register_module(force=True)
class DetlabFakeDetectionMetric(BaseMetric):
    """Reports mmdetection's key names; the numbers improve as the error falls."""

    def __init__(self, prefix: str, keys: tuple[str, ...]) -> None:
        super().__init__(prefix=prefix)
        self.keys = keys

    def process(self, data_batch, data_samples) -> None:
        for out, target in data_samples:
            self.results.append(float(((out - target) ** 2).mean()))

    def compute_metrics(self, results) -> dict[str, float]:
        score = 1.0 / (1.0 + float(np.mean(results)))
        return {key: score / (i + 1) for i, key in enumerate(self.keys)}


def _loader() -> dict:
    return {
        "dataset": {"type": "DetlabTinyDataset"},
        "sampler": {"type": "DefaultSampler", "shuffle": False},
        "collate_fn": {"type": "default_collate"},
        "batch_size": 4,
        "num_workers": 0,
    }


def _runner(work_dir: Path, store_url: str, *, name: str = "tiny", **overrides: Any) -> Runner:
    """Built from a config, as mmdetection's tools/train.py does (the config becomes params)."""
    config = {
        "model": {"type": "DetlabTinyModel"},
        "work_dir": str(work_dir),
        "train_dataloader": _loader(),
        "val_dataloader": _loader(),
        "val_evaluator": [
            {"type": "DetlabFakeDetectionMetric", "prefix": "coco", "keys": COCO_KEYS},
            {"type": "DetlabFakeDetectionMetric", "prefix": "pascal_voc", "keys": ("mAP",)},
        ],
        "optim_wrapper": {"optimizer": {"type": "SGD", "lr": 0.05}},
        "train_cfg": {"by_epoch": True, "max_epochs": EPOCHS, "val_interval": 1},
        "val_cfg": {},
        "default_hooks": {
            "logger": {"type": "LoggerHook", "interval": 2},
            "checkpoint": {"type": "CheckpointHook", "interval": 1, "save_best": "coco/bbox_mAP"},
        },
        "custom_hooks": [{"type": "DetlabHook"}],
        "visualizer": {
            "type": "Visualizer",
            "vis_backends": [
                {"type": "LocalVisBackend"},  # scalars.json, to compare with
                {
                    "type": "DetlabVisBackend",
                    "project": PROJECT,
                    "run_name": name,
                    "store": store_url,
                },
            ],
        },
        "randomness": {"seed": 0},
        # mmengine names its default-scope instance after the experiment, which is a
        # timestamp to the second by default: two runners built within one second
        # would share it and mmengine warns. A name of its own per runner.
        "experiment_name": f"{name}-{uuid.uuid4().hex[:8]}",
    }
    return Runner.from_cfg(Config(config | overrides))


def _assert_same_as_import(work_dir: Path, store: SQLStore, name: str = "tiny") -> None:
    """The live run has the points `detlab import` reads from the work dir's scalars.json
    (the latest value per step: runner.val() after training logged epoch 2 again)."""
    from detlab.importers.mmengine import parse

    (imported,) = parse(work_dir)
    assert set(store.metric_keys(PROJECT, name)) == set(imported.metrics)
    for key, points in imported.metrics.items():
        latest = dict(points)
        steps, values = store.history(PROJECT, name, key)
        assert list(steps) == sorted(latest), key
        assert list(values) == pytest.approx([latest[s] for s in sorted(latest)]), key


def _epoch_means(work_dir: Path, key: str) -> list[float]:
    """The mean of ``key`` over each epoch's training rows in mmengine's own scalars.json."""
    (scalars,) = work_dir.glob("*/vis_data/scalars.json")
    rows = [json.loads(line) for line in scalars.read_text().splitlines()]
    epochs = sorted({r["epoch"] for r in rows if "iter" in r and "epoch" in r})
    return [
        float(np.mean([r[key] for r in rows if r.get("epoch") == e and "iter" in r]))
        for e in epochs
    ]


@pytest.mark.slow
def test_runner_lands_in_the_store(tmp_path: Path, store_url: str, store: SQLStore) -> None:
    runner = _runner(tmp_path / "work", store_url)
    runner.train()
    runner.val()  # after train() closed the run: reattached, in a new segment

    run = store.run(PROJECT, "tiny")
    assert run.status == "finished"
    assert run.params["train_cfg.max_epochs"] == EPOCHS
    assert run.params["optim_wrapper.optimizer.lr"] == 0.05

    keys = set(store.metric_keys(PROJECT, "tiny"))
    canonical = {"val/AP", "val/AP50", "val/AP75", "val/APs", "val/APm", "val/APl", "val/VOCmAP"}
    own = {"val/coco/bbox_mAP", "val/coco/bbox_mAP_50", "val/pascal_voc/mAP"}
    assert canonical | own | {"train/loss", "train/loss_cls", "train/loss_bbox", "train/lr"} <= keys
    assert not {"val/time", "val/data_time", "train/epoch", "train/iter"} & keys
    for key in ("val/AP", "val/VOCmAP", "train/loss"):
        steps, _ = store.history(PROJECT, "tiny", key)
        assert list(steps) == [1, 2], key  # 1-based epochs, as mmengine's console shows them
    _, ap = store.history(PROJECT, "tiny", "val/AP")
    _, own_ap = store.history(PROJECT, "tiny", "val/coco/bbox_mAP")
    assert list(ap) == list(own_ap)
    assert ap[1] > ap[0]  # the error fell, so the fake mAP rose
    _, ap50 = store.history(PROJECT, "tiny", "val/AP50")
    assert list(ap50) == pytest.approx([v / 2 for v in ap])
    _, losses = store.history(PROJECT, "tiny", "train/loss")
    assert list(losses) == pytest.approx(_epoch_means(tmp_path / "work", "loss"))
    again = store.history(PROJECT, "tiny", "val/AP", all_segments=True)
    assert list(again.segments) == [0, 0, 1]
    assert again.values[2] == pytest.approx(again.values[1])  # the same weights, validated again

    _assert_same_as_import(tmp_path / "work", store)

    artifacts = store.children(PROJECT, "tiny")["artifacts"]
    names = {a.uri.rsplit("/", 1)[-1] for a in artifacts}
    assert {"epoch_1.pth", "epoch_2.pth"} <= names
    assert any(n.startswith("best_coco_bbox_mAP") for n in names)
    assert all(a.kind == "checkpoint" for a in artifacts)


@pytest.mark.slow
def test_iteration_based_training_keeps_iterations(
    tmp_path: Path, store_url: str, store: SQLStore
) -> None:
    runner = _runner(
        tmp_path / "work",
        store_url,
        name="by-iter",
        train_cfg={"type": "IterBasedTrainLoop", "max_iters": 8, "val_interval": 4},
        train_dataloader={**_loader(), "sampler": {"type": "InfiniteSampler", "shuffle": False}},
        log_processor={"by_epoch": False},
        default_hooks={
            "logger": {"type": "LoggerHook", "interval": 2, "log_metric_by_epoch": False},
            "checkpoint": {"type": "CheckpointHook", "interval": 4, "by_epoch": False},
        },
    )
    runner.train()

    assert store.run(PROJECT, "by-iter").status == "finished"
    assert list(store.history(PROJECT, "by-iter", "train/loss").steps) == [2, 4, 6, 8]
    assert list(store.history(PROJECT, "by-iter", "val/AP").steps) == [4, 8]
    _assert_same_as_import(tmp_path / "work", store, "by-iter")
    artifacts = store.children(PROJECT, "by-iter")["artifacts"]
    assert {a.uri.rsplit("/", 1)[-1] for a in artifacts} == {"iter_4.pth", "iter_8.pth"}


def test_config_file_imports_and_registers_the_backend(tmp_path: Path) -> None:
    config = tmp_path / "config.py"
    config.write_text(
        'custom_imports = dict(imports=["detlab.sdk.integrations.mmengine"],'
        " allow_failed_imports=False)\n"
        'visualizer = dict(type="Visualizer", vis_backends=[dict(type="DetlabVisBackend",'
        ' project="p")])\n'
    )
    code = (
        "import sys; from mmengine.config import Config;"
        " from mmengine.registry import HOOKS, VISBACKENDS;"
        f" Config.fromfile({str(config)!r});"
        " print(VISBACKENDS.get('DetlabVisBackend').__module__, HOOKS.get('DetlabHook').__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["detlab.sdk.integrations.mmengine", "DetlabHook"]
