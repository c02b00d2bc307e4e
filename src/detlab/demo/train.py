"""The demo's training script: ``python -m detlab.demo.train --config cfg.json --out DIR``.

It trains the grid detector of :mod:`detlab.demo.model` by mini-batch SGD and records
everything through the SDK, as a user's own script would: ``detlab.init`` with the config as
parameters, ``train/loss`` and its parts each epoch, a COCO and a VOC evaluation of the val split
each epoch, a checkpoint per epoch (``DIR/epoch_NNN.npz``: weights, optimizer state, epoch, RNG
state) registered with the run, and the per-class analysis of the best epoch at the end.

``--resume CKPT`` continues after the checkpoint's epoch (bit-identical to never stopping when
no ``--seed`` is given); ``--seed N`` reseeds the shuffling and augmentation, as the seed logs
did on every restore. A config's ``resume.lr_scale`` lowers the peak learning rate on every
resume and ``resume.warmup_epochs`` warms up again (the logs' trick after a NaN); both are
recorded as parameters. A non-finite loss is logged as ``train/loss = nan`` and reported with
``run.fail("nan")``; the script then exits with status 1 (under ``detlab run`` the supervisor
restores it from its last checkpoint).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detlab.demo import checkpoint
from detlab.demo.evaluation import evaluate_epoch, link_datasets, log_per_class
from detlab.demo.features import GridSpec, TrainingData, augment, cell_patches, prepare_data
from detlab.demo.model import LossWeights, Params, backward, forward, init_params
from detlab.demo.model import loss_and_grad as model_loss
from detlab.demo.optim import learning_rate, sgd_step

__all__ = ["DEFAULT_CONFIG", "TrainOutcome", "grid_spec", "main", "train"]

#: Every key a config may set; a config file overrides some of them.
DEFAULT_CONFIG: dict[str, Any] = {
    "model": {"hidden": 48, "factor": 4, "cell": 4, "context": 4, "anchor": 32.0},
    "loss": {"lambda_obj": 5.0, "lambda_noobj": 1.0, "lambda_class": 1.0, "lambda_coord": 2.0},
    "optimizer": {"name": "sgd", "lr": 0.02, "momentum": 0.9, "weight_decay": 5e-4,
                  "clip_max_norm": None},
    "schedule": {"epochs": 15, "warmup_epochs": 2.0, "batch_size": 8},
    "augment": {"flip": 0.5, "jitter": 0.1},
    "resume": {"lr_scale": 1.0, "warmup_epochs": 0.0, "reset_momentum": True},
    "checkpoint": {"max_loss_ratio": 3.0},
    "data": {"annotations": "", "images": "", "cache": None, "val": 0.15},
    "eval": {"conf": 0.01, "iou": 0.5},
    "seed": 0,
}  # fmt: skip

METRIC = "val/AP50"


@dataclass
class TrainOutcome:
    """How a training call ended: ``finished`` or ``nan`` (at ``epoch``), best ``val/AP50``."""

    status: str
    epoch: int
    best: float = -1.0
    best_epoch: int = -1
    checkpoints: list[Path] = field(default_factory=list)


def merged_config(overrides: dict[str, Any]) -> dict[str, Any]:
    """``DEFAULT_CONFIG`` with ``overrides`` laid over it, section by section."""
    cfg: dict[str, Any] = json.loads(json.dumps(DEFAULT_CONFIG))
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    return cfg


def grid_spec(cfg: dict[str, Any]) -> GridSpec:
    m = cfg["model"]
    return GridSpec(int(m["factor"]), int(m["cell"]), int(m["context"]), float(m["anchor"]))


@dataclass
class _State:
    """Everything a checkpoint holds besides the config."""

    params: Params
    velocity: Params
    rng: np.random.Generator
    epoch: int = -1  # last completed epoch
    lr_peak: float = 0.0
    warmup_start: float = 0.0
    lowest_loss: float = math.inf


def train(
    cfg: dict[str, Any],
    out: str | Path,
    *,
    run: Any = None,
    resume: str | Path | None = None,
    seed: int | None = None,
    data: TrainingData | None = None,
    verbose: bool = False,
) -> TrainOutcome:
    """Train with ``cfg`` (see :data:`DEFAULT_CONFIG`), checkpoints under ``out``; log to ``run``
    (a :class:`detlab.sdk.Run`) when given. ``data`` skips reading the dataset again."""
    cfg = merged_config(cfg)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    spec = grid_spec(cfg)
    if data is None:
        d = cfg["data"]
        data = prepare_data(d["annotations"], d["images"], spec, val=d["val"], cache=d["cache"])
    if run is not None and resume is None:
        link_datasets(run, data, float(cfg["data"]["val"]))
    state = _start_state(cfg, data, spec, resume, seed, run)
    outcome = TrainOutcome("finished", state.epoch)
    best_params: Params = {}
    for epoch in range(state.epoch + 1, int(cfg["schedule"]["epochs"])):
        started = time.perf_counter()
        parts = _train_epoch(cfg, data, spec, state, epoch)
        if not math.isfinite(parts["loss"]):
            return _report_nan(run, outcome, epoch, parts)
        state.epoch = epoch
        _log_losses(run, epoch, parts)
        ap50 = evaluate_epoch(data, state.params, spec, run, epoch, **_eval_options(cfg))
        if _healthy(cfg, state, parts["loss"]):
            path = checkpoint.save(out / f"epoch_{epoch:03d}.npz", state_arrays(state))
            outcome.checkpoints.append(path)
            _register_checkpoint(run, path, epoch)
        if ap50 > outcome.best:
            outcome.best, outcome.best_epoch = ap50, epoch
            best_params = {k: v.copy() for k, v in state.params.items()}
        outcome.epoch = epoch
        if verbose:
            took = time.perf_counter() - started
            print(f"epoch {epoch:3d}  loss {parts['loss']:.4f}  {METRIC} {ap50:.4f}  "  # noqa: T201
                  f"lr {parts['lr']:.4g}  {took:.2f} s", flush=True)  # fmt: skip
    if run is not None and outcome.best_epoch >= 0:
        log_per_class(data, best_params, spec, run, outcome.best_epoch, **_eval_options(cfg))
    return outcome


def _start_state(
    cfg: dict[str, Any],
    data: TrainingData,
    spec: GridSpec,
    resume: str | Path | None,
    seed: int | None,
    run: Any,
) -> _State:
    if resume is None:
        rng = np.random.default_rng(cfg["seed"] if seed is None else seed)
        features = (spec.cell + 2 * spec.context) ** 2 * 3
        classes = len(data.dataset.categories)
        params = init_params(features, classes, hidden=int(cfg["model"]["hidden"]), rng=rng)
        velocity = {k: np.zeros_like(v) for k, v in params.items()}
        return _State(params, velocity, rng, -1, float(cfg["optimizer"]["lr"]), 0.0)
    state = state_from_arrays(checkpoint.load(resume))
    if seed is not None:
        state.rng = np.random.default_rng(seed)
    scale = float(cfg["resume"]["lr_scale"])
    if scale != 1.0 or float(cfg["resume"]["warmup_epochs"]) > 0:
        state.lr_peak *= scale
        state.warmup_start = float(state.epoch + 1)
        if cfg["resume"]["reset_momentum"]:
            state.velocity = {k: np.zeros_like(v) for k, v in state.velocity.items()}
        if run is not None:
            run.log_params({"optimizer": {"lr_after_resume": state.lr_peak},
                            "resume": {"at_epoch": state.epoch + 1}})  # fmt: skip
    return state


def state_arrays(state: _State) -> dict[str, np.ndarray]:
    """A state as named arrays for :func:`checkpoint.save`."""
    arrays = {f"param/{k}": v for k, v in state.params.items()}
    arrays.update({f"velocity/{k}": v for k, v in state.velocity.items()})
    arrays["epoch"] = np.array(state.epoch)
    arrays["rng"] = np.array(json.dumps(state.rng.bit_generator.state))
    arrays["lr_peak"] = np.array(state.lr_peak)
    arrays["warmup_start"] = np.array(state.warmup_start)
    arrays["lowest_loss"] = np.array(state.lowest_loss)
    return arrays


def state_from_arrays(arrays: dict[str, np.ndarray]) -> _State:
    params = {k.removeprefix("param/"): v for k, v in arrays.items() if k.startswith("param/")}
    velocity = {
        k.removeprefix("velocity/"): v for k, v in arrays.items() if k.startswith("velocity/")
    }
    rng = np.random.default_rng()
    rng.bit_generator.state = json.loads(str(arrays["rng"]))
    return _State(params, velocity, rng, int(arrays["epoch"]), float(arrays["lr_peak"]),
                  float(arrays["warmup_start"]), float(arrays["lowest_loss"]))  # fmt: skip


def _train_epoch(
    cfg: dict[str, Any], data: TrainingData, spec: GridSpec, state: _State, epoch: int
) -> dict[str, float]:
    batch = int(cfg["schedule"]["batch_size"])
    order = data.train[state.rng.permutation(data.train.size)]
    steps = math.ceil(order.size / batch)
    totals = {"loss": 0.0, "obj": 0.0, "cls": 0.0, "box": 0.0}
    parts = {"lr": 0.0}
    for i in range(steps):
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not warned
            loss, parts = _train_step(cfg, data, spec, state, order[i * batch : (i + 1) * batch],
                                      epoch + i / steps)  # fmt: skip
        if not math.isfinite(loss):
            return {**totals, "loss": math.nan, "lr": parts["lr"]}
        totals["loss"] += loss / steps
        for key in ("obj", "cls", "box"):
            totals[key] += parts[key] / steps
    return {**totals, "lr": parts["lr"]}


def _train_step(
    cfg: dict[str, Any],
    data: TrainingData,
    spec: GridSpec,
    state: _State,
    index: np.ndarray,
    t: float,
) -> tuple[float, dict[str, float]]:
    """One SGD step on the images at ``index``, at fractional epoch ``t``."""
    sched, opt, aug = cfg["schedule"], cfg["optimizer"], cfg["augment"]
    lr = learning_rate(t, peak=state.lr_peak, epochs=int(sched["epochs"]),
                       warmup_epochs=_warmup(cfg, state),
                       warmup_start=state.warmup_start)  # fmt: skip
    images, targets = augment(data.images[index], data.targets.take(index), state.rng,
                              flip=float(aug["flip"]), jitter=float(aug["jitter"]))  # fmt: skip
    x = cell_patches(data.normalise(images), spec)
    out, cache = forward(state.params, x.reshape(-1, x.shape[-1]))
    loss, parts, dout = model_loss(
        out, targets.obj.reshape(-1), targets.cls.reshape(-1), targets.box.reshape(-1, 4),
        targets.ignore.reshape(-1), weights=_loss_weights(cfg), images=index.size,
    )  # fmt: skip
    if math.isfinite(loss):
        sgd_step(state.params, backward(state.params, cache, dout), state.velocity, lr=lr,
                 momentum=float(opt["momentum"]), weight_decay=float(opt["weight_decay"]),
                 clip_max_norm=opt["clip_max_norm"])  # fmt: skip
    return loss, {**parts, "lr": lr}


def _healthy(cfg: dict[str, Any], state: _State, loss: float) -> bool:
    """Whether an epoch's weights are worth a checkpoint: a loss spiking above
    ``max_loss_ratio`` times the lowest so far is the usual herald of a NaN, and restoring
    from such weights would only diverge again."""
    state.lowest_loss = min(state.lowest_loss, loss)
    return loss <= float(cfg["checkpoint"]["max_loss_ratio"]) * state.lowest_loss


def _warmup(cfg: dict[str, Any], state: _State) -> float:
    if state.warmup_start > 0:
        return float(cfg["resume"]["warmup_epochs"])
    return float(cfg["schedule"]["warmup_epochs"])


def _loss_weights(cfg: dict[str, Any]) -> LossWeights:
    loss = cfg["loss"]
    return LossWeights(float(loss["lambda_obj"]), float(loss["lambda_noobj"]),
                       float(loss["lambda_class"]), float(loss["lambda_coord"]))  # fmt: skip


def _eval_options(cfg: dict[str, Any]) -> dict[str, float]:
    return {"conf": float(cfg["eval"]["conf"]), "iou": float(cfg["eval"]["iou"])}


def _log_losses(run: Any, epoch: int, parts: dict[str, float]) -> None:
    if run is not None:
        run.log({"train/loss": parts["loss"], "train/loss_obj": parts["obj"],
                 "train/loss_cls": parts["cls"], "train/loss_box": parts["box"],
                 "train/lr": parts["lr"]}, step=epoch)  # fmt: skip


def _register_checkpoint(run: Any, path: Path, epoch: int) -> None:
    if run is not None:
        run.log_checkpoint(path, epoch)


def _report_nan(
    run: Any, outcome: TrainOutcome, epoch: int, parts: dict[str, float]
) -> TrainOutcome:
    outcome.status, outcome.epoch = "nan", epoch
    if run is None:
        return outcome
    run.log({"train/loss": math.nan, "train/lr": parts["lr"]}, step=epoch)
    run.fail("nan", detail=f"train/loss is NaN at epoch {epoch}")
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status (1 when the loss went NaN)."""
    args = _parser().parse_args(argv)
    raw = json.loads(Path(args.config).read_text(encoding="utf-8"))
    meta = raw.pop("run", {})
    cfg = merged_config(raw)
    import detlab  # noqa: PLC0415

    run = detlab.init(
        meta.get("project", "detlab-demo"), meta.get("name"), params=cfg,
        parent=meta.get("parent"), baselines=meta.get("baselines"),
        purpose=meta.get("purpose", ""), tags=meta.get("tags", ()), store=args.store,
        resume=args.resume is not None,
    )  # fmt: skip
    if args.resume is not None and "DETLAB_RUN_ID" not in os.environ:
        # resumed by hand: the supervisor records its own restarts
        loaded = int(checkpoint.load(args.resume)["epoch"])
        run.restart(epoch=loaded + 1, loaded_epoch=loaded, seed=args.seed, reason="manual")
    outcome = train(cfg, args.out, run=run, resume=args.resume, seed=args.seed, verbose=True)
    if outcome.status == "nan":
        print(f"train/loss is NaN at epoch {outcome.epoch}", file=sys.stderr)  # noqa: T201
        return 1
    run.finish()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m detlab.demo.train", description=__doc__)
    parser.add_argument("--config", required=True, help="JSON file: a run section and params")
    parser.add_argument("--out", required=True, help="folder for the checkpoints")
    parser.add_argument("--resume", default=None, help="checkpoint to continue from")
    parser.add_argument("--seed", type=int, default=None, help="seed (new on every restore)")
    parser.add_argument("--store", default=None, help="store URL (default: DETLAB_STORE)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
