"""Mask evaluation (iou_type="segm") against pycocotools: polygons, RLE and crowd RLE."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from detlab.metrics import evaluate_coco
from tests.reference.cocoapi import assert_bit_identical, run_cocoeval

SIZE = 48


def _polygon(rng: np.random.Generator) -> list[list[float]]:
    cx, cy = rng.uniform(8, SIZE - 8, size=2)
    r = rng.uniform(2, 10, size=5)
    angles = np.sort(rng.uniform(0, 2 * np.pi, size=5))
    xs, ys = cx + r * np.cos(angles), cy + r * np.sin(angles)
    return [np.ravel(np.column_stack([xs, ys])).tolist()]


def _rle(mask: np.ndarray) -> dict[str, Any]:
    from pycocotools import mask as mask_api

    rle = mask_api.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": list(rle["size"]), "counts": rle["counts"].decode("ascii")}


def _uncompressed(mask: np.ndarray) -> dict[str, Any]:
    flat = mask.astype(np.uint8).ravel(order="F")
    changes = np.flatnonzero(np.diff(np.r_[0, flat, 2 if flat[-1] == 0 else 0]))
    counts = np.diff(np.r_[0, changes]).tolist()
    return {"size": [SIZE, SIZE], "counts": [int(c) for c in counts if c >= 0]}


def _mask_of(polygon: list[list[float]]) -> np.ndarray:
    from pycocotools import mask as mask_api

    rle = mask_api.merge(mask_api.frPyObjects(polygon, SIZE, SIZE))
    with warnings.catch_warnings():
        # pycocotools' decode trips NumPy 2's __array__(copy=...) deprecation; tests only.
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_api.decode(rle).astype(bool)


def segm_scene(seed: int, *, with_bbox: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from pycocotools import mask as mask_api

    rng = np.random.default_rng(seed)
    images = [{"id": i, "file_name": f"{i}.png", "width": SIZE, "height": SIZE} for i in (3, 8, 9)]
    anns: list[dict[str, Any]] = []
    dets: list[dict[str, Any]] = []
    for image in images:
        for _ in range(int(rng.integers(1, 5))):
            poly, crowd = _polygon(rng), bool(rng.random() < 0.2)
            mask = _mask_of(poly)
            segm: Any = _uncompressed(mask) if crowd else poly
            box = mask_api.toBbox(mask_api.encode(np.asfortranarray(mask.astype(np.uint8))))
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": image["id"],
                    "category_id": int(rng.integers(1, 3)),
                    "segmentation": segm,
                    "area": float(mask.sum()),
                    "bbox": box.tolist(),
                    "iscrowd": int(crowd),
                }
            )
            noisy = mask & (rng.random(mask.shape) > rng.choice([0.05, 0.3, 0.6]))
            det_rle = _rle(noisy)
            det = {
                "image_id": image["id"],
                "category_id": anns[-1]["category_id"],
                "segmentation": det_rle,
                "score": float(rng.integers(1, 4)) / 4,
            }
            if with_bbox:
                det["bbox"] = mask_api.toBbox(dict(det_rle)).tolist()
            dets.append(det)
    categories = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    return {"images": images, "annotations": anns, "categories": categories}, dets


@pytest.mark.parametrize("with_bbox", [True, False], ids=["bbox-and-mask", "mask-only"])
@pytest.mark.parametrize("seed", range(4), ids=lambda s: f"seed{s}")
def test_segm_matches_pycocotools(seed: int, with_bbox: bool) -> None:
    gt, dets = segm_scene(seed, with_bbox=with_bbox)
    oracle = run_cocoeval(gt, dets, iou_type="segm")
    result = evaluate_coco(gt, dets, iou_type="segm")
    assert_bit_identical(result, oracle)


def test_bbox_evaluation_of_mask_only_results_matches_pycocotools() -> None:
    """Without a bbox in the first record, loadRes takes areas from the masks."""
    gt, dets = segm_scene(11, with_bbox=False)
    assert_bit_identical(evaluate_coco(gt, dets), run_cocoeval(gt, dets))
