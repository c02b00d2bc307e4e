"""A real 1-epoch Ultralytics training (``yolov8n.yaml``, no weights) on a generated dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detlab.sdk.integrations.ultralytics import attach
from detlab.store.sql.store import SQLStore
from tests.integrations.frameworks import require

ultralytics = require("ultralytics")

PROJECT = "yolo-live"
CLASSES = ("square", "bar")


def _write_dataset(root: Path, *, images: int = 8, size: int = 64) -> Path:
    """Coloured rectangles on noise, YOLO labels; train and val share the images."""
    from PIL import Image

    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for i in range(images):
        pixels = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
        lines = []
        for cls, (w, h) in enumerate(((20, 20), (30, 10))):
            x, y = (int(v) for v in rng.integers(2, size - 32, 2))
            pixels[y : y + h, x : x + w] = (230, 40, 40) if cls == 0 else (40, 230, 40)
            cx, cy = (x + w / 2) / size, (y + h / 2) / size
            lines.append(f"{cls} {cx:.6f} {cy:.6f} {w / size:.6f} {h / size:.6f}")
        Image.fromarray(pixels).save(root / "images" / f"{i:03d}.png")
        (root / "labels" / f"{i:03d}.txt").write_text("\n".join(lines) + "\n")
    names = "\n".join(f"  {i}: {n}" for i, n in enumerate(CLASSES))
    data = root / "data.yaml"
    data.write_text(f"path: {root}\ntrain: images\nval: images\nnames:\n{names}\n")
    return data


def _train(
    tmp_path: Path, store_url: str, *, callbacks: dict | None = None, **overrides: object
) -> object:
    model = ultralytics.YOLO("yolov8n.yaml")
    recorder = attach(model, project=PROJECT, name="v8n-tiny", store=store_url, tags=["ci"])
    for event, callback in (callbacks or {}).items():
        model.add_callback(event, callback)
    args = {
        "data": str(_write_dataset(tmp_path / "data")),
        "epochs": 1,
        "imgsz": 64,
        "batch": 4,
        "workers": 0,
        "device": "cpu",
        "pretrained": False,
        "amp": False,
        "plots": False,
        "val": True,
        "seed": 0,
        "project": str(tmp_path / "runs"),
        "name": "train",
        "exist_ok": True,
        "verbose": False,
    }
    model.train(**(args | overrides))
    return recorder


def _assert_same_as_import(run_dir: Path, store: SQLStore) -> None:
    """The live run has the points `detlab import` reads from the run folder's results.csv."""
    from detlab.importers.ultralytics import parse

    (imported,) = parse(run_dir)
    assert set(store.metric_keys(PROJECT, "v8n-tiny")) == set(imported.metrics)
    for key, points in imported.metrics.items():
        if key == "train/time":  # written a moment apart
            continue
        steps, values = store.history(PROJECT, "v8n-tiny", key)
        assert list(steps) == [s for s, _ in points], key
        assert list(values) == pytest.approx([v for _, v in points], abs=1e-5), key


def _last(store: SQLStore, key: str) -> float:
    _, values = store.history(PROJECT, "v8n-tiny", key)
    return float(values[-1])


@pytest.mark.slow
def test_training_lands_in_the_store(tmp_path: Path, store_url: str, store: SQLStore) -> None:
    _train(tmp_path, store_url)

    run = store.run(PROJECT, "v8n-tiny")
    assert run.status == "finished"
    assert run.tags == ("ci",)
    assert run.params["epochs"] == 1
    assert run.params["imgsz"] == 64
    assert run.params["model"] == "yolov8n.yaml"

    keys = set(store.metric_keys(PROJECT, "v8n-tiny"))
    canonical = {"val/AP50", "val/AP", "train/loss"}
    own = {"train/box_loss", "train/cls_loss", "train/dfl_loss", "val/mAP50(B)", "val/mAP50-95(B)"}
    assert canonical | own | {"val/precision(B)", "val/recall(B)", "train/lr/pg0"} <= keys
    for key in ("val/AP50", "val/AP", "train/loss", "train/lr/pg0"):
        steps, values = store.history(PROJECT, "v8n-tiny", key)
        assert list(steps) == [1], key  # the console's "1/1": 1-based epochs
        assert np.isfinite(values).all()
    ap50 = _last(store, "val/AP50")
    assert ap50 == _last(store, "val/mAP50(B)")
    assert 0.0 <= ap50 <= 1.0
    parts = [_last(store, f"train/{k}_loss") for k in ("box", "cls", "dfl")]
    assert _last(store, "train/loss") == pytest.approx(sum(parts))

    _assert_same_as_import(tmp_path / "runs" / "train", store)

    (evaluation,) = store.evaluations(PROJECT, "v8n-tiny")
    assert evaluation.protocol == "per_class_table"
    rows = evaluation.data["per_class"]
    assert sorted(r["name"] for r in rows) == sorted(CLASSES)
    for row in rows:
        assert 0.0 <= row["ap"] <= row["ap50"] <= 1.0
        assert 0.0 <= row["ap75"] <= row["ap50"]
        assert row["num_gt"] == 8  # one box of each class in each of the 8 images

    artifacts = store.children(PROJECT, "v8n-tiny")["artifacts"]
    uris = sorted(a.uri.rsplit("/", 1)[-1] for a in artifacts)
    assert uris == ["best.pt", "last.pt"]
    assert all(a.kind == "checkpoint" and a.size > 0 for a in artifacts)


@pytest.mark.slow
def test_training_that_raises_marks_the_run_failed(
    tmp_path: Path, store_url: str, store: SQLStore
) -> None:
    with pytest.raises(Exception, match=r"(?i)optimizer"):
        _train(tmp_path, store_url, optimizer="no-such-optimizer")
    run = store.run(PROJECT, "v8n-tiny")
    assert run.status == "failed"
    assert "no-such-optimizer" in run.error


def _disconnect_at_epoch_2(trainer) -> None:
    if trainer.epoch == 1:
        raise ConnectionError("Colab disconnected")


@pytest.mark.slow
def test_resumed_training_goes_on_in_the_same_run(
    tmp_path: Path, store_url: str, store: SQLStore
) -> None:
    cut = {"on_train_epoch_start": _disconnect_at_epoch_2}
    with pytest.raises(ConnectionError):
        _train(tmp_path, store_url, callbacks=cut, epochs=3)
    assert store.run(PROJECT, "v8n-tiny").status == "failed"

    last = tmp_path / "runs" / "train" / "weights" / "last.pt"
    model = ultralytics.YOLO(str(last))
    attach(model, project=PROJECT, name="v8n-tiny", store=store_url)
    model.train(resume=True, workers=0, device="cpu", plots=False)

    run = store.run(PROJECT, "v8n-tiny")
    assert run.status == "finished"
    (restart,) = store.restarts(PROJECT, "v8n-tiny")
    assert restart.loaded_epoch == 1
    assert str(last) in restart.detail
    history = store.history(PROJECT, "v8n-tiny", "val/AP50", all_segments=True)
    assert list(history.steps) == [1, 2, 3]
    assert list(history.segments) == [0, 1, 1]
