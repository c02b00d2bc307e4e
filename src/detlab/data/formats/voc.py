"""Pascal VOC: a folder of per-image XML files, reader and writer.

Layout read and written::

    VOC2007/
      Annotations/000005.xml        one file per image, named after the image's stem
      ImageSets/Main/trainval.txt   the stems of one split, one a line
      labels.txt                    (optional) the class names in order, one a line

Pixel convention. VOC boxes are 1-based, inclusive pixel indices: ``xmin=1, xmax=10`` covers
the first ten pixel columns. detlab's boxes are continuous (:mod:`detlab.core.boxes`), so the
reader converts as detectron2 does, ``x = xmin - 1, w = xmax - xmin + 1`` (and the same for
``y``), which turns that box into ``x=0, w=10``; the writer inverts it, ``xmin = x + 1,
xmax = x + w``, writing integers where the value is integral.

Categories come from, in order of preference: the ``classes`` argument, a ``labels.txt`` (or
``classes.txt``) beside ``Annotations``, the 20 standard VOC classes in their usual order when
every name found is one of them, and otherwise the sorted names found. Ids are 1..K in that
order; image and box ids are 1..N and 1..M in the order read.

VOC has no crowd or ignore flag. The writer marks such boxes ``difficult``, which is what VOC
evaluation does with them (neither a hit nor a miss), and says how many it changed.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.dataset import Annotations, Category, Dataset, Images
from detlab.core.ids import IdIndex
from detlab.data.checks import check_annotation_columns, check_image_columns
from detlab.data.formats.voc_xml import (
    VOCImage,
    VOCObject,
    build_annotation_element,
    format_coordinate,
    parse_annotation,
)
from detlab.data.problems import ProblemLog
from detlab.errors import ConfigError, DetlabWarning, InvalidInputError, Problem

__all__ = ["VOC_CLASSES", "read_voc", "write_voc"]

#: The 20 Pascal VOC classes in the order of the devkit (and of every VOC-trained model).
VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)  # fmt: skip

_CLASS_FILES = ("labels.txt", "classes.txt")
_FLAGS = frozenset({"difficult", "truncated"})


def read_voc(
    root: str | Path,
    *,
    split: str | None = None,
    classes: Sequence[str] | None = None,
    warn: bool = True,
    log: ProblemLog | None = None,
) -> Dataset:
    """Read a VOC folder: ``VOC2007`` itself, its ``Annotations``, or a ``VOCdevkit`` holding one.

    ``split`` reads the stems in ``ImageSets/Main/<split>.txt`` in that order; without it, every
    ``Annotations/*.xml`` sorted by name. With ``log`` given, problems go there and whatever
    could be read is returned (for ``detlab validate``); without it, any error raises
    :class:`~detlab.errors.AnnotationParseError` listing every problem found.
    """
    folder = Path(root)
    own_log = log is None
    log = ProblemLog(str(folder)) if log is None else log
    dataset = _read(folder, split, classes, log)
    if own_log:
        log.conclude(warn=warn)
    return dataset


def _read(
    folder: Path, split: str | None, classes: Sequence[str] | None, log: ProblemLog
) -> Dataset:
    base = _find_base(folder, log)
    if base is None:
        return _build([], (), "", log, str(folder))
    prefix = f"{base.name}/" if base.parent == folder else ""
    stems = _list_stems(base, prefix, split, log)
    read = [(stem, _read_file(base, prefix, stem, log)) for stem in stems]
    images = [(stem, image) for stem, image in read if image is not None]
    names, origin = _choose_classes(base, prefix, classes, images, log)
    return _build(images, names, origin, log, str(folder))


# --------------------------------------------------------------------------- finding files


def _find_base(folder: Path, log: ProblemLog) -> Path | None:
    """The folder holding ``Annotations``, or None with an error saying what was found."""
    if (folder / "Annotations").is_dir():
        return folder
    if folder.name == "Annotations" and folder.is_dir():
        return folder.parent
    if not folder.is_dir():
        log.error("", "", f"no such folder {folder}; pass a VOC folder holding Annotations/*.xml")
        return None
    found = sorted(p for p in folder.iterdir() if (p / "Annotations").is_dir())
    if len(found) == 1:
        return found[0]
    if found:
        listed = ", ".join(p.name for p in found)
        log.error("", "", f"{len(found)} VOC folders inside ({listed}); pass one of them")
    else:
        log.error("", "", "no Annotations folder here or one level down; pass a VOC folder")
    return None


def _list_stems(base: Path, prefix: str, split: str | None, log: ProblemLog) -> list[str]:
    if split is not None:
        return _split_stems(base, prefix, split, log)
    stems = sorted(p.stem for p in (base / "Annotations").glob("*.xml"))
    if not stems:
        log.error(f"{prefix}Annotations", "", "no .xml files; is this a Pascal VOC folder?")
    return stems


def _split_stems(base: Path, prefix: str, split: str, log: ProblemLog) -> list[str]:
    """The stems listed in a split file, in order; listed stems without an XML file are errors."""
    relative = f"ImageSets/Main/{split}.txt"
    try:
        lines = (base / relative).read_text(encoding="utf-8").splitlines()
    except OSError:
        available = ", ".join(_available_splits(base / "ImageSets" / "Main")) or "none"
        log.error(
            f"{prefix}{relative}",
            "",
            f"no split file {base / relative}; splits found in ImageSets/Main: {available}",
        )
        return []
    stems: list[str] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        tokens = line.split()
        if not tokens:
            continue
        where, stem = f"{prefix}{relative} line {number}", tokens[0]
        if stem in first_line:
            log.warning(where, "", f"'{stem}' already listed on line {first_line[stem]}; read once")
        elif not (base / "Annotations" / f"{stem}.xml").is_file():
            log.error(where, "", f"no annotation file {prefix}Annotations/{stem}.xml")
        else:
            stems.append(stem)
        first_line.setdefault(stem, number)
    return stems


def _available_splits(main: Path) -> list[str]:
    """Split names, leaving out VOC's per-class lists such as ``aeroplane_train``."""
    names = {p.stem for p in main.glob("*.txt")} if main.is_dir() else set()
    return sorted(n for n in names if "_" not in n or n.rpartition("_")[2] not in names)


def _read_file(base: Path, prefix: str, stem: str, log: ProblemLog) -> VOCImage | None:
    record = f"{prefix}Annotations/{stem}.xml"
    try:
        data = (base / "Annotations" / f"{stem}.xml").read_bytes()
    except OSError as exc:
        log.error(record, "", f"cannot read the file: {exc.strerror}")
        return None
    return parse_annotation(data, record, stem, log)


# --------------------------------------------------------------------------- categories


def _choose_classes(
    base: Path,
    prefix: str,
    classes: Sequence[str] | None,
    images: list[tuple[str, VOCImage]],
    log: ProblemLog,
) -> tuple[tuple[str, ...], str]:
    """The class names in id order, and where they came from ("" when taken from the files)."""
    if classes is not None:
        return _explicit_classes(classes), "the classes argument"
    for file_name in _CLASS_FILES:
        if (base / file_name).is_file():
            return _read_class_file(base / file_name, f"{prefix}{file_name}", log), file_name
    found = {obj.name for _, image in images for obj in image.objects}
    if found <= set(VOC_CLASSES):
        return VOC_CLASSES, ""
    return tuple(sorted(found)), ""


def _explicit_classes(classes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(classes, str):
        raise ConfigError(f"classes must be a list of names, not the string {classes!r}")
    names = tuple(classes)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"classes lists {', '.join(map(repr, repeated))} more than once")
    return names


def _read_class_file(path: Path, record: str, log: ProblemLog) -> tuple[str, ...]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        log.error(record, "", f"cannot read the file: {exc.strerror}")
        return ()
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        name = line.strip()
        if name in first_line:
            log.error(f"{record} line {number}", "", f"'{name}' already on line {first_line[name]}")
        elif name:
            first_line[name] = number
    return tuple(first_line)


# --------------------------------------------------------------------------- building


def _build(
    images: list[tuple[str, VOCImage]],
    names: tuple[str, ...],
    origin: str,
    log: ProblemLog,
    source: str,
) -> Dataset:
    class_ids = {name: k + 1 for k, name in enumerate(names)}
    rows = [
        (position, obj)
        for position, (_, image) in enumerate(images)
        for obj in image.objects
        if _known_class(obj, class_ids, origin, log)
    ]
    image_ids = np.arange(1, len(images) + 1, dtype=np.int64)
    widths = np.array([image.width for _, image in images], dtype=np.float64)
    heights = np.array([image.height for _, image in images], dtype=np.float64)
    check_image_columns(log, image_ids, widths, heights, lambda i: f"{images[i][1].record} size")
    image_index = np.array([position for position, _ in rows], dtype=np.int64)
    category_ids = np.array([class_ids[obj.name] for _, obj in rows], dtype=np.int64)
    boxes = _continuous_boxes([obj.xyxy for _, obj in rows])
    check_annotation_columns(
        log,
        image_ids=image_ids[image_index],
        category_ids=category_ids,
        boxes=boxes,
        images=IdIndex(image_ids),
        categories=IdIndex(np.arange(1, len(names) + 1)),
        widths=widths,
        heights=heights,
        name=lambda j: rows[j][1].where,
    )
    table = Images.build(
        image_ids,
        [image.file_name for _, image in images],
        np.round(widths).astype(np.int64),
        np.round(heights).astype(np.int64),
        extra=[_image_extra(stem, image) for stem, image in images],
    )
    annotations = Annotations.build(
        ids=np.arange(1, len(rows) + 1),
        image_index=image_index,
        category_ids=category_ids,
        boxes=boxes,
        difficult=[obj.difficult for _, obj in rows],
        truncated=[obj.truncated for _, obj in rows],
        extra=[obj.extra for _, obj in rows],
    )
    categories = tuple(Category(k + 1, name) for k, name in enumerate(names))
    return Dataset(table, categories, annotations, _FLAGS, {}, source)


def _known_class(obj: VOCObject, class_ids: dict[str, int], origin: str, log: ProblemLog) -> bool:
    if obj.name in class_ids:
        return True
    shown = ", ".join(list(class_ids)[:20]) + (", ..." if len(class_ids) > 20 else "")
    log.error(
        obj.where,
        "name",
        f"class '{obj.name}' is not in {origin} ({shown}); add it there or fix the name",
    )
    return False


#: Decimals kept on coordinates converted between pixel conventions.
_DECIMALS = 6


def _continuous_boxes(corners: Sequence[tuple[float, float, float, float]]) -> FloatArray:
    """1-based inclusive ``[xmin, ymin, xmax, ymax]`` -> continuous ``xywh``, ``(M, 4) float64``."""
    xyxy = np.array(corners, dtype=np.float64).reshape(-1, 4)
    boxes = np.empty_like(xyxy)
    boxes[:, :2] = xyxy[:, :2] - 1.0
    boxes[:, 2:] = xyxy[:, 2:] - xyxy[:, :2] + 1.0
    # The +-1 shifts leave binary noise on fractional coordinates (28.299999999999983 for
    # 28.3); no annotation is finer than a micro-pixel, so round that noise away.
    return np.round(boxes, _DECIMALS)


def _image_extra(stem: str, image: VOCImage) -> dict[str, Any] | None:
    """The kept children, plus the XML's stem when the file name alone would not give it back."""
    if PurePath(image.file_name).stem == stem:
        return image.extra
    return {**(image.extra or {}), "stem": stem}


# --------------------------------------------------------------------------- writing


def write_voc(ds: Dataset, root: str | Path, *, split: str | None = "trainval") -> None:
    """Write ``ds`` as a VOC folder: one XML per image, the split's stem list and ``labels.txt``.

    Raises :class:`~detlab.errors.InvalidInputError`, before writing anything, when two images
    would share an XML file name or a box names a category the dataset does not have.
    """
    folder = Path(root)
    stems = _output_stems(ds)
    names = _box_class_names(ds)
    problems = [*_stem_collisions(ds, stems, str(folder)), *_unknown_categories(ds, str(folder))]
    if problems:
        raise InvalidInputError.from_problems(problems)
    difficult = _difficult_for_voc(ds)
    corners = _voc_corners(ds.annotations.boxes)
    annotations_dir = folder / "Annotations"
    annotations_dir.mkdir(parents=True, exist_ok=True)
    folder_name = folder.resolve().name
    image_extras, box_extras = _image_extras(ds), _box_extras(ds)
    for position, rows in ds.rows_by_image():
        element = build_annotation_element(
            folder=folder_name,
            file_name=ds.images.file_names[position],
            size=(int(ds.images.widths[position]), int(ds.images.heights[position])),
            image_extra=image_extras[position] or {},
            objects=[
                (
                    str(names[j]),
                    corners[j],
                    bool(difficult[j]),
                    bool(ds.annotations.truncated[j]),
                    box_extras[j] or {},
                )
                for j in rows
            ],
        )
        text = ET.tostring(element, encoding="unicode") + "\n"
        (annotations_dir / f"{stems[position]}.xml").write_text(text, encoding="utf-8")
    if split is not None:
        _write_lines(folder / "ImageSets" / "Main" / f"{split}.txt", stems)
    _write_lines(folder / "labels.txt", ds.category_names)


def _output_stems(ds: Dataset) -> list[str]:
    return [
        str((extra or {}).get("stem") or PurePath(file_name).stem)
        for file_name, extra in zip(ds.images.file_names, _image_extras(ds), strict=True)
    ]


def _image_extras(ds: Dataset) -> Sequence[dict[str, Any] | None]:
    """Per-image ``extra``; a dataset built without any has an empty tuple there."""
    return ds.images.extra or (None,) * ds.num_images


def _box_extras(ds: Dataset) -> Sequence[dict[str, Any] | None]:
    return ds.annotations.extra or (None,) * ds.num_annotations


def _stem_collisions(ds: Dataset, stems: list[str], file: str) -> Iterable[Problem]:
    first: dict[str, int] = {}
    for position, stem in enumerate(stems):
        where = f"images[{position}] (id={int(ds.images.ids[position])})"
        if not stem:
            yield Problem("error", file, where, "file_name", "empty; cannot name its XML file")
        elif stem in first:
            yield Problem(
                "error",
                file,
                where,
                "file_name",
                f"'{ds.images.file_names[position]}' would be written to Annotations/{stem}.xml, "
                f"like images[{first[stem]}]; VOC names files by stem, so rename one image",
            )
        first.setdefault(stem, position)


def _box_class_names(ds: Dataset) -> list[str]:
    positions = ds.category_positions()
    return [ds.categories[p].name if p >= 0 else "" for p in positions]


def _unknown_categories(ds: Dataset, file: str) -> Iterable[Problem]:
    for row in np.flatnonzero(ds.category_positions() < 0):
        yield Problem(
            "error",
            file,
            f"annotations[{row}] (id={int(ds.annotations.ids[row])})",
            "category_id",
            f"unknown category id {int(ds.annotations.category_ids[row])}",
        )


def _difficult_for_voc(ds: Dataset) -> np.ndarray:
    """``difficult``, also set on crowd and ignore boxes, which VOC cannot express otherwise."""
    a = ds.annotations
    special = a.iscrowd | a.ignore
    count = int(special.sum())
    if count:
        warnings.warn(
            f"{count} crowd or ignore box(es) have no Pascal VOC equivalent; "
            "written with difficult=1, which VOC evaluation likewise leaves out",
            DetlabWarning,
            stacklevel=3,
        )
    return a.difficult | special


def _voc_corners(boxes: FloatArray) -> list[list[str]]:
    """Continuous ``xywh`` -> 1-based inclusive ``[xmin, ymin, xmax, ymax]`` as text."""
    corners = np.empty_like(boxes)
    corners[:, :2] = boxes[:, :2] + 1.0
    corners[:, 2:] = boxes[:, :2] + boxes[:, 2:]
    corners = np.round(corners, _DECIMALS)
    return [[format_coordinate(v) for v in row] for row in corners.tolist()]


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
