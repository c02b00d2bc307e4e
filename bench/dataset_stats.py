"""``dataset_stats`` on a million boxes, against the 2 s target and a per-box Python loop.

Builds a COCO-shaped dataset as columns (no JSON): 100,000 images of a few common sizes,
1,000,000 boxes over 80 categories with COCO's non-contiguous ids, skewed class frequencies,
log-normal areas and aspect ratios, ~1 % crowd, a few hundred degenerate, outside and
duplicated boxes. Each timed run gets a fresh ``Dataset`` object (its cached id indexes
rebuilt), in this process; the median is printed against the target. The baseline computes
a subset of the same numbers (per-class counts, area and aspect-ratio medians, size shares,
duplicates, outside boxes) the way a notebook would, one box at a time in pure Python.

    python bench/dataset_stats.py [--boxes 1000000] [--repeat 7] [--no-baseline]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from dataclasses import replace

import numpy as np

from detlab.core.dataset import Annotations, Category, Dataset, Images
from detlab.data.stats import LARGE_AREA, SMALL_AREA, dataset_stats

TARGET_SECONDS = 2.0
# COCO's 80 category ids: 1..90 with ten gaps.
COCO_IDS = [i for i in range(1, 91) if i not in {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}]
SIZES = np.array([[640, 480], [480, 640], [640, 427], [500, 375], [1280, 720], [1920, 1080]])


def make_dataset(num_boxes: int, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    num_images = max(num_boxes // 10, 1)
    size = SIZES[rng.integers(0, len(SIZES), num_images)]
    images = Images.build(
        ids=np.arange(1, num_images + 1),
        file_names=[f"{i:012d}.jpg" for i in range(1, num_images + 1)],
        widths=size[:, 0],
        heights=size[:, 1],
    )
    image_index = np.sort(rng.integers(0, num_images, num_boxes))
    weights = rng.pareto(1.0, len(COCO_IDS)) + 0.05
    category_ids = rng.choice(COCO_IDS, num_boxes, p=weights / weights.sum())
    area = rng.lognormal(np.log(3000), 1.3, num_boxes)
    ratio = rng.lognormal(0.0, 0.6, num_boxes)
    w_img, h_img = size[image_index, 0], size[image_index, 1]
    w = np.minimum(np.sqrt(area * ratio), w_img)
    h = np.minimum(np.sqrt(area / ratio), h_img)
    boxes = np.stack([rng.uniform(0, w_img - w), rng.uniform(0, h_img - h), w, h], axis=1)
    boxes = np.round(boxes, 2)
    _add_faults(rng, boxes, category_ids)
    annotations = Annotations.build(
        ids=np.arange(1, num_boxes + 1),
        image_index=image_index,
        category_ids=category_ids,
        boxes=boxes,
        iscrowd=rng.random(num_boxes) < 0.01,
    )
    categories = tuple(Category(i, f"class{i}") for i in COCO_IDS)
    return Dataset(images, categories, annotations, source="bench")


def _add_faults(rng: np.random.Generator, boxes: np.ndarray, category_ids: np.ndarray) -> None:
    """A few hundred of each problem the statistics look for."""
    n = category_ids.size
    count = min(300, n // 4)
    boxes[rng.integers(0, n, count), 2] = 0.0  # zero width
    boxes[rng.integers(0, n, count), 0] -= 5000.0  # outside
    rows = rng.integers(1, n, count)
    # a copy of the previous row: a duplicate when that box is on the same image (~90 %)
    boxes[rows], category_ids[rows] = boxes[rows - 1], category_ids[rows - 1]


def time_stats(ds: Dataset, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        fresh = replace(ds)  # a new object: cached id indexes are rebuilt
        start = time.perf_counter()
        dataset_stats(fresh)
        times.append(time.perf_counter() - start)
    return times


def naive_stats(ds: Dataset) -> dict[str, object]:
    """Per-box Python over lists, as a notebook would write it."""
    anns, images = ds.annotations, ds.images
    widths, heights = images.widths.tolist(), images.heights.tolist()
    areas: dict[int, list[float]] = defaultdict(list)
    ratios: dict[int, list[float]] = defaultdict(list)
    sizes: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    seen: set[tuple[object, ...]] = set()
    duplicates = outside = 0
    rows = zip(
        anns.image_index.tolist(),
        anns.category_ids.tolist(),
        anns.boxes.tolist(),
        anns.iscrowd.tolist(),
        strict=True,
    )
    for image, category, (x, y, w, h), crowd in rows:
        key = (image, category, x, y, w, h)
        duplicates += key in seen
        seen.add(key)
        outside += x < -1 or y < -1 or x + w > widths[image] + 1 or y + h > heights[image] + 1
        if crowd or w <= 0 or h <= 0:
            continue
        areas[category].append(w * h)
        ratios[category].append(w / h)
        sizes[category][(w * h >= SMALL_AREA) + (w * h >= LARGE_AREA)] += 1
    return {
        "area": {c: statistics.median(v) for c, v in areas.items()},
        "ratio": {c: statistics.median(v) for c, v in ratios.items()},
        "sizes": dict(sizes),
        "duplicates": duplicates,
        "outside": outside,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--boxes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    ds = make_dataset(args.boxes)
    print(
        f"dataset: {ds.num_images:,} images, {ds.num_annotations:,} boxes, "
        f"{len(ds.categories)} classes (built in {time.perf_counter() - start:.1f} s)"
    )
    stats = dataset_stats(ds)
    issues = stats.issues
    print(
        f"found: {issues.degenerate} degenerate, {issues.outside_image.count} outside, "
        f"{issues.duplicates.count} duplicates, {stats.empty_images} empty images"
    )
    times = time_stats(ds, args.repeat)
    median = statistics.median(times)
    verdict = "within" if median < TARGET_SECONDS else "OVER"
    print(
        f"dataset_stats: median {median:.3f} s of {args.repeat} "
        f"(min {min(times):.3f}, max {max(times):.3f}); target {TARGET_SECONDS:.1f} s: "
        f"{verdict} ({median / TARGET_SECONDS:.0%} of the budget)"
    )
    if not args.no_baseline:
        start = time.perf_counter()
        naive = naive_stats(ds)
        naive_time = time.perf_counter() - start
        agree = naive["duplicates"] == issues.duplicates.count
        agree &= naive["outside"] == issues.outside_image.count
        print(
            f"per-box Python baseline (a subset of the numbers): {naive_time:.3f} s, "
            f"{naive_time / median:.1f}x slower; duplicates and outside agree: {agree}"
        )


if __name__ == "__main__":
    main()
