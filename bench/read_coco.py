"""Reading a COCO-val-sized annotation file: detlab's reader against json.load + pycocotools.

Generates a file shaped like instances_val2017.json (5,000 images, ~36,500 boxes over 80
categories with COCO's non-contiguous ids, polygon masks, ~1 % crowd boxes with RLE masks),
then reads it in fresh processes, alternating the tools, and prints the median times and the
ratio. Each child reports the read time (imports excluded, measured separately) and its peak
memory.

    python bench/read_coco.py [--images 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

# COCO's 80 category ids: 1..90 with ten gaps.
COCO_IDS = [i for i in range(1, 91) if i not in {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}]

CHILD = {
    "detlab": (
        "from detlab.data.formats import read_coco",
        "ds = read_coco(PATH, warn=False); n = ds.num_annotations",
    ),
    "pycocotools": (
        "import json, contextlib, io; from pycocotools.coco import COCO",
        "with contextlib.redirect_stdout(io.StringIO()): c = COCO(PATH)\nn = len(c.anns)",
    ),
    "json.load": ("import json", "d = json.load(open(PATH)); n = len(d['annotations'])"),
}

TEMPLATE = """
import time, resource
t0 = time.perf_counter()
{imports}
t1 = time.perf_counter()
PATH = {path!r}
{work}
t2 = time.perf_counter()
# VmHWM is this process image's own peak (kB); ru_maxrss would carry the parent's across exec
try:
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    peak = int(status.split()[0])
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(t1 - t0, t2 - t1, peak, n)
"""


def make_coco(num_images: int, seed: int = 0) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        w, h = int(rng.choice([640, 480, 500, 427])), int(rng.choice([480, 640, 375, 333]))
        images.append(
            {
                "license": 1,
                "file_name": f"{image_id:012d}.jpg",
                "coco_url": f"http://images.example/val/{image_id:012d}.jpg",
                "height": h,
                "width": w,
                "date_captured": "2013-11-14 17:02:52",
                "id": image_id,
            }
        )
        for _ in range(int(rng.poisson(7.3))):
            annotations.append(_annotation(rng, len(annotations) + 1, image_id, w, h))
    categories = [{"supercategory": "thing", "id": i, "name": f"class{i}"} for i in COCO_IDS]
    info = {"description": "synthetic COCO-val-shaped set", "version": "1.0", "year": 2026}
    return {
        "info": info,
        "licenses": [{"id": 1, "name": "x"}],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def _annotation(rng: np.random.Generator, ann_id: int, image_id: int, w: int, h: int) -> dict:
    # COCO's mix: about 41 % small (< 32²), 34 % medium, 24 % large.
    side = float(
        rng.choice(
            [rng.uniform(4, 32), rng.uniform(32, 96), rng.uniform(96, 400)], p=[0.41, 0.35, 0.24]
        )
    )
    bw, bh = min(side * rng.uniform(0.6, 1.5), w - 1), min(side * rng.uniform(0.6, 1.5), h - 1)
    x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
    crowd = rng.random() < 0.01
    if crowd:
        segmentation: object = {"counts": [int(v) for v in rng.integers(1, 50, 40)], "size": [h, w]}
    else:
        k = int(rng.integers(6, 20))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        px = x + bw / 2 + np.cos(angles) * bw / 2
        py = y + bh / 2 + np.sin(angles) * bh / 2
        segmentation = [np.round(np.stack([px, py], 1).reshape(-1), 2).tolist()]
    return {
        "segmentation": segmentation,
        "area": round(bw * bh * 0.7, 3),
        "iscrowd": int(crowd),
        "image_id": image_id,
        "bbox": [round(x, 2), round(y, 2), round(bw, 2), round(bh, 2)],
        "category_id": int(rng.choice(COCO_IDS)),
        "id": ann_id,
    }


def run_child(tool: str, path: Path) -> tuple[float, float, int, int]:
    imports, work = CHILD[tool]
    code = TEMPLATE.format(imports=imports, work=work, path=str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    t_import, t_read, peak_kb, n = out.stdout.split()
    return float(t_import), float(t_read), int(peak_kb), int(n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "instances.json"
        path.write_text(json.dumps(make_coco(args.images)))
        size_mb = path.stat().st_size / 1e6
        results: dict[str, list[tuple[float, float, int, int]]] = {t: [] for t in CHILD}
        for _ in range(args.repeat):
            for tool in CHILD:
                results[tool].append(run_child(tool, path))
    boxes = results["detlab"][0][3]
    print(
        f"file: {args.images} images, {boxes} boxes, {size_mb:.1f} MB; "
        f"median of {args.repeat} fresh processes each"
    )
    print(f"{'tool':<14}{'read (s)':>10}{'import (s)':>12}{'peak RSS (MB)':>15}")
    medians = {}
    for tool, runs in results.items():
        medians[tool] = statistics.median(r[1] for r in runs)
        print(
            f"{tool:<14}{medians[tool]:>10.3f}{statistics.median(r[0] for r in runs):>12.3f}"
            f"{statistics.median(r[2] for r in runs) / 1024:>15.0f}"
        )
    ratio = medians["pycocotools"] / medians["detlab"]
    print(
        f"detlab reads {ratio:.1f}x faster than pycocotools COCO() "
        f"({medians['detlab']:.3f} s vs {medians['pycocotools']:.3f} s); target: under 0.3 s"
    )


if __name__ == "__main__":
    main()
