"""A stand-in training script for the supervision tests: real process, real failures.

It "trains" ``--epochs`` epochs, saving ``epoch_<n>.json`` checkpoints, resumes from
``--resume``, and fails at ``--fail-at`` in the way ``--fail`` names, on the first attempt
only (seed 0; a restart with a new seed carries on) unless ``--always-fail``. With the SDK
(default) it logs through ``detlab.init()``, which attaches to the supervised run;
``--no-sdk`` leaves detlab out.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from pathlib import Path


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--ckpt-dir", type=Path, required=True)
    parser.add_argument("--resume", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fail", default="")
    parser.add_argument("--fail-at", type=int, default=3)
    parser.add_argument("--always-fail", action="store_true")
    parser.add_argument("--no-sdk", action="store_true")
    parser.add_argument("--pid-file", type=Path)
    parser.add_argument("--oom-counter", type=Path)
    return parser.parse_args()


def _fail(mode: str, args: argparse.Namespace, run: object) -> None:
    if mode == "memory":
        raise MemoryError("cannot allocate 8 GiB for the feature cache")
    if mode == "cuda":
        print("RuntimeError: CUDA error: an illegal memory access was encountered", file=sys.stderr)
        sys.exit(1)
    if mode == "gpu_oom":
        print(
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
            file=sys.stderr,
        )
        sys.exit(1)
    if mode == "crash":
        print("Traceback (most recent call last):\nValueError: bad batch shape", file=sys.stderr)
        sys.exit(3)
    if mode == "oom_kill":
        if args.oom_counter is not None:
            count = int(args.oom_counter.read_text().split()[-1])
            args.oom_counter.write_text(f"oom_kill_disable 0\noom_kill {count + 1}\n")
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "nan":
        run.log({"train/loss": math.nan}, step=args.fail_at)  # type: ignore[attr-defined]
        time.sleep(60)  # training goes on with NaN weights until the supervisor stops it
    if mode == "fail_nan":
        run.fail("nan", "loss exploded")  # type: ignore[attr-defined]
        sys.exit(1)
    if mode in ("hang", "wait_term"):
        if args.pid_file is not None:
            args.pid_file.write_text(str(os.getpid()))
        time.sleep(60)


def main() -> None:
    args = _args()
    run = None
    if not args.no_sdk:
        import detlab

        run = detlab.init(project="ignored", name="ignored", params={"seed": args.seed})
    start = 0
    if args.resume is not None:
        start = json.loads(args.resume.read_text())["epoch"] + 1
        print(f"resumed from {args.resume} at epoch {start} with seed {args.seed}")
    args.ckpt_dir.mkdir(parents=True, exist_ok=True)
    for epoch in range(start, args.epochs):
        if args.fail and epoch == args.fail_at and (args.seed == 0 or args.always_fail):
            _fail(args.fail, args, run)
        if run is not None:
            run.log({"train/loss": 1.0 / (epoch + 1), "val/AP50": 0.1 * epoch}, step=epoch)
        checkpoint = args.ckpt_dir / f"epoch_{epoch}.json"
        checkpoint.write_text(json.dumps({"epoch": epoch, "seed": args.seed}))
        if run is not None:
            run.log_checkpoint(checkpoint, epoch)
        print(f"epoch {epoch} done", flush=True)
    if run is not None:
        run.finish()


if __name__ == "__main__":
    main()
