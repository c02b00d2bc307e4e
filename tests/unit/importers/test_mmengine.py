"""mmengine / mmdetection 3.x work dirs, produced here by the real mmengine Runner."""

from __future__ import annotations

from pathlib import Path

from detlab.importers import mmengine
from detlab.importers.model import ImportedRun

FIXTURES = Path(__file__).parents[2] / "fixtures" / "importers" / "mmengine"


def _parse(folder: Path) -> ImportedRun:
    (run,) = mmengine.parse(folder)
    return run


def test_best_coco_ap_and_epoch_across_a_resume() -> None:
    run = _parse(FIXTURES / "toy_coco_epochs")
    assert run.step_unit == "epoch"
    assert run.best("val/AP") == (0.5282, 5)  # "coco/bbox_mAP": 0.5282, "step": 5
    assert run.best("val/coco/bbox_mAP_50") == (0.7923, 5)
    assert run.metrics["val/APs"][0] == (1, 0.1768)
    assert [s for s, _ in run.metrics["train/loss"]] == [1, 2, 3, 4, 5]


def test_second_timestamp_folder_is_a_manual_restart() -> None:
    run = _parse(FIXTURES / "toy_coco_epochs")
    (restart,) = run.restarts
    assert (restart.epoch, restart.loaded_epoch, restart.reason) == (3, 3, "manual")
    assert "epoch_3.pth" in restart.detail
    assert run.segments["val/AP"] == [0, 0, 0, 1, 1]


def test_config_from_vis_data() -> None:
    run = _parse(FIXTURES / "toy_coco_epochs")
    assert run.params["train_cfg.max_epochs"] == 5  # the last launch's config
    assert run.params["optim_wrapper.optimizer.lr"] == 0.02
    assert run.params["val_evaluator.type"] == "ToyCocoMetric"


def test_iteration_based_run_uses_iterations() -> None:
    run = _parse(FIXTURES / "toy_voc_iters")
    assert run.step_unit == "iter"
    assert run.best("val/VOCmAP") == (0.7043, 40)  # "pascal_voc/mAP": 0.7043, "step": 40
    assert run.metrics["val/pascal_voc/mAP"][0] == (20, 0.4297)
    assert run.metrics["train/loss"][0] == (4, 9.093554735183716)
    assert run.restarts == []


def test_one_timestamp_folder_alone(tmp_path: Path) -> None:
    launch = next(p for p in (FIXTURES / "toy_coco_epochs").iterdir() if p.is_dir())
    run = _parse(launch)
    assert run.best("val/AP") == (0.3894, 2)
    assert run.restarts == []


def test_corrupted_line_reported_and_the_rest_read(tmp_path: Path) -> None:
    src = next(p for p in (FIXTURES / "toy_voc_iters").iterdir() if p.is_dir())
    launch = tmp_path / src.name / "vis_data"
    launch.mkdir(parents=True)
    lines = (src / "vis_data" / "scalars.json").read_text().splitlines()
    lines[2] = lines[2][:40]
    (launch / "scalars.json").write_text("\n".join(lines) + "\n")
    run = _parse(tmp_path / src.name)
    (problem,) = run.problems
    assert problem.record == "line 3"
    assert run.best("val/VOCmAP") == (0.7043, 40)


def test_public_mmpretrain_run_with_its_config() -> None:
    """The first 12 lines of a public run's scalars.json (a classifier: no detection metric)."""
    run = _parse(FIXTURES / "openmmlab_camp")
    assert run.best("val/accuracy/top1") == (83.67346954345703, 5)
    assert run.metrics["train/loss"][0] == (1, 1.7152580142021179)
    assert "val/AP" not in run.metrics
    assert run.params["model.backbone.depth"] == 50
    assert run.params["model.backbone.out_indices"] == [3]
    assert run.params["param_scheduler.milestones"] == [30, 60, 90]
    assert run.params["randomness.seed"] is None
