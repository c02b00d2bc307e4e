"""Random COCO scenes for oracle tests: ground truth, near-miss detections, ties and crowds."""

from __future__ import annotations

from typing import Any

import numpy as np


def random_scene(
    seed: int,
    *,
    n_images: int = 6,
    n_categories: int = 3,
    max_gt: int = 6,
    max_dets: int = 12,
    crowd_rate: float = 0.1,
    score_levels: int = 5,
    integer_boxes: bool = False,
    size: int = 200,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A COCO dict and a results list. Few score levels give many ties; ids are non-contiguous."""
    rng = np.random.default_rng(seed)
    cat_ids = sorted(rng.choice(np.arange(1, 91), size=n_categories, replace=False).tolist())
    image_ids = sorted(rng.choice(np.arange(1, 10_000), size=n_images, replace=False).tolist())
    images = [{"id": i, "file_name": f"{i}.jpg", "width": size, "height": size} for i in image_ids]
    anns: list[dict[str, Any]] = []
    dets: list[dict[str, Any]] = []
    for image_id in image_ids:
        for _ in range(int(rng.integers(0, max_gt + 1))):
            box = _box(rng, size, integer_boxes)
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image_id,
                    "category_id": int(rng.choice(cat_ids)),
                    "bbox": box,
                    "area": float(box[2] * box[3] * rng.uniform(0.5, 1.0)),
                    "iscrowd": int(rng.random() < crowd_rate),
                }
            )
        image_anns = [a for a in anns if a["image_id"] == image_id]
        for _ in range(int(rng.integers(0, max_dets + 1))):
            if image_anns and rng.random() < 0.6:
                src = image_anns[int(rng.integers(len(image_anns)))]
                box = _jitter(rng, src["bbox"], integer_boxes)
                cat = src["category_id"] if rng.random() < 0.85 else int(rng.choice(cat_ids))
            else:
                box, cat = _box(rng, size, integer_boxes), int(rng.choice(cat_ids))
            score = float(rng.integers(1, score_levels + 1)) / score_levels
            dets.append({"image_id": image_id, "category_id": cat, "bbox": box, "score": score})
    order = rng.permutation(len(dets))
    dets = [dets[i] for i in order]
    categories = [{"id": c, "name": f"c{c}", "supercategory": "x"} for c in cat_ids]
    return {"images": images, "annotations": anns, "categories": categories}, dets


def _box(rng: np.random.Generator, size: int, integer: bool) -> list[float]:
    scale = rng.choice([12.0, 50.0, 150.0])
    w, h = rng.uniform(1, scale, size=2)
    x, y = rng.uniform(0, size - w), rng.uniform(0, size - h)
    box = [x, y, w, h]
    return [float(round(v)) for v in box] if integer else [float(v) for v in box]


def _jitter(rng: np.random.Generator, box: list[float], integer: bool) -> list[float]:
    x, y, w, h = box
    out = [
        x + rng.normal(0, 0.1 * w),
        y + rng.normal(0, 0.1 * h),
        max(w * rng.uniform(0.7, 1.3), 0.5),
        max(h * rng.uniform(0.7, 1.3), 0.5),
    ]
    return [float(round(v)) for v in out] if integer else [float(v) for v in out]
