"""The store's queries, on SQLite and PostgreSQL: what goes in comes back, filters and diffs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import detlab
from detlab.core.runs import MISSING
from detlab.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from detlab.store.sql.store import SQLStore

PARAMS = {
    "model": {"backbone": "resnet18", "pretrained": True},
    "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9},
    "epochs": 300,
    "img_size": [416, 416],
    "resume_from": None,
}


def _run(store: SQLStore, name: str, values: list[float], **kwargs: object) -> None:
    with detlab.init(project="voc", name=name, store=store, **kwargs) as run:  # type: ignore[arg-type]
        for step, value in enumerate(values):
            run.log({"val/AP50": value, "train/loss": 1.0 / (step + 1)}, step=step)


def test_a_run_comes_back_as_recorded(store: SQLStore) -> None:
    _run(
        store,
        "r18-sgd",
        [0.1, 0.3, 0.2],
        params=PARAMS,
        tags=["colab", "voc"],
        parent="r18-base",
        baselines={"baseline": "r18-base"},
        purpose="lower objectness loss weight",
        change_kind="loss",
    )
    record = store.run("voc", "r18-sgd")
    assert record.status == "finished"
    assert record.params == {
        "model.backbone": "resnet18",
        "model.pretrained": True,
        "optimizer.name": "sgd",
        "optimizer.lr": 0.01,
        "optimizer.momentum": 0.9,
        "epochs": 300,
        "img_size": [416, 416],
        "resume_from": None,
    }
    assert isinstance(record.params["epochs"], int)
    assert record.tags == ("colab", "voc")
    assert record.parent == "r18-base"
    assert record.baselines == {"baseline": "r18-base"}
    assert record.purpose == "lower objectness loss weight"
    assert record.change_kind == "loss"
    assert record.python_version
    assert record.started is not None
    assert record.ended is not None
    assert record.ended >= record.started
    assert store.projects() == ["voc"]
    assert store.metric_keys("voc", "r18-sgd") == ["train/loss", "val/AP50"]


def test_history_best_and_non_finite_values(store: SQLStore) -> None:
    _run(store, "a", [0.1, math.nan, 0.5, math.inf, 0.5, -math.inf])
    steps, values = store.history("voc", "a", "val/AP50")
    np.testing.assert_array_equal(steps, [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(values, [0.1, math.nan, 0.5, math.inf, 0.5, -math.inf])
    value, step = store.best("voc", "a", "val/AP50")
    assert (value, step) == (0.5, 2)  # finite values only; the earliest of equal bests
    assert tuple(store.best("voc", "a", "train/loss", mode="min")) == (1 / 6, 5)


def test_param_diff_lists_only_what_changed(store: SQLStore) -> None:
    _run(store, "a", [0.1], params=PARAMS)
    changed = {**PARAMS, "optimizer": {"name": "adam", "lr": 0.01}, "ema": True}
    _run(store, "b", [0.2], params=changed)
    assert store.param_diff("voc", "a", "b") == {
        "ema": (MISSING, True),
        "optimizer.momentum": (0.9, MISSING),
        "optimizer.name": ("sgd", "adam"),
    }


def test_deltas_in_percentage_points_per_labelled_baseline(store: SQLStore) -> None:
    _run(store, "zqy-seed", [0.40, 0.5225])
    _run(store, "renaissance", [0.5548])
    _run(
        store,
        "low-obj",
        [0.5, 0.5888],
        baselines={"baseline": "zqy-seed", "renaissance": "renaissance", "gone": "nope"},
    )
    deltas = store.deltas("voc", "low-obj", "val/AP50")
    assert deltas["baseline"].points == 6.63
    assert deltas["renaissance"].points == 3.40
    assert deltas["gone"].points is None  # a baseline that is not in the store
    assert deltas["gone"].baseline_value is None


def test_run_filters(store: SQLStore) -> None:
    _run(store, "a", [0.3], params={"opt": "sgd", "lr": 0.01}, tags=["colab"])
    _run(
        store,
        "b",
        [0.6],
        params={"opt": "adam", "lr": 0.001, "amp": True},
        tags=["colab", "kaggle"],
    )
    with detlab.init(project="voc", name="c", store=store, params={"opt": "sgd"}) as run:
        run.log({"val/AP50": 0.9}, step=0)
        run.finish("failed")

    def names(**filters: object) -> list[str]:
        return [r.name for r in store.runs("voc", **filters)]  # type: ignore[arg-type]

    assert names() == ["a", "b", "c"]
    assert names(tags=["colab"]) == ["a", "b"]
    assert names(tags=["colab", "kaggle"]) == ["b"]
    assert names(status="failed") == ["c"]
    assert names(params={"opt": "sgd"}) == ["a", "c"]
    assert names(params={"lr": 0.001}) == ["b"]
    assert names(params={"amp": True}) == ["b"]
    assert names(params={"amp": 1}) == []  # a number is not a flag
    assert names(where={"val/AP50": (">=", 0.6)}) == ["b", "c"]
    assert names(where={"val/AP50": ("<", 0.5)}) == ["a"]
    best = {r.name: r.best for r in store.runs("voc", metric="val/AP50")}
    assert best["b"] is not None
    assert (best["b"].value, best["b"].step) == (0.6, 0)


def test_names_are_unique_within_a_project(store: SQLStore) -> None:
    _run(store, "a", [0.1])
    with pytest.raises(AlreadyExistsError, match="resume=True"):
        detlab.init(project="voc", name="a", store=store)
    detlab.init(project="coco", name="a", store=store).finish()  # another project: fine


def test_unknown_names_are_reported(store: SQLStore) -> None:
    _run(store, "a", [0.1])
    with pytest.raises(NotFoundError, match="'missing'"):
        store.run("voc", "missing")
    with pytest.raises(NotFoundError, match="no project 'nope'"):
        store.runs("nope")
    with pytest.raises(NotFoundError, match="val/AP50"):
        store.history("voc", "a", "val/AP75")


def test_bad_values_are_refused_and_nothing_is_lost(store: SQLStore) -> None:
    with detlab.init(project="voc", name="a", store=store) as run:
        run.log({"val/AP50": 0.5}, step=0)
        with pytest.raises(InvalidInputError, match=r"'val/AP75'.*not a number"):
            run.log({"val/AP75": "high"}, step=1)
        with pytest.raises(InvalidInputError, match="restart reason 'gremlins'"):
            run.restart(epoch=3, reason="gremlins")
        with pytest.raises(InvalidInputError, match="step"):
            run.log({"val/AP50": 0.5}, step=-1)
    assert store.history("voc", "a", "val/AP50").values.tolist() == [0.5]
    assert store.restarts("voc", "a") == []


def test_delete_removes_everything_of_the_run(store: SQLStore) -> None:
    _run(store, "a", [0.1], params={"x": 1}, tags=["t"])
    _run(store, "b", [0.2])
    store.delete_run("voc", "a")
    assert [r.name for r in store.runs("voc")] == ["b"]
    with pytest.raises(NotFoundError):
        store.run("voc", "a")
    _run(store, "a", [0.3])  # the name is free again
    assert store.history("voc", "a", "val/AP50").values.tolist() == [0.3]


def test_bulk_reads_agree_with_the_per_run_ones(store: SQLStore) -> None:
    import detlab

    for name, shift in (("a", 0.0), ("b", 0.1)):
        with detlab.init(project="p", name=name, store=store) as run:
            for step in range(4):
                run.log({"val/AP50": 0.1 * step + shift, "train/loss": 1.0 / (step + 1)}, step=step)
            run.restart(epoch=2, loaded_epoch=1, seed=7, reason="nan")
            run.log({"val/AP50": 0.9 + shift}, step=2)
    bulk = store.histories("p", ["a", "b", "not-there"])
    assert set(bulk) == {"a", "b"}
    for name in ("a", "b"):
        for key in ("val/AP50", "train/loss"):
            every = store.history("p", name, key, all_segments=True)
            latest = store.history("p", name, key)
            assert bulk[name][key].values.tolist() == every.values.tolist()
            assert bulk[name][key].segments.tolist() == every.segments.tolist()
            assert bulk[name][key].latest().steps.tolist() == latest.steps.tolist()
            assert bulk[name][key].latest().values.tolist() == latest.values.tolist()
            best = bulk[name][key].best("min" if "loss" in key else "max")
            assert best == store.best("p", name, key, "min" if "loss" in key else "max")
    assert store.histories("p", ["a"], keys=["train/loss"])["a"].keys() == {"train/loss"}


def test_selected_evaluations_take_the_chosen_step_else_the_last(store: SQLStore) -> None:
    import detlab

    gt = {
        "images": [{"id": 1, "width": 50, "height": 50}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [5, 5, 20, 20],
                         "area": 400, "iscrowd": 0}],
        "categories": [{"id": 1, "name": "fish"}],
    }  # fmt: skip
    with detlab.init(project="p", name="e", store=store) as run:
        for step, dx in enumerate((0.0, 6.0, 12.0)):
            dets = [{"image_id": 1, "category_id": 1, "bbox": [5 + dx, 5, 20, 20], "score": 0.9}]
            run.log_evaluation(detlab.evaluate_coco(gt, dets), step=step)
    at_one = store.selected_evaluations("p", {"e": 1})["e"]["coco"]
    assert at_one.step == 1
    assert store.selected_evaluations("p", {"e": None})["e"]["coco"].step == 2
    assert store.selected_evaluations("p", {"e": 99})["e"]["coco"].step == 2
    assert store.selected_evaluations("p", {"missing": 1}) == {}


def test_note_after_the_run_finished(store: SQLStore) -> None:
    with detlab.init(project="p", name="r", store=store):
        pass
    store.note("p", "r", conclusion="+2.31 [baseline]", references=["arXiv:1804.02767"])
    record = store.run("p", "r")
    assert (record.conclusion, record.references) == ("+2.31 [baseline]", ("arXiv:1804.02767",))
    with pytest.raises(InvalidInputError, match=r"store.note: unknown field\(s\) verdict"):
        store.note("p", "r", verdict="good")
    with pytest.raises(NotFoundError):
        store.note("p", "missing", conclusion="x")
