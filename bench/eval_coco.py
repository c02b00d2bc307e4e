"""End-to-end COCO bbox evaluation at val2017 scale: detlab against pycocotools and its peers.

Generates 5,000 images (``--images``), 80 categories with COCO's non-contiguous ids, ~7.3
ground-truth boxes per image (~1% crowd, COCO's small/medium/large mix) and ~49 detections per
image with score ties, writes both JSON files to a temporary folder, then times, per tool:

- cold: the first fresh process after the tool's own ``__pycache__`` folders were deleted
  (import, bytecode compilation, load both files, evaluate, accumulate, summarize);
- warm: the median of the fresh-process runs after it (``--repeats``, round-robin across tools,
  each tool's runs capped by ``--budget`` seconds);
- in-process (``--in-process K``): ground truth loaded once, then K evaluations of a freshly
  parsed detections list after one warm-up, as during training; the median is reported.

Every tool must give pycocotools' 12 stats; the last column says whether it does. Peers are not
detlab's dependencies: each is installed on first use into its own environment under
``bench/.peers-venv/`` (git-ignored) and reported as unavailable, with the reason, when that
fails. pycocotools runs in detlab's own environment.

    python bench/eval_coco.py
    python bench/eval_coco.py --images 20000 --tools detlab,hotcoco,ultrafast-pycocotools
    python bench/eval_coco.py --in-process 5 --repeats 5
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SCRIPT = Path(__file__).resolve()
PEER_ROOT = SCRIPT.parent / ".peers-venv"
COCO_CATEGORY_IDS = [i for i in range(1, 91) if i not in {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}]

#: pip requirement and the package whose bytecode a cold run clears, per peer.
PEERS = {
    "faster-coco-eval": ("faster-coco-eval", "faster_coco_eval"),
    "hotcoco": ("hotcoco", "hotcoco"),
    "ultrafast-pycocotools": ("ultrafast-pycocotools", "ultrafast_pycocotools"),
}
RUST_PEERS = ("hotcoco", "ultrafast-pycocotools")
PACKAGES = {"detlab": "detlab", "pycocotools": "pycocotools"} | {
    name: package for name, (_, package) in PEERS.items()
}
TOOLS = ("detlab", "pycocotools", *PEERS)
MARK = "RESULT "

# ====================================================================== data


def generate(folder: Path, num_images: int, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    dets: list[dict[str, Any]] = []
    image_ids = np.sort(rng.choice(np.arange(1, 120 * num_images), num_images, replace=False))
    for image_id in image_ids.tolist():
        w, h = 640, int(rng.choice([427, 480, 512]))
        images.append(
            {"id": image_id, "file_name": f"{image_id:012d}.jpg", "width": w, "height": h}
        )
        image_boxes = _ground_truth(rng, image_id, w, h, anns)
        dets.extend(_detections(rng, image_id, w, h, image_boxes))
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


def _ground_truth(
    rng: np.random.Generator, image_id: int, w: int, h: int, anns: list[dict[str, Any]]
) -> list[tuple[list[float], int]]:
    image_boxes = []
    sides = np.exp(rng.normal(3.6, 1.1, size=int(rng.poisson(7.3)))).clip(2, 400)
    for side in sides:  # ~41% small, ~34% medium
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
    return image_boxes


def _detections(
    rng: np.random.Generator,
    image_id: int,
    w: int,
    h: int,
    image_boxes: list[tuple[list[float], int]],
) -> list[dict[str, Any]]:
    dets = []
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
            box = [rng.uniform(0, w - 2), rng.uniform(0, h - 2), s, s]
            cat = int(rng.choice(COCO_CATEGORY_IDS))
        dets.append(
            {
                "image_id": image_id,
                "category_id": cat,
                "bbox": [round(float(v), 2) for v in box],
                "score": round(float(rng.uniform(0.05, 1.0)), 2),  # two decimals: many ties
            }
        )
    return dets


# ====================================================================== children (any venv)


def _cocoeval_api(tool: str) -> tuple[Any, Any]:
    if tool == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    elif tool == "faster-coco-eval":
        from faster_coco_eval import COCO
        from faster_coco_eval import COCOeval_faster as COCOeval
    elif tool == "hotcoco":
        from hotcoco import COCO, COCOeval
    elif tool == "ultrafast-pycocotools":
        from ultrafast_pycocotools import COCO, COCOeval
    else:
        raise ValueError(tool)
    return COCO, COCOeval


def _tool(tool: str) -> tuple[Callable[[str], Any], Callable[[Any, Any], list[float]]]:
    """``load(gt_path)`` and ``evaluate(gt, detections)`` (a path or a parsed list)."""
    if tool == "detlab":
        from detlab.data.formats import read_coco
        from detlab.metrics import evaluate_coco

        def load_detlab(path: str) -> Any:
            return read_coco(path, warn=False)

        def evaluate_detlab(gt: Any, dets: Any) -> list[float]:
            return [float(s) for s in evaluate_coco(gt, dets).stats]

        return load_detlab, evaluate_detlab
    coco, cocoeval = _cocoeval_api(tool)

    def evaluate(gt: Any, dets: Any) -> list[float]:
        ev = cocoeval(gt, gt.loadRes(dets), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        return [float(s) for s in np.asarray(ev.stats)]

    return coco, evaluate


def _peak_mb() -> float:
    """This process's own peak resident memory.

    Linux carries ``ru_maxrss`` across ``exec``: a child started by this (large) parent would
    report the parent's peak when its own is lower. ``VmHWM`` belongs to the process image
    alone; ``ru_maxrss`` is the fallback elsewhere.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_once(tool: str, gt_path: str, dt_path: str) -> dict[str, Any]:
    """One end-to-end evaluation, timed from before the import."""
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        load, evaluate = _tool(tool)
        gt = gt_path if tool == "detlab" else load(gt_path)
        stats = evaluate(gt, dt_path)
    return {"seconds": time.perf_counter() - start, "rss_mb": _peak_mb(), "stats": stats}


