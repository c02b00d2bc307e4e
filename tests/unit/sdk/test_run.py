"""Recording a run with the SDK: segments after restarts, resume, evaluations, notes, endings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

import detlab
from detlab.errors import InvalidInputError, RunStateError
from detlab.metrics import COCOResult, evaluate_coco, evaluate_voc
from detlab.store.sql.store import SQLStore

GT = {
    "images": [{"id": 1, "width": 100, "height": 100}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 50], "area": 2500,
         "iscrowd": 0},
    ],
    "categories": [{"id": 1, "name": "fish"}],
}  # fmt: skip
DETS = [{"image_id": 1, "category_id": 1, "bbox": [12, 10, 50, 50], "score": 0.9}]


def test_a_restart_opens_a_segment_and_latest_values_win(store: SQLStore) -> None:
    with detlab.init(project="yolo", name="v4", store=store) as run:
        for epoch in range(10):
            run.log({"val/AP50": epoch / 10}, step=epoch)
        run.restart(epoch=9, loaded_epoch=7, seed=28, reason="nan", detail="loss went NaN")
        for epoch in range(8, 12):
            run.log({"val/AP50": epoch / 100}, step=epoch)
    latest = store.history("yolo", "v4", "val/AP50")
    assert latest.steps.tolist() == list(range(12))
    assert latest.values.tolist() == [e / 10 for e in range(8)] + [e / 100 for e in range(8, 12)]
    assert latest.segments.tolist() == [0] * 8 + [1] * 4
    everything = store.history("yolo", "v4", "val/AP50", all_segments=True)
    assert len(everything) == 14  # nothing logged is lost
    (restart,) = store.restarts("yolo", "v4")
    assert (restart.epoch, restart.loaded_epoch, restart.seed) == (9, 7, 28)
    assert (restart.reason, restart.detail, restart.segment) == ("nan", "loss went NaN", 1)
    assert store.best("yolo", "v4", "val/AP50").step == 7


def test_resume_reattaches_and_continues_steps(store: SQLStore) -> None:
    run = detlab.init(project="yolo", name="v4", store=store, params={"lr": 0.01})
    run.log({"loss": 3.0})
    run.log({"loss": 2.0})
    run.finish("crashed", error="Colab disconnected")
    with pytest.raises(RunStateError, match="resume=True"):
        run.log({"loss": 1.0})
    again = detlab.init(project="yolo", name="v4", store=store, resume=True)
    again.restart(epoch=2, loaded_epoch=1, seed=7, reason="disconnect")
    again.log({"loss": 1.0})  # step 2: continues after the last step logged
    again.finish()
    steps, values = store.history("yolo", "v4", "loss")
    assert steps.tolist() == [0, 1, 2]
    assert values.tolist() == [3.0, 2.0, 1.0]
    record = store.run("yolo", "v4")
    assert (record.status, record.error, record.segment) == ("finished", "", 1)
    assert record.params == {"lr": 0.01}
    assert [r.segment for r in store.restarts("yolo", "v4")] == [1]  # no second segment


def test_evaluations_are_stored_whole_and_logged_as_metrics(store: SQLStore) -> None:
    coco = evaluate_coco(GT, DETS)
    voc = evaluate_voc(GT, DETS)
    with detlab.init(project="yolo", name="v4", store=store) as run:
        run.log_evaluation(coco, step=3)
        run.log_evaluation(voc, step=3, prefix="voc/")
    assert store.best("yolo", "v4", "val/AP50") == detlab.core.runs.BestValue(
        "val/AP50", float(coco.stats[1]), 3
    )
    # undefined stats (-1: no large objects) are kept as NaN, not as a score of -1
    assert np.isnan(store.history("yolo", "v4", "val/APl").values[0])
    assert store.history("yolo", "v4", "voc/mAP").values.tolist() == [voc.map]
    first, second = store.evaluations("yolo", "v4")
    assert (first.protocol, first.step, second.protocol) == ("coco", 3, "voc")
    assert COCOResult.from_dict(first.data).summary() == coco.summary()


def test_notes_submissions_artifacts_and_datasets(store: SQLStore, tmp_path: Path) -> None:
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"\x00" * 1000)
    with detlab.init(project="yolo", name="v4", store=store, purpose="try mosaic") as run:
        run.note(conclusion="mosaic helps small objects", suggestions="try mixup")
        run.note(references=["https://github.com/AlexeyAB/darknet"])
        run.submit("public-lb", 54.5)
        run.log_artifact(weights, kind="checkpoint")
        run.log_dataset({"num_images": 10, "num_boxes": 30}, name="urpc-train", role="train")
        run.tag("colab", "mosaic")
    record = store.run("yolo", "v4")
    assert record.purpose == "try mosaic"
    assert record.conclusion == "mosaic helps small objects"
    assert record.suggestions == "try mixup"
    assert record.references == ("https://github.com/AlexeyAB/darknet",)
    assert record.tags == ("colab", "mosaic")
    children = store.children("yolo", "v4")
    assert [(s.board, s.score) for s in children["submissions"]] == [("public-lb", 54.5)]
    (artifact,) = children["artifacts"]
    assert (artifact.kind, artifact.size) == ("checkpoint", 1000)
    assert artifact.sha256 is not None
    assert len(artifact.sha256) == 64
    (snapshot,) = children["datasets"]
    assert (snapshot.name, snapshot.role, snapshot.stats["num_boxes"]) == (
        "urpc-train",
        "train",
        30,
    )


def test_dataset_statistics_and_splits_are_linked_once_per_project(store: SQLStore) -> None:
    ds = detlab.make_sequential_dataset(num_sequences=2, frames_per_sequence=20, seed=3)
    stats = detlab.dataset_stats(ds)
    split = detlab.split_dataset(ds, strategy="interval", val=0.15)
    for name in ("a", "b"):
        with detlab.init(project="urpc", name=name, store=store) as run:
            run.log_dataset(stats, name="urpc", role="train")
            run.log_dataset(split, name="urpc-interval", role="split")
    snapshots = {s.name: s for s in store.children("urpc", "b")["datasets"]}
    stored = snapshots["urpc"].stats
    assert stored["num_boxes"] == len(ds.annotations.ids) > 0
    assert stored == orjson.loads(orjson.dumps(stats.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY))
    assert snapshots["urpc-interval"].stats["strategy"] == "interval"
    assert snapshots["urpc-interval"].role == "split"
    fingerprints = {s.fingerprint for s in store.children("urpc", "a")["datasets"]}
    assert fingerprints == {s.fingerprint for s in snapshots.values()}


def test_log_dataset_rejects_what_is_not_statistics(store: SQLStore) -> None:
    with detlab.init(project="urpc", name="c", store=store) as run:
        with pytest.raises(InvalidInputError, match=r"log_dataset\('urpc'\).*got list"):
            run.log_dataset([1, 2], name="urpc")
        run.log({"train/loss": 1.0}, step=0)
    assert store.history("urpc", "c", "train/loss").values.tolist() == [1.0]


def test_early_stop_and_failures_end_the_run(store: SQLStore) -> None:
    run = detlab.init(project="yolo", name="es", store=store)
    run.log({"val/AP50": 0.5}, step=120)
    run.early_stop(120, reason="no improvement for 30 epochs")
    record = store.run("yolo", "es")
    assert (record.status, record.early_stop_step) == ("early_stopped", 120)
    assert record.notes == "no improvement for 30 epochs"
    with pytest.raises(ZeroDivisionError), detlab.init(project="yolo", name="f", store=store):
        _ = 1 / 0
    failed = store.run("yolo", "f")
    assert failed.status == "failed"
    assert "ZeroDivisionError" in failed.error


def test_a_generated_name_and_dataclass_params(store: SQLStore) -> None:
    from dataclasses import dataclass, field

    @dataclass
    class Optim:
        name: str = "sgd"
        lr: float = 0.01

    @dataclass
    class Config:
        epochs: int = 300
        optim: Optim = field(default_factory=Optim)

    run = detlab.init(project="yolo", store=store, params=Config())
    run.finish()
    assert store.run("yolo", run.name).params == {
        "epochs": 300,
        "optim.name": "sgd",
        "optim.lr": 0.01,
    }
