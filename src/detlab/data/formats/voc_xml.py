"""One Pascal VOC annotation file: parsed into plain records, or built from them.

Parsing reports every problem it finds into a :class:`~detlab.data.problems.ProblemLog` and keeps
going, so that one run lists all faults of a file. A problem names the file and the object
(0-based, in document order) as ``Annotations/000005.xml object[2]`` and the element by its path
below that record, such as ``bndbox/xmax``. An object with an error is left out of the result;
a file that cannot be parsed, or whose size cannot be read, is left out whole.

Children the model has no column for are kept as strings: a leaf as its stripped text, an element
with children of its own (``source``, ``owner``, ``attributes``, ``part``) as its XML text, so
that :func:`build_annotation_element` can put it back as it was. A tag that repeats (the ``part``
elements of VOC's person layout) is kept as a list of such strings.
"""

from __future__ import annotations

import copy
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from detlab.data.problems import ProblemLog, describe_value

__all__ = [
    "VOCImage",
    "VOCObject",
    "build_annotation_element",
    "format_coordinate",
    "parse_annotation",
]

#: Children read into columns; any other child is kept in ``extra``.
_IMAGE_TAGS = frozenset({"filename", "size", "object"})
_SIZE_TAGS = frozenset({"width", "height"})
_OBJECT_TAGS = frozenset({"name", "difficult", "truncated", "bndbox"})
_BOX_TAGS = ("xmin", "ymin", "xmax", "ymax")

#: Image ``extra`` keys the writer places itself, outside the run of other kept children.
_PLACED_IMAGE_KEYS = frozenset({"folder", "segmented", "depth", "stem"})
_XML_NAME = re.compile(r"[A-Za-z_][\w.-]*\Z")


@dataclass(frozen=True)
class VOCObject:
    """One ``<object>``: its box as VOC wrote it (1-based inclusive pixel indices).

    ``where`` names it for messages, ``Annotations/000005.xml object[2]``.
    """

    where: str
    name: str
    xyxy: tuple[float, float, float, float]
    difficult: bool
    truncated: bool
    extra: dict[str, Any] | None


@dataclass(frozen=True)
class VOCImage:
    """One annotation file: ``record`` is its path below the dataset root, for messages."""

    record: str
    file_name: str
    width: float
    height: float
    objects: tuple[VOCObject, ...]
    extra: dict[str, Any] | None


# --------------------------------------------------------------------------- parsing


def parse_annotation(data: bytes, record: str, stem: str, log: ProblemLog) -> VOCImage | None:
    """Parse one file's bytes; ``None`` (with an error logged) when nothing usable is in it."""
    root = _parse_xml(data, record, log)
    if root is None:
        return None
    if root.tag != "annotation":
        log.error(record, "", f"expected an <annotation> root element, got <{root.tag}>")
        return None
    size = _parse_size(root, record, log)
    objects = [
        _parse_object(element, f"{record} object[{index}]", log)
        for index, element in enumerate(root.findall("object"))
    ]
    if size is None:
        return None
    extra = _kept_children(root, _IMAGE_TAGS)
    size_element = root.find("size")
    if size_element is not None:
        for key, value in _kept_children(size_element, _SIZE_TAGS).items():
            extra["depth" if key == "depth" else f"size/{key}"] = value
    return VOCImage(
        record=record,
        file_name=_file_name(root, record, stem, log),
        width=size[0],
        height=size[1],
        objects=tuple(obj for obj in objects if obj is not None),
        extra=extra or None,
    )


def _parse_xml(data: bytes, record: str, log: ProblemLog) -> ET.Element | None:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        line, offset = exc.position
        reason = str(exc.msg).rsplit(": line", 1)[0]
        log.error(
            f"{record} line {line}, column {offset + 1}",  # expat counts columns from 0
            "",
            f"broken XML: {reason}; fix the file or re-export it",
        )
        return None


def _file_name(root: ET.Element, record: str, stem: str, log: ProblemLog) -> str:
    text = (root.findtext("filename") or "").strip()
    if text:
        return text
    log.warning(record, "filename", f"missing; assuming '{stem}.jpg'")
    return f"{stem}.jpg"


def _parse_size(root: ET.Element, record: str, log: ProblemLog) -> tuple[float, float] | None:
    width = _number(root, "size/width", record, log)
    height = _number(root, "size/height", record, log)
    if width is None or height is None:
        return None
    return width, height


def _parse_object(element: ET.Element, where: str, log: ProblemLog) -> VOCObject | None:
    name = (element.findtext("name") or "").strip()
    if not name:
        log.error(where, "name", "missing required element (the class name)")
    difficult = _flag(element, "difficult", where, log)
    truncated = _flag(element, "truncated", where, log)
    box = _parse_box(element, where, log)
    if not name or box is None or difficult is None or truncated is None:
        return None
    extra = _kept_children(element, _OBJECT_TAGS)
    return VOCObject(where, name, box, difficult, truncated, extra or None)