def child_loop(tool: str, gt_path: str, dt_path: str, repeats: int) -> dict[str, Any]:
    """Ground truth loaded once; each evaluation gets a freshly parsed detections list."""
    raw = Path(dt_path).read_bytes()
    times = []
    with contextlib.redirect_stdout(io.StringIO()):
        load, evaluate = _tool(tool)
        gt = load(gt_path)
        stats = evaluate(gt, json.loads(raw))  # warm-up
        for _ in range(repeats):
            dets = json.loads(raw)
            start = time.perf_counter()
            stats = evaluate(gt, dets)
            times.append(time.perf_counter() - start)
    return {"times": times, "rss_mb": _peak_mb(), "stats": stats}


# ====================================================================== parent (detlab's venv)


def _reason(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return ((errors or lines or ["no output"])[-1])[:160]


def peer_python(name: str) -> tuple[str | None, str]:
    """The peer's own venv Python, installing it on first use; else None and why."""
    requirement, package = PEERS[name]
    venv = PEER_ROOT / name
    python = venv / "bin" / "python"
    marker = venv / "installed.txt"
    if not marker.exists():
        print(f"installing {requirement} into {venv.relative_to(SCRIPT.parent.parent)} ...")
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(venv)],
                check=True,
                capture_output=True,
            )
            pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            done = subprocess.run(
                [*pip, requirement, "numpy"],  # numpy: this script's own import
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return None, f"unavailable: cannot create its venv ({exc})"
        if done.returncode != 0:
            return None, f"unavailable: pip install failed: {_reason(done.stderr)}"
        marker.write_text(requirement + "\n")
    probe = subprocess.run(
        [str(python), "-c", f"import {package}"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return None, f"unavailable: import {package} failed: {_reason(probe.stderr)}"
    return str(python), "ok"


def clear_bytecode(python: str, package: str) -> None:
    """Delete the package's ``__pycache__`` folders, so that the next import compiles it."""
    code = f"import importlib.util as u; print(u.find_spec({package!r}).origin)"
    origin = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    for cache in Path(origin).parent.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def run_child(python: str, args: list[str], timeout: float) -> dict[str, Any]:
    try:
        out = subprocess.run(
            [python, str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(out.stdout.splitlines()):
        if line.startswith(MARK):
            return dict(json.loads(line[len(MARK) :]))
    return {"error": _reason(out.stderr or out.stdout)}


class Bench:
    def __init__(self, args: argparse.Namespace, gt: Path, dt: Path) -> None:
        self.args, self.gt, self.dt = args, str(gt), str(dt)
        self.pythons: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.cold: dict[str, dict[str, Any]] = {}
        self.warm: dict[str, list[dict[str, Any]]] = {}
        self.loop: dict[str, dict[str, Any]] = {}

    def resolve(self, tools: list[str]) -> None:
        for tool in tools:
            if tool in PEERS:
                python, note = peer_python(tool)
            else:
                python, note = sys.executable, "ok"
            if python is None:
                self.notes[tool] = note
            else:
                self.pythons[tool] = python

    def measure(self) -> None:
        timeout = self.args.timeout
        for tool, python in self.pythons.items():
            clear_bytecode(python, PACKAGES[tool])
            self.cold[tool] = run_child(python, ["--child", tool, self.gt, self.dt], timeout)
            self.warm[tool] = []
        spent = dict.fromkeys(self.pythons, 0.0)
        for _ in range(self.args.repeats):
            for tool, python in self.pythons.items():
                if spent[tool] >= self.args.budget or "error" in self.cold[tool]:
                    continue
                run = run_child(python, ["--child", tool, self.gt, self.dt], timeout)
                self.warm[tool].append(run)
                spent[tool] += run.get("seconds", timeout)
        if self.args.in_process:
            for tool, python in self.pythons.items():
                repeats = self.args.in_process if spent[tool] < self.args.budget else 1
                args = ["--child-loop", tool, self.gt, self.dt, str(repeats)]
                self.loop[tool] = run_child(python, args, timeout * (repeats + 2))

    def warm_seconds(self, tool: str) -> float | None:
        runs = [r["seconds"] for r in self.warm.get(tool, []) if "seconds" in r]
        return statistics.median(runs) if runs else None

    def error(self, tool: str) -> str | None:
        if tool in self.notes:
            return self.notes[tool]
        for run in [self.cold[tool], *self.warm[tool], self.loop.get(tool, {})]:
            if "error" in run:
                return f"failed: {run['error']}"
        return None


def _stats_check(stats: list[float] | None, reference: list[float] | None) -> str:
    if stats is None or reference is None:
        return "-"
    if stats == reference:
        return "identical"
    diffs = np.abs(np.array(stats) - np.array(reference))
    worst = int(np.argmax(diffs))
    return f"MISMATCH: max |diff| {diffs[worst]:.2e} (stat {worst})"


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def report(bench: Bench, tools: list[str], num_images: int) -> None:
    reference = bench.cold.get("pycocotools", {}).get("stats")
    base = bench.warm_seconds("pycocotools")
    rust = {t: bench.warm_seconds(t) for t in RUST_PEERS}
    rust_times = {t: s for t, s in rust.items() if s is not None}
    fastest = min(rust_times, key=rust_times.__getitem__) if rust_times else None
    header = (
        f"{'tool':22s} {'cold s':>7s} {'warm s':>7s} {'ms/1k img':>9s} {'peak MB':>8s} "
        f"{'vs pycocotools':>14s} {'vs fastest Rust':>15s} {'in-process s':>12s}  "
        "stats vs pycocotools"
    )
    print(header)
    print("-" * len(header))
    for tool in tools:
        problem = bench.error(tool)
        if problem:
            print(f"{tool:22s} {problem}")
            continue
        warm = bench.warm_seconds(tool)
        runs = [bench.cold[tool], *bench.warm[tool]]
        peak = max(r["rss_mb"] for r in runs)
        loop = bench.loop.get(tool, {}).get("times")
        speed_up = base / warm if base and warm else None
        vs_rust = warm / rust_times[fastest] if fastest and warm else None
        print(
            f"{tool:22s} {_fmt(bench.cold[tool]['seconds'], '7.2f')} {_fmt(warm, '7.2f')} "
            f"{_fmt(warm and 1e6 * warm / num_images, '9.1f')} {peak:8.0f} "
            f"{_fmt(speed_up, '13.1f', 'x')} {_fmt(vs_rust, '14.2f', 'x')} "
            f"{_fmt(statistics.median(loop) if loop else None, '12.3f')}  "
            f"{_stats_check(runs[-1]['stats'], reference)}"
        )
    _targets(bench, base, fastest, rust_times)


def _targets(
    bench: Bench, base: float | None, fastest: str | None, rust_times: dict[str, float]
) -> None:
    warm = bench.warm_seconds("detlab")
    if warm is None:
        return
    print("\ntargets (issue 3):")
    if base:
        print(
            f"  at least 40x faster than pycocotools: {base / warm:.1f}x  {_ok(base / warm >= 40)}"
        )
        peak = max(r["rss_mb"] for r in [bench.cold["detlab"], *bench.warm["detlab"]])
        ref = max(r["rss_mb"] for r in [bench.cold["pycocotools"], *bench.warm["pycocotools"]])
        print(
            f"  peak memory at most 1/3 of pycocotools': {peak:.0f} / {ref:.0f} MB = "
            f"{peak / ref:.2f}  {_ok(peak <= ref / 3)}"
        )
    if fastest:
        ratio = warm / rust_times[fastest]
        print(
            f"  at most 1.5x the time of the fastest Rust evaluator ({fastest}): "
            f"{ratio:.2f}x  {_ok(ratio <= 1.5)}"
        )


def _ok(flag: bool) -> str:
    return "ok" if flag else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3, help="warm fresh-process runs per tool")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds of warm runs per tool")
    parser.add_argument("--in-process", type=int, default=0, metavar="K")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "GT", "DT"))
    parser.add_argument("--child-loop", nargs=4, metavar=("TOOL", "GT", "DT", "K"))
    args = parser.parse_args()
    if args.child:
        print(MARK + json.dumps(child_once(*args.child)))
        return
    if args.child_loop:
        tool, gt, dt, k = args.child_loop
        print(MARK + json.dumps(child_loop(tool, gt, dt, int(k))))
        return
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools {sorted(unknown)}; choose from {', '.join(TOOLS)}")
    with tempfile.TemporaryDirectory() as tmp:
        gt, dt = generate(Path(tmp), args.images)
        n_gt = len(json.loads(gt.read_bytes())["annotations"])
        n_dt = len(json.loads(dt.read_bytes()))
        bench = Bench(args, gt, dt)
        bench.resolve(tools)
        print(
            f"{args.images:,} images, {n_gt:,} ground-truth boxes, {n_dt:,} detections (bbox); "
            f"{os.cpu_count()} CPUs"
        )
        bench.measure()
    print()
    report(bench, tools, args.images)


if __name__ == "__main__":
    main()
