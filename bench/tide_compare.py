"""detlab's error breakdown (``detlab.analysis.errors``) against tidecv, on shared generated cases.

The main case plants every TIDE error type: images with up to six objects on a grid (so that no
two objects overlap), and per object one planted outcome: found, localisation error (IoU 0.15
to 0.45), classification error (right place, wrong class), both, a duplicate next to a true
positive, or missed; plus background detections in empty cells. All scores are distinct. On it,
detlab and tidecv follow the same definitions: every count agrees, and AP and every dAP agree to
float rounding once detlab reads precision on tidecv's recall grid (the report's second number).

The ``coco-like`` cases reuse ``bench/eval_coco.py``'s generator (COCO's 80 category ids, ~1%
crowd regions, ~49 detections per image, random classes and boxes): ``coco-like`` with every
score made distinct, ``coco-like-ties`` with its two-decimal scores (many ties) as generated.

The edge cases show where the two differ on purpose (``docs/analysis-errors.md`` explains why):

- ``class-without-gt``: detections of a category with no ground truth. COCO (and detlab) give
  that category no AP; tidecv averages an AP of 0 for it.
- ``crowded-image``: 150 detections in one image, 50 per class. COCO caps ``maxDets`` per
  (image, category), tidecv per image, so tidecv drops 50 of them.
- ``dupe-at-fg``: a second detection at IoU exactly 0.5 with an object already found. tidecv's
  localisation test is ``bg <= IoU <= fg``, so it calls it a localisation error; detlab's
  ``bg <= IoU < fg`` calls it a duplicate (fixing either removes it: same dAP).
- ``crowd-at-fg``: a detection covering a crowd region at crowd-IoU exactly 0.5. COCO's matcher
  takes it (``>=``: ignored), tidecv's ignore test is ``>``, so it is a false positive there
  (both call it a background error: tidecv >= 1.0.1 types ignored detections too).

Two differences show everywhere: tidecv reads precision at recall thresholds ``i / 100``, COCO
(and detlab) at ``np.linspace(0, 1, 101)``, which differ in the last bit at ten of them; and with
tied scores, tidecv ranks a fixed run's errors before its true positives.

tidecv is not a detlab dependency: it is installed on first use into
``bench/.peers-tide-venv/`` (git-ignored) and reported as unavailable, with the reason, when
that fails. The comparison then prints detlab's numbers only.

    python bench/tide_compare.py
    python bench/tide_compare.py --images 400 --seed 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

SCRIPT = Path(__file__).resolve()
PEER_VENV = SCRIPT.parent / ".peers-tide-venv"
MARK = "RESULT "
MAIN = ("Cls", "Loc", "Both", "Dupe", "Bkg", "Miss")
SPECIAL = ("FalsePos", "FalseNeg")
DETLAB_NAMES = {
    "Cls": "classification",
    "Loc": "localisation",
    "Both": "both",
    "Dupe": "duplicate",
    "Bkg": "background",
    "Miss": "missed",
    "FalsePos": "false_positive",
    "FalseNeg": "false_negative",
}
CELL, COLS, ROWS = 160, 4, 3
OUTCOMES = ("tp", "loc", "cls", "both", "dupe", "miss")
WEIGHTS = (0.45, 0.12, 0.12, 0.06, 0.1, 0.15)

# ====================================================================== cases


class Case:
    """COCO ground truth and results lists being built."""

    def __init__(self, num_classes: int, size: tuple[int, int] = (640, 480)) -> None:
        self.size = size
        self.images: list[dict[str, Any]] = []
        self.anns: list[dict[str, Any]] = []
        self.dets: list[dict[str, Any]] = []
        self.categories = [{"id": c, "name": f"class{c}"} for c in range(1, num_classes + 1)]

    def image(self) -> int:
        image_id = len(self.images) + 1
        w, h = self.size
        self.images.append(
            {"id": image_id, "file_name": f"{image_id}.jpg", "width": w, "height": h}
        )
        return image_id

    def object(self, image_id: int, cat: int, box: list[float], *, crowd: bool = False) -> None:
        x, y, w, h = box
        self.anns.append(
            {
                "id": len(self.anns) + 1,
                "image_id": image_id,
                "category_id": cat,
                "bbox": box,
                "area": w * h,
                "iscrowd": int(crowd),
                # tidecv's COCO reader rasterises every annotation's segmentation
                "segmentation": [[x, y, x, y + h, x + w, y + h, x + w, y]],
            }
        )

    def detection(self, image_id: int, cat: int, box: list[float], score: float) -> None:
        self.dets.append({"image_id": image_id, "category_id": cat, "bbox": box, "score": score})

    def write(self, folder: Path, name: str) -> tuple[Path, Path]:
        gt = {"images": self.images, "annotations": self.anns, "categories": self.categories}
        gt_path, dt_path = folder / f"{name}-gt.json", folder / f"{name}-dt.json"
        gt_path.write_text(json.dumps(gt))
        dt_path.write_text(json.dumps(self.dets))
        return gt_path, dt_path


def _iou(a: list[float], b: list[float]) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _moved(rng: np.random.Generator, box: list[float], low: float, high: float) -> list[float]:
    """A copy of ``box`` shifted until its IoU with ``box`` is in ``[low, high]``."""
    for _ in range(1000):
        dx, dy = rng.uniform(-0.6, 0.6, 2) * box[2:]
        scale = rng.uniform(0.8, 1.25, 2)
        out = [box[0] + dx, box[1] + dy, box[2] * scale[0], box[3] * scale[1]]
        if low <= _iou(out, box) <= high:
            return [round(v, 2) for v in out]
    raise RuntimeError("no box found")


def _other(rng: np.random.Generator, cat: int, num_classes: int) -> int:
    return int(rng.choice([c for c in range(1, num_classes + 1) if c != cat]))


def _plant(case: Case, rng: np.random.Generator, image_id: int, box: list[float], cat: int) -> None:
    k = len(case.categories)
    outcome = str(rng.choice(OUTCOMES, p=WEIGHTS))
    if outcome in ("tp", "dupe"):
        case.detection(image_id, cat, _moved(rng, box, 0.7, 0.95), rng.random())
    if outcome == "dupe":
        case.detection(image_id, cat, _moved(rng, box, 0.55, 0.9), rng.random())
    if outcome in ("loc", "both"):
        wrong = cat if outcome == "loc" else _other(rng, cat, k)
        case.detection(image_id, wrong, _moved(rng, box, 0.15, 0.45), rng.random())
    if outcome == "cls":
        case.detection(image_id, _other(rng, cat, k), _moved(rng, box, 0.6, 0.95), rng.random())


def shared_case(num_images: int, seed: int, num_classes: int = 4) -> Case:
    rng = np.random.default_rng(seed)
    case = Case(num_classes)
    for _ in range(num_images):
        image_id = case.image()
        cells = rng.permutation(COLS * ROWS)[: int(rng.integers(1, 7)) + 2]
        for n, cell in enumerate(cells.tolist()):
            w, h = rng.uniform(40, 110, 2)
            x = (cell % COLS) * CELL + rng.uniform(20, CELL - 20 - w + 1e-9)
            y = (cell // COLS) * CELL + rng.uniform(20, CELL - 20 - h + 1e-9)
            box = [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]
            cat = int(rng.integers(1, num_classes + 1))
            if n < 2 and rng.random() < 0.5:  # an empty cell: a background detection there
                case.detection(image_id, cat, box, rng.random())
                continue
            case.object(image_id, cat, box)
            _plant(case, rng, image_id, box, cat)
    return case


def coco_like_case(num_images: int, seed: int, *, ties: bool) -> Case:
    import eval_coco  # bench/ is this script's folder, first on sys.path

    with tempfile.TemporaryDirectory(prefix="detlab-tide-") as tmp:
        gt_path, dt_path = eval_coco.generate(Path(tmp), num_images, seed)
        gt, dets = json.loads(gt_path.read_text()), json.loads(dt_path.read_text())
    case = Case(0)
    case.images, case.categories, case.dets = gt["images"], gt["categories"], dets
    for ann in gt["annotations"]:
        x, y, w, h = ann["bbox"]
        ann["segmentation"] = [[x, y, x, y + h, x + w, y + h, x + w, y]]
    case.anns = gt["annotations"]
    if not ties:
        jitter = np.random.default_rng(seed).uniform(0, 1e-6, len(dets))
        for det, extra in zip(dets, jitter.tolist(), strict=True):
            det["score"] += extra
    return case


def class_without_gt_case(num_images: int, seed: int) -> Case:
    case = shared_case(num_images, seed)
    case.categories.append({"id": 5, "name": "class5"})
    rng = np.random.default_rng(seed + 1)
    for image in case.images[::3]:
        case.detection(image["id"], 5, [5.0, 5.0, 30.0, 30.0], rng.random())
    return case


def crowded_image_case(seed: int) -> Case:
    rng = np.random.default_rng(seed)
    case = Case(3, size=(1500, 1000))
    image_id = case.image()
    for n in range(50):
        x, y = (n % 10) * 150.0, (n // 10) * 200.0
        cat = n % 3 + 1
        case.object(image_id, cat, [x + 10, y + 10, 100.0, 150.0])
        for c in (1, 2, 3):  # one detection per class at each object, all 150 scored apart
            case.detection(image_id, c, [x + 12, y + 11, 100.0, 150.0], rng.random())
    return case


def dupe_at_fg_case() -> Case:
    case = Case(2)
    image_id = case.image()
    case.object(image_id, 1, [0.0, 0.0, 100.0, 100.0])
    case.object(image_id, 2, [300.0, 300.0, 100.0, 100.0])
    case.detection(image_id, 1, [0.0, 0.0, 100.0, 100.0], 0.9)
    case.detection(image_id, 1, [0.0, 0.0, 100.0, 50.0], 0.8)  # IoU 0.5 exactly
    case.detection(image_id, 2, [300.0, 300.0, 100.0, 100.0], 0.7)
    return case


def crowd_at_fg_case() -> Case:
    case = Case(2)
    image_id = case.image()
    case.object(image_id, 1, [0.0, 0.0, 100.0, 100.0], crowd=True)
    case.object(image_id, 1, [300.0, 300.0, 100.0, 100.0])
    case.object(image_id, 2, [300.0, 100.0, 100.0, 100.0])
    case.detection(image_id, 1, [50.0, 0.0, 100.0, 100.0], 0.9)  # crowd IoU 0.5 exactly
    case.detection(image_id, 1, [300.0, 300.0, 100.0, 100.0], 0.6)
    case.detection(image_id, 2, [300.0, 100.0, 100.0, 100.0], 0.5)
    return case


# ====================================================================== the two tools


def run_detlab(gt: Path, dt: Path, *, tide_recall_grid: bool = False) -> dict[str, Any]:
    """detlab's numbers; ``tide_recall_grid`` swaps in tidecv's ``i / 100`` recall thresholds.

    That swap pokes a private constant: it is a diagnostic that shows the grid is the whole
    difference, not an option of detlab.
    """
    from detlab.analysis import errors

    saved = errors._RECALL
    if tide_recall_grid:
        errors._RECALL = np.array([i / 100 for i in range(101)])
    try:
        b = errors.analyze_errors(gt, dt)
    finally:
        errors._RECALL = saved
    main = {short: 100 * b.delta_ap[DETLAB_NAMES[short]] for short in MAIN}
    special = {short: 100 * b.special_delta_ap[DETLAB_NAMES[short]] for short in SPECIAL}
    counts = {short: b.counts[DETLAB_NAMES[short]] for short in MAIN}
    return {"ap": 100 * b.ap, "main": main, "special": special, "counts": counts}


def child_tide(gt: str, dt: str) -> dict[str, Any]:
    """Runs in the peer venv: tidecv's own COCO readers and its default TIDE()."""
    from tidecv import TIDE, datasets

    tide = TIDE()
    run = tide.evaluate(datasets.COCO(gt), datasets.COCOResult(dt), mode=TIDE.BOX)
    errors = tide.get_all_errors()
    name = next(iter(tide.runs))
    counts = {err.short_name: n for err, n in run.count_errors().items()}
    return {
        "ap": run.ap,
        "main": errors["main"][name],
        "special": errors["special"][name],
        "counts": counts,
    }


