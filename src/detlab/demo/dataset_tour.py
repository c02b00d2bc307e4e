"""The dataset workflow of the demo: generate, validate, convert, read back, reject bad input.

Every step uses the same public functions a user would: the generated dataset is written as
COCO with real image files, validated, converted to Pascal VOC and YOLO and read back (the
round trip must give the same boxes), and a set of deliberately broken files shows the error
each one gets.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detlab.core.dataset import Dataset
from detlab.data.formats.coco import coco_to_dict, read_coco, write_coco
from detlab.data.formats.jsonio import dump_json
from detlab.data.io import read_dataset, write_dataset
from detlab.data.render import render_images
from detlab.data.synthetic import make_sequential_dataset
from detlab.data.validate import ValidationReport, validate
from detlab.errors import DetlabWarning

__all__ = ["BadInputCase", "RoundTrip", "TourResult", "run_dataset_tour"]


@dataclass(frozen=True)
class RoundTrip:
    """A conversion and its way back, compared with the original."""

    fmt: str
    path: Path
    images: int
    boxes: int
    max_box_error: float
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class BadInputCase:
    """A broken file and the first error detlab reports for it."""

    name: str
    path: Path
    first_error: str
    errors: int


@dataclass
class TourResult:
    dataset: Dataset
    annotations: Path
    report: ValidationReport
    round_trips: list[RoundTrip] = field(default_factory=list)
    bad_inputs: list[BadInputCase] = field(default_factory=list)


def run_dataset_tour(out: str | Path, *, quick: bool = False, seed: int = 0) -> TourResult:
    """Run the whole dataset workflow under ``out``; nothing outside it is touched."""
    root = Path(out)
    data = root / "data"
    ds = make_sequential_dataset(
        num_sequences=4 if quick else 6, frames_per_sequence=20 if quick else 40, seed=seed
    )
    render_images(ds, data / "images", seed=seed)
    annotations = data / "annotations.json"
    write_coco(ds, annotations)
    result = TourResult(read_coco(annotations, warn=False), annotations, validate(annotations))
    for fmt in ("voc", "yolo"):
        result.round_trips.append(_round_trip(result.dataset, data, fmt))
    result.bad_inputs = _bad_inputs(result.dataset, data / "broken")
    return result


def _round_trip(ds: Dataset, data: Path, fmt: str) -> RoundTrip:
    """Write ``ds`` as ``fmt`` and read it back; what the writer warned about becomes notes."""
    target = data / fmt
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DetlabWarning)
        if fmt == "voc":
            write_dataset(ds, target, "voc", split="trainval")
            back = read_dataset(target, fmt="voc", split="trainval", warn=False)
        else:
            write_dataset(ds, target, "yolo", split="train", image_root=data / "images")
            back = read_dataset(target, fmt="yolo", split="train", warn=False)
    notes = tuple(str(w.message) for w in caught if issubclass(w.category, DetlabWarning))
    error = _box_error(ds, back)
    return RoundTrip(fmt, target, back.num_images, back.num_annotations, error, notes)


def _box_error(original: Dataset, back: Dataset) -> float:
    """Largest coordinate difference between matching boxes (crowd boxes may be dropped)."""
    kept = original.annotations.boxes[~original.annotations.iscrowd.astype(bool)]
    if back.num_annotations not in {original.num_annotations, kept.shape[0]}:
        return math.inf
    reference = (
        original.annotations.boxes if back.num_annotations == original.num_annotations else kept
    )
    if reference.size == 0:
        return 0.0
    return float(np.abs(_by_image_order(back) - reference).max())


def _by_image_order(ds: Dataset) -> np.ndarray:
    order = np.argsort(ds.annotations.image_index, kind="stable")
    return ds.annotations.boxes[order]


def _bad_inputs(ds: Dataset, folder: Path) -> list[BadInputCase]:
    folder.mkdir(parents=True, exist_ok=True)
    base = coco_to_dict(ds)
    cases = []
    for name, (kind, payload) in _broken_variants(base).items():
        path = folder / f"{name}.json"
        if isinstance(payload, bytes):
            path.write_bytes(payload)
        else:
            dump_json(payload, path)
        gt_path = folder / "gt.json"
        if kind == "predictions":
            dump_json(base, gt_path)
            report = validate(gt_path, predictions=path)
        else:
            report = validate(path)
        first = str(report.errors[0]) if report.errors else "(accepted)"
        cases.append(BadInputCase(name, path, first, len(report.errors)))
    return cases


def _broken_variants(base: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    def edited(edit: Any) -> dict[str, Any]:
        obj = copy.deepcopy(base)
        edit(obj)
        return obj

    first = base["annotations"][0]
    prediction = {k: first[k] for k in ("image_id", "category_id", "bbox")}
    return {
        "negative_width": (
            "dataset",
            edited(lambda o: o["annotations"][0]["bbox"].__setitem__(2, -4)),
        ),
        "unknown_image_id": (
            "dataset",
            edited(lambda o: o["annotations"][1].update(image_id=999999)),
        ),
        "missing_bbox": ("dataset", edited(lambda o: o["annotations"][2].pop("bbox"))),
        "string_image_id": ("dataset", edited(lambda o: o["images"][0].update(id="frame_0001"))),
        "broken_json": ("dataset", b'{"images": [{"id": 1,, "width": 320}]'),
        "nan_score": ("predictions", b"[" + _nan_record(prediction) + b"]"),
    }


def _nan_record(prediction: dict[str, Any]) -> bytes:
    body = ", ".join(f'"{k}": {v}' for k, v in prediction.items())
    return ("{" + body + ', "score": NaN}').encode()
