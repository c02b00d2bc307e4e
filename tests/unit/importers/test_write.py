"""Storing imported runs: idempotent, growth adds only new points, names stay unique."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from detlab.errors import AlreadyExistsError
from detlab.importers import mmdet2
from detlab.importers.model import ImportedRestart, ImportedRun
from detlab.importers.registry import parse_path
from detlab.importers.write import SOURCE_KIND, ImportResult, write_run
from detlab.store.sql.store import SQLStore

FIXTURES = Path(__file__).parents[2] / "fixtures" / "importers"
URPC = FIXTURES / "mmdet2" / "cascade_rcnn_r50_fpn_1x_urpc"
PROJECT = "imports"


def _copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(URPC, tmp_path / URPC.name))


def _import(store: SQLStore, folder: Path, *, dry_run: bool = False) -> list[ImportResult]:
    runs = parse_path(folder)
    return [write_run(store, r, project=PROJECT, dry_run=dry_run) for r in runs]


def test_run_is_stored_with_its_record(store: SQLStore, tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (result,) = _import(store, folder)
    assert result.created
    assert result.best == ("val/AP", 0.431, 3)
    value, step = store.best(PROJECT, URPC.name, "val/AP")
    assert (value, step) == (0.431, 3)
    record = store.run(PROJECT, URPC.name)
    assert record.status == "finished"
    assert record.params["optimizer.lr"] == 0.02
    assert "imported" in record.tags
    (restart,) = store.restarts(PROJECT, URPC.name)
    assert (restart.epoch, restart.loaded_epoch, restart.reason) == (3, 2, "manual")
    assert restart.segment == 1
    history = store.history(PROJECT, URPC.name, "val/AP", all_segments=True)
    assert list(history.segments) == [0, 0, 1, 1]
    assert [e.step for e in store.evaluations(PROJECT, URPC.name)] == [1, 2]
    artifacts = store.children(PROJECT, URPC.name)["artifacts"]
    assert [a.kind for a in artifacts] == [SOURCE_KIND]
    assert artifacts[0].uri == folder.resolve().as_uri()


def test_importing_twice_adds_nothing(store: SQLStore, tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (first,) = _import(store, folder)
    (second,) = _import(store, folder)
    assert not second.created
    assert second.name == first.name
    assert (second.points_added, second.evaluations_added, second.restarts_added) == (0, 0, 0)
    assert second.points_existing == first.points_added
    assert len(store.runs(PROJECT)) == 1
    assert len(store.restarts(PROJECT, URPC.name)) == 1


def test_a_grown_log_adds_only_the_new_points(store: SQLStore, tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _import(store, folder)
    with (folder / "20200304_090000.log.json").open("a") as handle:
        handle.write('{"mode": "val", "epoch": 5, "iter": 570, "lr": 0.02, "bbox_mAP": 0.45}\n')
    (result,) = _import(store, folder)
    assert result.points_added == 2  # val/bbox_mAP and val/AP at epoch 5
    value, step = store.best(PROJECT, URPC.name, "val/AP")
    assert (value, step) == (0.45, 5)
    history = store.history(PROJECT, URPC.name, "val/AP", all_segments=True)
    assert list(history.steps) == [1, 2, 3, 4, 5]


def test_an_epoch_that_grew_gets_its_new_mean(store: SQLStore, tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    log = folder / "20200304_090000.log.json"
    full = log.read_text()
    log.write_text("".join(full.splitlines(keepends=True)[:-2]))  # cut inside epoch 4
    _import(store, folder)
    log.write_text(full)  # epoch 4 went on: one more training row, then its validation
    (result,) = _import(store, folder)
    # epoch 4's validation (6 mmdetection keys, 6 canonical) and its training means again:
    # 8 changed (lr and memory did not)
    assert (result.points_added, result.points_updated) == (12 + 8, 8)
    latest = store.history(PROJECT, URPC.name, "train/loss")
    assert list(latest.steps) == [1, 2, 3, 4]
    assert latest.values[-1] == pytest.approx((0.64236 + 0.63028) / 2)
    (again,) = _import(store, folder)
    assert (again.points_added, again.points_updated) == (0, 0)
    value, step = store.best(PROJECT, URPC.name, "val/AP")
    assert (value, step) == (0.431, 3)


def test_repeated_steps_after_a_resume_are_counted_not_merged(store: SQLStore) -> None:
    run = ImportedRun(source="test", path=Path("-"), name="resumed")
    for step, value in ((1, 0.5), (2, 0.6), (2, 0.6)):
        run.add_metric("val/AP", step, value)
    run.add_restart(ImportedRestart(2, 1, "manual", "resumed"))
    run.add_metric("val/AP", 2, 0.55)
    first = write_run(store, run, project=PROJECT)
    again = write_run(store, run, project=PROJECT)
    assert (first.points_added, again.points_added, again.points_existing) == (4, 0, 4)
    run.add_metric("val/AP", 2, 0.6)  # the same pair once more: a new point
    grown = write_run(store, run, project=PROJECT)
    assert grown.points_added == 1
    history = store.history(PROJECT, "resumed", "val/AP", all_segments=True)
    assert list(history.steps) == [1, 2, 2, 2, 2]
    assert list(history.segments) == [0, 0, 0, 1, 1]


def test_same_name_from_another_folder_gets_a_suffix(store: SQLStore, tmp_path: Path) -> None:
    one = Path(shutil.copytree(URPC, tmp_path / "a" / URPC.name))
    two = Path(shutil.copytree(URPC, tmp_path / "b" / URPC.name))
    (first,) = _import(store, one)
    (second,) = _import(store, two)
    assert (first.name, second.name) == (URPC.name, f"{URPC.name}-2")
    (again,) = _import(store, two)
    assert (again.name, again.created, again.points_added) == (f"{URPC.name}-2", False, 0)


def test_explicit_name_of_another_run_is_refused(store: SQLStore, tmp_path: Path) -> None:
    _import(store, _copy(tmp_path))
    (other,) = mmdet2.parse(FIXTURES / "mmdet2" / "faster_rcnn_r50_fpn_1x_voc0712")
    with pytest.raises(AlreadyExistsError, match="choose another --name"):
        write_run(store, other, project=PROJECT, name=URPC.name)


def test_dry_run_writes_nothing(store: SQLStore, tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _import(store, FIXTURES / "mmdet2" / "faster_rcnn_r50_fpn_1x_voc0712")
    (result,) = _import(store, folder, dry_run=True)
    assert result.created
    assert result.points_added > 0
    assert [r.name for r in store.runs(PROJECT)] == ["faster_rcnn_r50_fpn_1x_voc0712"]