def _reason(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return ((errors or lines or ["no output"])[-1])[:160]


def tide_python() -> tuple[str | None, str]:
    """The peer venv's Python, installing tidecv on first use; else None and why."""
    python = PEER_VENV / "bin" / "python"
    marker = PEER_VENV / "installed.txt"
    if not marker.exists():
        print(f"installing tidecv into {PEER_VENV} ...")
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(PEER_VENV)],
                check=True,
                capture_output=True,
            )
            done = subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "tidecv",
                ],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return None, f"unavailable: cannot create its venv ({exc})"
        if done.returncode != 0:
            return None, f"unavailable: pip install tidecv failed: {_reason(done.stderr)}"
        marker.write_text("tidecv\n")
    probe = subprocess.run(
        [str(python), "-c", "import tidecv"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return None, f"unavailable: import tidecv failed: {_reason(probe.stderr)}"
    return str(python), "ok"


def run_tide(python: str, gt: Path, dt: Path) -> dict[str, Any]:
    out = subprocess.run(
        [python, str(SCRIPT), "--child", str(gt), str(dt)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    for line in reversed(out.stdout.splitlines()):
        if line.startswith(MARK):
            return dict(json.loads(line[len(MARK) :]))
    return {"error": _reason(out.stderr or out.stdout)}


# ====================================================================== report


def _row(label: str, result: dict[str, Any]) -> str:
    cells = [result["ap"], *(result["main"][k] for k in MAIN)]
    cells += [result["special"][k] for k in SPECIAL]
    return f"| {label} | " + " | ".join(f"{v:.2f}" for v in cells) + " |"


def _count_row(label: str, result: dict[str, Any]) -> str:
    return f"| {label} | " + " | ".join(str(result["counts"][k]) for k in MAIN) + " |"


def _max_diff(a: dict[str, Any], b: dict[str, Any]) -> float:
    diffs = [abs(a["ap"] - b["ap"])]
    diffs += [abs(a["main"][k] - b["main"][k]) for k in MAIN]
    diffs += [abs(a["special"][k] - b["special"][k]) for k in SPECIAL]
    return max(diffs)


def report(
    name: str,
    case: Case,
    detlab: dict[str, Any],
    tide: dict[str, Any] | None,
    aligned: dict[str, Any],
) -> None:
    print(
        f"\n### {name}: {len(case.images)} images, {len(case.anns)} objects, "
        f"{len(case.dets)} detections\n"
    )
    head = ["tool", "AP50", *MAIN, *SPECIAL]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    print(_row("detlab", detlab))
    if tide is not None and "error" not in tide:
        print(_row("tidecv", tide))
    print("\n| counts | " + " | ".join(MAIN) + " |")
    print("|" + "---|" * (len(MAIN) + 1))
    print(_count_row("detlab", detlab))
    if tide is None:
        return
    if "error" in tide:
        print(f"\ntidecv failed: {tide['error']}")
        return
    print(_count_row("tidecv", tide))
    same = all(detlab["counts"][k] == tide["counts"][k] for k in MAIN)
    print(
        f"\nlargest |difference| in AP/dAP: {_max_diff(detlab, tide):.2e} points "
        f"({_max_diff(aligned, tide):.2e} with tidecv's recall grid); "
        f"counts {'identical' if same else 'differ'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--coco-images", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=2, metavar=("GT", "DT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(MARK + json.dumps(child_tide(*args.child)))
        return
    python, status = tide_python()
    print(f"tidecv: {status}")
    cases = {
        "shared": shared_case(args.images, args.seed),
        "coco-like": coco_like_case(args.coco_images, args.seed, ties=False),
        "coco-like-ties": coco_like_case(args.coco_images, args.seed, ties=True),
        "class-without-gt": class_without_gt_case(args.images, args.seed),
        "crowded-image": crowded_image_case(args.seed),
        "dupe-at-fg": dupe_at_fg_case(),
        "crowd-at-fg": crowd_at_fg_case(),
    }
    with tempfile.TemporaryDirectory(prefix="detlab-tide-") as tmp:
        for name, case in cases.items():
            gt, dt = case.write(Path(tmp), name)
            tide = run_tide(python, gt, dt) if python else None
            aligned = run_detlab(gt, dt, tide_recall_grid=True)
            report(name, case, run_detlab(gt, dt), tide, aligned)


if __name__ == "__main__":
    main()
