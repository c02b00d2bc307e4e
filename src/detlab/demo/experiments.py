"""The experiment part of the demo: a series of real training runs, modelled on seed 002.

Each run is the training script :mod:`detlab.demo.train` launched as its own process on the
generated dataset, recording itself through the SDK and evaluated every epoch with the COCO and
VOC evaluators: a baseline; a lower learning rate; a lower objectness weight (``lambda_obj``);
no augmentation; a longer schedule derived from the best of those (its parent); a learning rate
high enough to diverge to NaN, supervised (:func:`detlab.supervise.supervise`) and restored from
its last checkpoint with a new seed; and a high ``lambda_obj`` that diverges too and is stopped
early. Conclusions are then written from the measured deltas (``+2.31 [baseline]``).

Every call records a new series: in the project ``detlab-demo``, or ``detlab-demo-2``,
``-3``, ... when earlier series are already in the store.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detlab.core.runs import Delta, Restart, RunRecord
from detlab.demo.features import prepare_data
from detlab.demo.train import METRIC, grid_spec, merged_config
from detlab.errors import DetlabError
from detlab.store.sql.store import SQLStore

__all__ = ["METRIC", "PROJECT", "SERIES", "ExperimentTour", "Planned", "run_experiment_tour"]

PROJECT = "detlab-demo"
BASELINE = "griddet-seed-sgd"


@dataclass(frozen=True)
class Planned:
    """One run of the series: what it changes against the baseline, and how it is launched."""

    name: str
    purpose: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    supervised: str | None = None  # None, or on_nan: "restart" / "stop"


SERIES = (
    Planned(BASELINE, "baseline of the series: SGD, warm-up + cosine, flip and colour jitter"),
    Planned("griddet-low-lr-sgd", "lower the peak learning rate from 1e-3 to 3e-4",
            {"optimizer": {"lr": 3e-4}}),
    Planned("griddet-low-obj-sgd", "lower lambda_obj from 5 to 1, the class weight",
            {"loss": {"lambda_obj": 1.0}}),
    Planned("griddet-no-aug-sgd", "turn augmentation off (no flip, no colour jitter)",
            {"augment": {"flip": 0.0, "jitter": 0.0}}),
    Planned("griddet-high-lr-sgd", "a 4x higher learning rate: does it converge faster?",
            {"optimizer": {"lr": 4e-3}, "schedule": {"warmup_epochs": 4.0},
             "resume": {"lr_scale": 0.25, "warmup_epochs": 1.0}}, supervised="restart"),
    Planned("griddet-high-obj-sgd", "raise lambda_obj from 5 to 15 with a 2.5x learning rate",
            {"loss": {"lambda_obj": 15.0}, "optimizer": {"lr": 2.5e-3},
             "schedule": {"warmup_epochs": 5.0}}, supervised="stop"),
)  # fmt: skip
#: Epochs of every run but the longer one, in both modes: ``--quick`` trains on fewer images.
#: The divergent runs' settings were chosen at this length (they diverge at epochs 3 to 4).
EPOCHS = 12
#: The runs compared before the longer schedule picks the best of them.
FIRST_ROUND = 4


@dataclass(frozen=True)
class ExperimentTour:
    project: str
    records: list[RunRecord]
    deltas: dict[str, dict[str, Delta]]
    restarts: dict[str, list[Restart]]
    summary: tuple[str, ...]
    supervised: dict[str, str]  # run -> the supervisor's final status


def run_experiment_tour(
    store: SQLStore,
    url: str,
    annotations: Path,
    images: Path,
    out: Path,
    *,
    seed: int = 0,
    progress: Callable[[RunRecord, float], None] | None = None,
) -> ExperimentTour:
    """Train and record the series under ``out/runs`` (replacing an earlier series' files
    there); ``progress`` hears of each run as it ends. Returns what the store then says."""
    project = fresh_project(store)
    base = _base_config(annotations, images, out, seed=seed)
    shutil.rmtree(out / "runs", ignore_errors=True)
    Path(base["data"]["cache"]).unlink(missing_ok=True)  # the images may have changed
    prepare_data(annotations, images, grid_spec(base), cache=base["data"]["cache"])
    supervised: dict[str, str] = {}
    for planned in _in_order(store, project, base):
        started = time.perf_counter()
        _launch(planned, base, project, url, out, supervised)
        if progress is not None:
            record = next(r for r in store.runs(project, metric=METRIC) if r.name == planned.name)
            progress(record, time.perf_counter() - started)
    names = [r.name for r in store.runs(project)]
    for name in names:
        _conclude(store, project, name)
    records = store.runs(project, metric=METRIC)
    return ExperimentTour(
        project,
        records,
        {n: store.deltas(project, n, METRIC) for n in names},
        {n: store.restarts(project, n) for n in names},
        _best_summary(store, project, records),
        supervised,
    )


def fresh_project(store: SQLStore) -> str:
    """``detlab-demo``, or the first ``detlab-demo-N`` not in the store yet."""
    taken = set(store.projects())
    n = 1
    while (PROJECT if n == 1 else f"{PROJECT}-{n}") in taken:
        n += 1
    return PROJECT if n == 1 else f"{PROJECT}-{n}"


def _base_config(annotations: Path, images: Path, out: Path, *, seed: int) -> dict[str, Any]:
    return merged_config(
        {
            "optimizer": {"lr": 1e-3},
            "schedule": {"epochs": EPOCHS},
            "data": {
                "annotations": str(annotations.resolve()),
                "images": str(images.resolve()),
                "cache": str((out / "data" / "images-downsampled.npz").resolve()),
            },
            "seed": seed,
        }
    )


def _in_order(store: SQLStore, project: str, base: dict[str, Any]) -> Iterator[Planned]:
    """The series in launch order; the longer schedule is planned once the first round ran."""
    yield from SERIES[:FIRST_ROUND]
    yield _longer(store, project, base)
    yield from SERIES[FIRST_ROUND:]


def _longer(store: SQLStore, project: str, base: dict[str, Any]) -> Planned:
    """A schedule twice as long, on the config of the best run so far (its parent)."""
    records = [r for r in store.runs(project, metric=METRIC) if r.best is not None]
    best = max(records, key=lambda r: r.best.value if r.best else -1.0).name
    planned = next(p for p in SERIES if p.name == best)
    changes = json.loads(json.dumps(dict(planned.changes)))
    changes.setdefault("schedule", {})["epochs"] = 2 * int(base["schedule"]["epochs"])
    stem = best.removesuffix("-sgd")
    return Planned(f"{stem}-long-sgd", f"train `{best}` (the best so far) twice as long",
                   changes, None)  # fmt: skip


def _launch(
    planned: Planned,
    base: dict[str, Any],
    project: str,
    url: str,
    out: Path,
    supervised: dict[str, str],
) -> None:
    folder = out / "runs" / planned.name
    folder.mkdir(parents=True, exist_ok=True)
    cfg = merged_config(json.loads(json.dumps(base)))
    for key, value in planned.changes.items():
        cfg[key] = {**cfg[key], **value} if isinstance(value, dict) else value
    parent = _parent_of(planned)
    cfg["run"] = {
        "project": project, "name": planned.name, "parent": parent, "purpose": planned.purpose,
        "baselines": _baselines(planned.name, parent), "tags": ["demo", "griddet"],
    }  # fmt: skip
    config = folder / "config.json"
    config.write_text(json.dumps(cfg, indent=2), encoding="utf-8")
    command = [sys.executable, "-m", "detlab.demo.train", "--config", str(config),
               "--out", str(folder / "checkpoints")]  # fmt: skip
    log = folder / "train.log"
    with _single_threaded_blas() as env:
        if planned.supervised is None:
            _run_plain([*command, "--store", url], env, log)
        else:
            supervised[planned.name] = _run_supervised(command, planned, project, url, env, log,
                                                       int(base["seed"]))  # fmt: skip


def _parent_of(planned: Planned) -> str | None:
    if planned.name == BASELINE:
        return None
    if planned.name.endswith("-long-sgd"):
        return planned.name.removesuffix("-long-sgd") + "-sgd"
    return BASELINE


def _baselines(name: str, parent: str | None) -> dict[str, str]:
    if parent is None:
        return {}
    found = {"baseline": BASELINE}
    if parent != BASELINE:
        found["parent"] = parent
    return found


@contextmanager
def _single_threaded_blas() -> Iterator[dict[str, str]]:
    """The training processes' environment: one BLAS thread each. The model's matrices are
    small, and two threads on two shared cores ran 4-7x slower than one in our measurements."""
    env = dict(os.environ)
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(key, "1")
    yield env


def _run_plain(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("w", encoding="utf-8") as handle:
        done = subprocess.run(command, env=env, stdout=handle, stderr=subprocess.STDOUT,
                              check=False)  # fmt: skip
    if done.returncode != 0:  # only the supervised runs are meant to fail
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-8:]
        raise DetlabError(
            f"the training script (--config {command[4]}) exited with status {done.returncode}; "
            f"the end of {log}:\n" + "\n".join(tail)
        )


def _run_supervised(
    command: list[str],
    planned: Planned,
    project: str,
    url: str,
    env: dict[str, str],
    log: Path,
    seed: int,
) -> str:
    from detlab.supervise import supervise  # noqa: PLC0415

    result = supervise(
        command, project=project, name=planned.name, store=url, max_restarts=3,
        checkpoints=None, resume_arg="--resume {checkpoint}", seed_arg="--seed {seed}",
        seeds=[seed + 28, seed + 31, seed + 29], on_nan=planned.supervised or "restart",
        log_file=log, env=env, echo=False,
    )  # fmt: skip
    return str(result.status)


def _conclude(store: SQLStore, project: str, name: str) -> None:
    """The run's conclusion, from its measured deltas (``+2.31 [baseline]``) and its history."""
    record = store.run(project, name)
    deltas = store.deltas(project, name, METRIC)
    shown = ", ".join(f"{d.points:+.2f} [{label}]" for label, d in deltas.items()
                      if d.points is not None)  # fmt: skip
    points = deltas["baseline"].points if "baseline" in deltas else None
    if not deltas:
        verdict = "the reference every other run of the series is measured against"
    elif points is None:
        verdict = "no finite value to compare"
    elif abs(points) < 1.0:
        verdict = "on par with the baseline (within 1 point)"
    else:
        verdict = "better than the baseline" if points > 0 else "worse than the baseline"
    lines = [f"{METRIC}: {shown}; {verdict}." if shown else f"{verdict[0].upper()}{verdict[1:]}."]
    restarts = store.restarts(project, name)
    lines += [f"The loss went NaN at epoch {r.epoch}; restored from epoch {r.loaded_epoch} "
              f"with seed {r.seed}." for r in restarts if r.reason == "nan"]  # fmt: skip
    if restarts and "optimizer.lr_after_resume" in record.params:
        lr = record.params["optimizer.lr_after_resume"]
        lines.append(f"Resumed with the peak learning rate lowered to {lr:g} and a new warm-up.")
    if record.status == "early_stopped":
        lines.append(f"EARLY STOP @ epoch {record.early_stop_step}: the loss diverged to NaN.")
    store.note(project, name, conclusion=" ".join(lines))


def _best_summary(store: SQLStore, project: str, records: list[RunRecord]) -> tuple[str, ...]:
    """The COCO summary of the best run at its best epoch, as pycocotools prints it."""
    from detlab.metrics.result import stored_summary  # noqa: PLC0415

    scored = [r for r in records if r.best is not None]
    if not scored:
        return ()
    best = max(scored, key=lambda r: r.best.value if r.best else -1.0)
    step = best.best.step if best.best else None
    found = store.selected_evaluations(project, {best.name: step}).get(best.name, {})
    return tuple(stored_summary(found["coco"].data)[1]) if "coco" in found else ()
