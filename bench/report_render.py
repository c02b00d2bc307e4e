"""Writing the report of a large project: 200 runs x 300 epochs x 10 metrics (600,000 points).

The store is filled once (untimed) through the SDK: each run has parameters, a parent and a
baseline, two restarts, a COCO evaluation at its last epoch and a submission. Then
``detlab report`` is timed in fresh processes (imports, reading the store, building, plotting
and writing both files), against the issue's target of 10 s. There is no peer: no tracker
writes this log; the figure to compare with is the target.

    python bench/report_render.py --repeats 3
    python bench/report_render.py --runs 20 --epochs 50 --repeats 1   # smoke run
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 10.0
METRICS = (
    "train/loss",
    "train/loss_obj",
    "train/loss_cls",
    "train/loss_box",
    "train/lr",
    "val/AP",
    "val/AP50",
    "val/AP75",
    "val/VOCmAP",
    "val/recall",
)


def fill(url: str, runs: int, epochs: int) -> None:
    import detlab

    gt = {
        "images": [{"id": 1, "width": 64, "height": 64}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [8, 8, 20, 20],
                "area": 400,
                "iscrowd": 0,
            }
        ],
        "categories": [{"id": 1, "name": "fish"}],
    }
    result = detlab.evaluate_coco(
        gt, [{"image_id": 1, "category_id": 1, "bbox": [9, 8, 20, 20], "score": 0.9}]
    )
    store = detlab.open_store(url)
    for r in range(runs):
        params = {
            "lr": 0.01 * (1 + r % 7),
            "lambda_obj": [10, 20, 50][r % 3],
            "seed": r,
            "batch_size": 32,
            "epochs": epochs,
        }
        parent = f"run-{r - 1:03d}" if r else None
        baselines = {"baseline": "run-000"} if r else {}
        with detlab.init(
            project="bench",
            name=f"run-{r:03d}",
            params=params,
            parent=parent,
            baselines=baselines,
            store=store,
        ) as run:
            for epoch in range(epochs):
                x = (epoch + 1) / epochs
                loss = 3.0 * math.exp(-3 * x) + 0.01 * (r % 5)
                ap = 0.6 * (1 - math.exp(-4 * x)) * (0.9 + 0.001 * r)
                run.log(
                    dict(
                        zip(
                            METRICS,
                            (
                                loss,
                                loss / 3,
                                loss / 4,
                                loss / 5,
                                0.01 * (1 - x),
                                ap / 2,
                                ap,
                                ap / 3,
                                ap * 0.98,
                                ap * 1.1,
                            ),
                            strict=True,
                        )
                    ),
                    step=epoch,
                )
                if epoch in (epochs // 3, 2 * epochs // 3):
                    run.restart(epoch=epoch, loaded_epoch=epoch - 1, seed=100 + epoch, reason="nan")
            run.log_evaluation(result, step=epochs - 1, prefix="test/")
            run.submit("public-lb", 50 + r / 10)
    store.close()


def render_once(url: str, out: Path) -> float:
    cmd = [
        sys.executable,
        "-m",
        "detlab",
        "report",
        "--store",
        url,
        "--project",
        "bench",
        "-o",
        str(out),
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        start = time.perf_counter()
        fill(url, args.runs, args.epochs)
        points = args.runs * args.epochs * len(METRICS)
        print(
            f"store: {args.runs} runs x {args.epochs} epochs x {len(METRICS)} metrics = "
            f"{points:,} points, filled in {time.perf_counter() - start:.1f} s (untimed)"
        )
        times = [render_once(url, Path(tmp) / f"out{i}") for i in range(args.repeats)]
        out = Path(tmp) / "out0"
        md = (out / "REPORT.md").stat().st_size
        html = (out / "report.html").stat().st_size
        figures = len(list((out / "figures").iterdir()))
        median = statistics.median(times)
        print(
            f"detlab report (fresh process, md + html, {figures} figures): median "
            f"{median:.2f} s of {[round(t, 2) for t in times]}; REPORT.md {md / 1e6:.1f} MB, "
            f"report.html {html / 1e6:.1f} MB"
        )
        verdict = "PASS" if median < TARGET_S else "FAIL"
        print(f"target < {TARGET_S:.0f} s: {verdict} ({median / TARGET_S:.2f}x of the target)")


if __name__ == "__main__":
    main()