def _parse_box(
    element: ET.Element, where: str, log: ProblemLog
) -> tuple[float, float, float, float] | None:
    if element.find("bndbox") is None:
        log.error(where, "bndbox", "missing required element")
        return None
    values = [_number(element, f"bndbox/{tag}", where, log) for tag in _BOX_TAGS]
    xmin, ymin, xmax, ymax = values
    if xmin is None or ymin is None or xmax is None or ymax is None:
        return None
    ordered = True
    for low, high, axis in ((xmin, xmax, "x"), (ymin, ymax, "y")):
        if high < low:
            log.error(
                where,
                f"bndbox/{axis}max",
                f"{axis}max {high:g} is less than {axis}min {low:g}; "
                f"VOC boxes are corners ({axis}min <= {axis}max), not sizes",
            )
            ordered = False
    return (xmin, ymin, xmax, ymax) if ordered else None


def _number(parent: ET.Element, path: str, where: str, log: ProblemLog) -> float | None:
    text = parent.findtext(path)
    if text is None:
        log.error(where, path, "missing required element")
        return None
    try:
        value = float(text)
    except ValueError:
        log.error(where, path, f"expected a number, got {describe_value(text.strip())}")
        return None
    if not math.isfinite(value):
        log.error(where, path, f"expected a finite number, got {describe_value(text.strip())}")
        return None
    return value


def _flag(element: ET.Element, tag: str, where: str, log: ProblemLog) -> bool | None:
    """``0``/``1`` (also ``0.0``/``1.0``); an absent element means 0, as most tools assume."""
    text = element.findtext(tag)
    if text is None:
        return False
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if value not in (0.0, 1.0):
        log.error(where, tag, f"expected 0 or 1, got {describe_value(text.strip())}")
        return None
    return value == 1.0


def _kept_children(element: ET.Element, known: frozenset[str]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for child in element:
        if child.tag in known:
            continue
        value = _element_value(child)
        previous = kept.get(child.tag)
        if previous is None:
            kept[child.tag] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            kept[child.tag] = [previous, value]
    return kept


def _element_value(element: ET.Element) -> str:
    """A leaf's text; a nested element's XML, without the indentation (the writer re-indents)."""
    if len(element) == 0:
        return (element.text or "").strip()
    compact = copy.deepcopy(element)
    for node in compact.iter():
        if node.text is not None and not node.text.strip():
            node.text = None
        node.tail = None if node is compact or not (node.tail or "").strip() else node.tail
    return ET.tostring(compact, encoding="unicode")


# --------------------------------------------------------------------------- building


def format_coordinate(value: float) -> str:
    """Integral values as ints (``48``), others as the shortest float text (``48.5``)."""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def build_annotation_element(
    *,
    folder: str,
    file_name: str,
    size: tuple[int, int],
    image_extra: dict[str, Any],
    objects: Sequence[tuple[str, Sequence[str], bool, bool, dict[str, Any]]],
) -> ET.Element:
    """The ``<annotation>`` element, in the order VOC's own files use.

    ``objects`` holds ``(name, [xmin, ymin, xmax, ymax] as text, difficult, truncated, extra)``.
    """
    root = ET.Element("annotation")
    _leaf(root, "folder", image_extra.get("folder", folder))
    _leaf(root, "filename", file_name)
    _append_kept(root, image_extra, _PLACED_IMAGE_KEYS)
    size_element = ET.SubElement(root, "size")
    _leaf(size_element, "width", size[0])
    _leaf(size_element, "height", size[1])
    _leaf(size_element, "depth", image_extra.get("depth", 3))
    for key, value in image_extra.items():
        if key.startswith("size/"):
            _append_value(size_element, key.removeprefix("size/"), value)
    _leaf(root, "segmented", image_extra.get("segmented", 0))
    for name, corners, difficult, truncated, extra in objects:
        root.append(_object_element(name, corners, difficult, truncated, extra))
    ET.indent(root, space="\t")
    return root


def _object_element(
    name: str, corners: Sequence[str], difficult: bool, truncated: bool, extra: dict[str, Any]
) -> ET.Element:
    element = ET.Element("object")
    _leaf(element, "name", name)
    _leaf(element, "pose", extra.get("pose", "Unspecified"))
    _leaf(element, "truncated", int(truncated))
    _leaf(element, "difficult", int(difficult))
    box = ET.SubElement(element, "bndbox")
    for tag, text in zip(_BOX_TAGS, corners, strict=True):
        _leaf(box, tag, text)
    _append_kept(element, extra, frozenset({"pose"}))
    return element


def _leaf(parent: ET.Element, tag: str, value: Any) -> None:
    ET.SubElement(parent, tag).text = str(value)


def _append_kept(parent: ET.Element, extra: dict[str, Any], placed: frozenset[str]) -> None:
    """Kept children back in place; keys that are not XML names or values that are not text or
    numbers (a COCO dataset's nested ``extra``) have no VOC form and are left out."""
    for key, value in extra.items():
        if key not in placed and not key.startswith("size/") and _XML_NAME.match(key):
            _append_value(parent, key, value)


def _append_value(parent: ET.Element, tag: str, value: Any) -> None:
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            for item in value:
                _append_value(parent, tag, item)
        return
    if isinstance(value, str) and value.startswith(f"<{tag}"):
        element = _parse_kept(value)
        if element is not None and element.tag == tag:
            parent.append(element)
            return
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, (str, int, float)):
        _leaf(parent, tag, value)


def _parse_kept(text: str) -> ET.Element | None:
    try:
        return ET.fromstring(text)
    except ET.ParseError:
        return None
