"""End-to-end COCO bbox evaluation at val2017 scale: detlab against pycocotools and peers.

Generates 5,000 images, 80 categories with COCO's non-contiguous ids, ~36,500 ground-truth boxes
(~1% crowd, COCO's small/medium/large mix) and ~49 detections per image with score ties, writes
both JSON files to a temporary folder, then times load + evaluate + accumulate + summarize in
fresh subprocesses, printing medians, peak RSS and ratios.

    python bench/eval_coco.py --repeats 3
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

COCO_CATEGORY_IDS = [i for i in range(1, 91) if i not in {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}]


def generate(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    images, anns, dets = [], [], []
    image_ids = np.sort(rng.choice(np.arange(1, 600_000), 5000, replace=False))
    for image_id in image_ids.tolist():
        w, h = 640, int(rng.choice([427, 480, 512]))
        images.append(
            {"id": image_id, "file_name": f"{image_id:012d}.jpg", "width": w, "height": h}
        )
        n_gt = int(rng.poisson(7.3))
        sides = np.exp(rng.normal(3.6, 1.1, size=n_gt)).clip(2, 400)  # ~41% small, ~34% medium
        image_boxes = []
        for side in sides:
            bw, bh = side * rng.uniform(0.6, 1.4), side * rng.uniform(0.6, 1.4)
            x, y = rng.uniform(0, max(w - bw, 1)), rng.uniform(0, max(h - bh, 1))
            cat = int(rng.choice(COCO_CATEGORY_IDS))
            box = [round(x, 2), round(y, 2), round(bw, 2), round(bh, 2)]
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image_id,
                    "category_id": cat,
                    "bbox": box,
                    "area": round(bw * bh * 0.7, 2),
                    "iscrowd": int(rng.random() < 0.01),
                }
            )
            image_boxes.append((box, cat))
        for _ in range(int(rng.poisson(49))):
            if image_boxes and rng.random() < 0.5:
                (x, y, bw, bh), cat = image_boxes[int(rng.integers(len(image_boxes)))]
                box = [
                    x + rng.normal(0, 0.1 * bw),
                    y + rng.normal(0, 0.1 * bh),
                    bw * rng.uniform(0.8, 1.2),
                    bh * rng.uniform(0.8, 1.2),
                ]
            else:
                s = np.exp(rng.normal(3.6, 1.1))
                box, cat = (
                    [rng.uniform(0, w - 2), rng.uniform(0, h - 2), s, s],
                    int(rng.choice(COCO_CATEGORY_IDS)),
                )
            score = round(float(rng.uniform(0.05, 1.0)), 2)  # two decimals: many ties
            dets.append(
                {
                    "image_id": image_id,
                    "category_id": cat,
                    "bbox": [round(float(v), 2) for v in box],
                    "score": score,
                }
            )
    gt = {
        "images": images,
        "annotations": anns,
        "categories": [
            {"id": c, "name": f"class{c}", "supercategory": "x"} for c in COCO_CATEGORY_IDS
        ],
    }
    gt_path, dt_path = folder / "gt.json", folder / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dets))
    return gt_path, dt_path


def child(tool: str, gt_path: str, dt_path: str) -> None:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        if tool == "detlab":
            from detlab.metrics import evaluate_coco

            stats = evaluate_coco(gt_path, dt_path).stats
        else:
            if tool == "pycocotools":
                from pycocotools.coco import COCO
                from pycocotools.cocoeval import COCOeval
            else:
                from faster_coco_eval import COCO
                from faster_coco_eval import COCOeval_faster as COCOeval
            gt = COCO(gt_path)
            ev = COCOeval(gt, gt.loadRes(dt_path), "bbox")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            stats = np.asarray(ev.stats)
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, "stats": [float(s) for s in stats]}))


def measure(tool: str, gt: Path, dt: Path, repeats: int) -> list[dict]:
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", tool, str(gt), str(dt)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "GT", "DT"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    tools = ["detlab", "pycocotools"]
    try:
        import faster_coco_eval  # noqa: F401

        tools.append("faster-coco-eval")
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        gt, dt = generate(Path(tmp))
        sizes = json.loads(gt.read_text()), json.loads(dt.read_text())
        n_images, n_gt = len(sizes[0]["images"]), len(sizes[0]["annotations"])
        print(f"{n_images} images, {n_gt} gt, {len(sizes[1])} detections")
        measure("detlab", gt, dt, 1)  # warm numba's on-disk cache
        results = {tool: measure(tool, gt, dt, args.repeats) for tool in tools}
    base = statistics.median(r["seconds"] for r in results["pycocotools"])
    for tool, runs in results.items():
        med = statistics.median(r["seconds"] for r in runs)
        rss = max(r["rss_mb"] for r in runs)
        print(
            f"{tool:18s} median {med:7.2f} s  peak RSS {rss:7.0f} MB  "
            f"speed-up vs pycocotools {base / med:5.1f}x"
        )
    same = results["detlab"][0]["stats"] == results["pycocotools"][0]["stats"]
    print(f"stats identical to pycocotools: {same}")


if __name__ == "__main__":
    main()
