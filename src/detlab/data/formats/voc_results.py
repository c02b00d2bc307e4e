"""Pascal VOC devkit detections: one ``comp4_det_<split>_<class>.txt`` file per class.

Each line is ``<image stem> <score> <xmin> <ymin> <xmax> <ymax>`` in the devkit's 1-based,
inclusive pixel coordinates (what ``voc_eval.py`` reads and what detectron2's and mmdetection's
VOC writers produce). Boxes are converted as the VOC annotation reader converts them
(:mod:`detlab.data.formats.voc`): ``x = xmin - 1, w = xmax - xmin + 1``, so that detections and
ground truth read from a VOC folder share one continuous frame.

The class of a file is the longest class name of the dataset that its stem ends with after an
underscore (``comp4_det_test_pottedplant.txt`` is ``pottedplant``); image stems are matched to
the dataset's file names without their extension, as the devkit matches image ids.

>>> import tempfile, pathlib
>>> from detlab.core.dataset import Annotations, Category, Dataset, Images
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "comp4_det_test_cat.txt").write_text("000001 0.9 1 1 10 20\\n")
>>> images = Images.build([7], ["000001.jpg"], [50], [50])
>>> ds = Dataset(images, (Category(3, "cat"),), Annotations.empty())
>>> preds = read_voc_detections(folder, ds)
>>> preds.image_ids.tolist(), preds.category_ids.tolist(), preds.boxes.tolist()
([7], [3], [[0.0, 0.0, 10.0, 20.0]])
"""

from __future__ import annotations

import math
from pathlib import Path, PurePath

import numpy as np

from detlab.core.dataset import Dataset
from detlab.core.predictions import Predictions
from detlab.data.formats.voc_xml import format_coordinate
from detlab.data.problems import ProblemLog
from detlab.errors import AnnotationParseError, Problem

__all__ = ["read_voc_detections", "write_voc_detections"]


def read_voc_detections(path: str | Path, dataset: Dataset) -> Predictions:
    """Read a folder of per-class devkit files (or one such file) against ``dataset``.

    Every problem found (a line with too few fields, a number that is not one, a stem or a
    class the dataset does not have) is collected, located by file, line and field, and raised
    together as one :class:`~detlab.errors.AnnotationParseError`.
    """
    files = _list_files(Path(path))
    stems = {
        PurePath(name).stem: image_id
        for name, image_id in zip(
            dataset.images.file_names, dataset.images.ids.tolist(), strict=True
        )
    }
    names = sorted(((c.name, c.id) for c in dataset.categories), key=lambda c: -len(c[0]))
    problems: list[Problem] = []
    image_ids: list[int] = []
    category_ids: list[int] = []
    rows: list[tuple[float, float, float, float, float]] = []
    for file in files:
        log = ProblemLog(str(file))
        category = _class_of(file, names)
        if category is None:
            known = ", ".join(sorted(c.name for c in dataset.categories)) or "none"
            log.error("", "", f"the file name ends with no class of the dataset ({known})")
        else:
            lines = file.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, start=1):
                parsed = _parse_line(line, number, stems, log)
                if parsed is not None:
                    image_ids.append(parsed[0])
                    category_ids.append(category)
                    rows.append(parsed[1])
        problems.extend(log.problems)
    if problems:
        raise AnnotationParseError.from_problems(problems)
    table = np.array(rows, dtype=np.float64).reshape(-1, 5)
    boxes = np.stack(
        [
            table[:, 1] - 1.0,
            table[:, 2] - 1.0,
            table[:, 3] - table[:, 1] + 1.0,
            table[:, 4] - table[:, 2] + 1.0,
        ],
        axis=1,
    )
    return Predictions.build(image_ids, category_ids, boxes, table[:, 0])


def _list_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    log = ProblemLog(str(root))
    if not root.is_dir():
        log.error("", "", "no such file or folder")
    elif not (files := sorted(root.glob("*.txt"))):
        log.error("", "", "no .txt files; expected the devkit's comp4_det_<split>_<class>.txt")
    else:
        return files
    raise AnnotationParseError.from_problems(log.problems)


def _class_of(file: Path, names: list[tuple[str, int]]) -> int | None:
    for name, category_id in names:
        if file.stem == name or file.stem.endswith(f"_{name}"):
            return category_id
    return None


def _parse_line(
    line: str, number: int, stems: dict[str, int], log: ProblemLog
) -> tuple[int, tuple[float, float, float, float, float]] | None:
    fields = line.split()
    if not fields:
        return None
    record = f"line {number}"
    if len(fields) != 6:
        log.error(record, "", f"{len(fields)} fields; expected 6: image score xmin ymin xmax ymax")
        return None
    image = stems.get(fields[0])
    if image is None:
        log.error(record, "image", f"image {fields[0]!r} is not in the ground truth")
        return None
    values: list[float] = []
    for name, text in zip(("score", "xmin", "ymin", "xmax", "ymax"), fields[1:], strict=True):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            log.error(record, name, f"{text!r} is not a finite number")
            return None
        values.append(value)
    score, x1, y1, x2, y2 = values
    return image, (score, x1, y1, x2, y2)


def write_voc_detections(
    predictions: Predictions, dataset: Dataset, folder: str | Path, *, split: str = "test"
) -> list[Path]:
    """Write ``comp4_det_<split>_<class>.txt`` per class of ``dataset`` (the devkit's input).

    Lines keep the predictions' order within a class; boxes go back to inclusive pixels
    (``xmin = x + 1``, ``xmax = x + w``). Returns the files written, one per class.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    stems = [PurePath(name).stem for name in dataset.images.file_names]
    positions = dataset.image_index.positions(predictions.image_ids)
    unknown = positions < 0
    if unknown.any():
        ids = ", ".join(str(int(i)) for i in np.unique(predictions.image_ids[unknown])[:10])
        raise AnnotationParseError(f"{out}: predictions name image ids the dataset lacks: {ids}")
    written = []
    for category in dataset.categories:
        rows = np.flatnonzero(predictions.category_ids == category.id)
        lines = []
        for row in rows.tolist():
            x, y, w, h = predictions.boxes[row].tolist()
            coords = (x + 1.0, y + 1.0, x + w, y + h)
            text = " ".join(format_coordinate(v) for v in coords)
            score = repr(float(predictions.scores[row]))
            lines.append(f"{stems[int(positions[row])]} {score} {text}\n")
        path = out / f"comp4_det_{split}_{category.name}.txt"
        path.write_text("".join(lines), encoding="utf-8")
        written.append(path)
    return written
