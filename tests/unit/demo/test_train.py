"""The demo's training script: checkpoints, resuming, and what it records in the store."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detlab.demo import checkpoint
from detlab.demo.train import main, train
from detlab.store import open_store


def _config(tiny_data: tuple[Path, Path], **changes: Any) -> dict[str, Any]:
    annotations, images = tiny_data
    cfg: dict[str, Any] = {
        "model": {"hidden": 16},
        "schedule": {"epochs": 3, "batch_size": 4, "warmup_epochs": 1.0},
        "optimizer": {"lr": 1e-3},
        "data": {"annotations": str(annotations), "images": str(images), "val": 0.15},
        "seed": 5,
    }
    for key, value in changes.items():
        cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
    return cfg


def _arrays(path: Path) -> dict[str, np.ndarray]:
    return checkpoint.load(path)


def test_resuming_from_a_checkpoint_is_bit_identical(
    tiny_data: tuple[Path, Path], tmp_path: Path
) -> None:
    cfg = _config(tiny_data)
    whole = train(cfg, tmp_path / "whole")
    assert whole.status == "finished"
    assert [p.name for p in whole.checkpoints] == ["epoch_000.npz", "epoch_001.npz",
                                                   "epoch_002.npz"]  # fmt: skip
    resumed = train(cfg, tmp_path / "resumed", resume=tmp_path / "whole" / "epoch_000.npz")
    assert [p.name for p in resumed.checkpoints] == ["epoch_001.npz", "epoch_002.npz"]
    a, b = _arrays(whole.checkpoints[-1]), _arrays(resumed.checkpoints[-1])
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    reseeded = train(cfg, tmp_path / "reseeded", seed=28,
                     resume=tmp_path / "whole" / "epoch_000.npz")  # fmt: skip
    assert not np.array_equal(_arrays(reseeded.checkpoints[-1])["param/w1"], a["param/w1"])


def test_a_lower_rate_and_fresh_momentum_on_resume(
    tiny_data: tuple[Path, Path], tmp_path: Path
) -> None:
    cfg = _config(tiny_data, resume={"lr_scale": 0.25, "warmup_epochs": 1.0})
    first = train(cfg, tmp_path / "a")
    train(cfg, tmp_path / "b", resume=first.checkpoints[0])
    state = _arrays(tmp_path / "b" / "epoch_002.npz")
    assert float(state["lr_peak"]) == pytest.approx(0.25e-3)
    assert float(state["warmup_start"]) == 1.0


def _write(cfg: dict[str, Any], path: Path, name: str) -> Path:
    cfg = {**cfg, "run": {"project": "griddet", "name": name, "tags": ["test"]}}
    path.write_text(json.dumps(cfg), encoding="utf-8")
    return path


def test_the_script_records_a_continuous_history_across_a_resume(
    tiny_data: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DETLAB_RUN_ID", raising=False)
    monkeypatch.delenv("DETLAB_SUPERVISOR_EVENTS", raising=False)
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    config = _write(_config(tiny_data), tmp_path / "cfg.json", "r")
    out = tmp_path / "ckpt"
    assert main(["--config", str(config), "--out", str(out), "--store", url]) == 0
    (out / "epoch_002.npz").unlink()
    again = ["--resume", str(out / "epoch_001.npz"), "--seed", "31"]
    assert main(["--config", str(config), "--out", str(out), "--store", url, *again]) == 0
    with open_store(url) as store:
        record = store.run("griddet", "r")
        assert record.status == "finished"
        assert record.params["optimizer.lr"] == 1e-3
        steps, values = store.history("griddet", "r", "train/loss")
        assert list(steps) == [0, 1, 2]
        assert all(math.isfinite(v) for v in values)
        ap_steps, _ = store.history("griddet", "r", "val/AP50")
        assert list(ap_steps) == [0, 1, 2]
        assert "val/mAP" in store.metric_keys("griddet", "r")  # the VOC evaluation
        [restart] = store.restarts("griddet", "r")
        assert (restart.epoch, restart.loaded_epoch, restart.seed) == (2, 1, 31)
        protocols = {e.protocol for e in store.evaluations("griddet", "r")}
        assert {"coco", "voc", "per_class_analysis"} <= protocols
        children = store.children("griddet", "r")
        kinds = [a.kind for a in children["artifacts"]]
        assert kinds.count("checkpoint") == 4
        roles = sorted(d.role for d in children["datasets"])
        assert roles == ["split", "val"]


def test_a_diverging_loss_is_logged_as_nan_and_fails_the_run(
    tiny_data: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DETLAB_RUN_ID", raising=False)
    monkeypatch.delenv("DETLAB_SUPERVISOR_EVENTS", raising=False)
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    cfg = _config(tiny_data, optimizer={"lr": 5.0}, schedule={"warmup_epochs": 0.0})
    config = _write(cfg, tmp_path / "cfg.json", "boom")
    assert main(["--config", str(config), "--out", str(tmp_path / "c"), "--store", url]) == 1
    with open_store(url) as store:
        assert store.run("griddet", "boom").status == "failed"
        _steps, values = store.history("griddet", "boom", "train/loss")
        assert math.isnan(values[-1])
