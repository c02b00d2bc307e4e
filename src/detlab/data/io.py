"""One entry point for every dataset format: find out what a path holds, read it, write it.

>>> detect_format("instances_val2017.json")
'coco'
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from detlab.core.dataset import Dataset
from detlab.data.formats.coco import parse_coco, write_coco
from detlab.data.formats.jsonio import load_json
from detlab.data.formats.voc import read_voc, write_voc
from detlab.data.formats.yolo import read_yolo, write_yolo
from detlab.data.problems import ProblemLog
from detlab.errors import InvalidInputError, Problem

__all__ = ["FORMATS", "DatasetFormat", "detect_format", "read_dataset", "write_dataset"]

DatasetFormat = Literal["coco", "voc", "yolo"]
FORMATS: tuple[DatasetFormat, ...] = get_args(DatasetFormat)

_KNOWN = (
    "COCO: a .json instances file; "
    "Pascal VOC: a folder with Annotations/*.xml (e.g. VOCdevkit/VOC2007); "
    "YOLO: a data.yaml, or a folder with images/ and labels/"
)


def _unknown(path: Path, why: str) -> InvalidInputError:
    problem = Problem("error", str(path), "", "", f"{why}; detlab reads {_KNOWN}")
    return InvalidInputError(str(problem), [problem])


def detect_format(path: str | Path) -> DatasetFormat:
    """Guess a dataset's format from its path (and, for folders, what they contain)."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        return "coco"
    if p.suffix.lower() in {".yaml", ".yml"}:
        return "yolo"
    if not p.exists():
        raise _unknown(p, "no such file or folder")
    if p.is_dir():
        if (
            (p / "Annotations").is_dir()
            or p.name == "Annotations"
            or any(p.glob("VOC*/Annotations"))
        ):
            return "voc"
        if (p / "labels").is_dir() or (p / "data.yaml").is_file() or p.name == "labels":
            return "yolo"
    raise _unknown(p, "cannot tell the dataset format")


def read_dataset(
    path: str | Path,
    *,
    fmt: DatasetFormat | None = None,
    split: str | None = None,
    warn: bool = True,
    log: ProblemLog | None = None,
) -> Dataset:
    """Read a dataset in any supported format (detected from ``path`` unless ``fmt`` is given).

    With ``log``, problems are collected there instead of raising (see ``detlab validate``).
    """
    fmt = fmt or detect_format(path)
    if fmt == "coco":
        if log is None:
            return parse_coco(load_json(path), source=str(path), warn=warn)
        return parse_coco(load_json(path), source=str(path), log=log)
    if fmt == "voc":
        return read_voc(path, split=split, warn=warn, log=log)
    if fmt == "yolo":
        return read_yolo(path, split=split, warn=warn, log=log)
    raise _unknown(Path(path), f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")


def write_dataset(
    ds: Dataset,
    path: str | Path,
    fmt: DatasetFormat,
    *,
    split: str | None = None,
    image_root: str | Path | None = None,
    copy_images: bool = False,
) -> Path:
    """Write ``ds`` in ``fmt``; returns the file or folder written.

    For COCO, ``path`` is the JSON file (a folder gets ``<split or 'annotations'>.json``).
    """
    out = Path(path)
    if fmt == "coco":
        if out.suffix.lower() != ".json":
            out = out / f"{split or 'annotations'}.json"
        write_coco(ds, out)
        return out
    if fmt == "voc":
        write_voc(ds, out, split=split or "trainval")
        return out
    if fmt == "yolo":
        write_yolo(ds, out, split=split or "train", image_root=image_root, copy_images=copy_images)
        return out
    raise _unknown(out, f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")
