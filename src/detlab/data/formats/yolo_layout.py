"""The files of a YOLO dataset: where images, labels and class names are, and image sizes.

Two ways in, as Ultralytics accepts them:

- a dataset folder holding ``images/<split>/`` and ``labels/<split>/`` (or flat ``images/`` and
  ``labels/``), optionally with a ``data.yaml`` for the class names;
- a ``data.yaml`` whose ``train``/``val``/``test`` entry is a folder of images, a ``.txt`` list of
  image paths (one a line), or a list of either.

``file_name`` is relative to the split's image folder, to the folder of a ``.txt`` list, or to
the dataset root when a split lists several sources.

The label file of an image follows Ultralytics' rule: the last ``images`` folder in the image's
path becomes ``labels`` and the extension becomes ``.txt``
(``ds/images/train/a.jpg`` -> ``ds/labels/train/a.txt``); with no ``images`` folder in the
path, the label sits next to the image.

Relative paths in ``data.yaml`` (``path`` and the splits, and the lines of a ``.txt`` list) are
resolved against the folder of the file that holds them, where Ultralytics uses the working
directory, so that a dataset reads the same from anywhere. A ``path`` that does not exist (an
export from another machine) falls back to the yaml's folder with a warning, and a ``../x``
split entry that does not exist is tried as ``x``, as Ultralytics does for Roboflow exports.

>>> label_path_for(Path("/ds/images/train/a.jpg")).as_posix()
'/ds/labels/train/a.txt'
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

from detlab.data.problems import ProblemLog, describe_value
from detlab.errors import AnnotationParseError, InvalidInputError, Problem

__all__ = [
    "IMAGE_SUFFIXES",
    "ImageFile",
    "YoloLayout",
    "dump_data_yaml",
    "fail",
    "find_layout",
    "image_placements",
    "label_path_for",
    "load_data_yaml",
    "merged_data_yaml",
    "names_from_yaml",
    "place_images",
    "read_image_sizes",
    "warn_orphan_labels",
]

#: Image extensions Ultralytics trains on (compared in lower case).
IMAGE_SUFFIXES = frozenset(
    {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".heic"}
)
_SPLIT_KEYS = ("train", "val", "test")
_YAML_NAMES = ("data.yaml", "data.yml")
_EXIF_ORIENTATION = 0x0112
_QUARTER_TURNS = frozenset({5, 6, 7, 8})  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class ImageFile:
    """One image: its path, its ``file_name`` in the dataset and where its label file would be."""

    path: Path
    file_name: str
    label: Path


@dataclass(frozen=True)
class YoloLayout:
    """What a YOLO dataset consists of, before any file is opened.

    ``root`` is the dataset folder that problems are named relative to; ``label_dirs`` are the
    folders scanned for label files that have no image.
    """

    root: Path
    images: tuple[ImageFile, ...]
    label_dirs: tuple[Path, ...]
    names: tuple[str, ...]

    def relative(self, path: Path) -> str:
        """``path`` relative to the dataset root for messages; absolute when outside it."""
        return _file_name(path, self.root)


def fail(file: str | Path, message: str, record: str = "", field: str = "") -> NoReturn:
    """Raise an :class:`AnnotationParseError` for a problem that stops reading altogether."""
    problem = Problem("error", str(file), record, field, message)
    raise AnnotationParseError(str(problem), [problem])


def label_path_for(image: Path) -> Path:
    """The label file Ultralytics reads for ``image`` (see the module docstring)."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):  # folders only, never the file name itself
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def _label_dir_for(folder: Path) -> Path:
    return label_path_for(folder / "x").parent


def _absolute(path: Path) -> Path:
    # normpath rather than resolve(): symlinked images must keep their own names.
    return Path(os.path.normpath(path.absolute()))


def _file_name(path: Path, image_root: Path) -> str:
    try:
        return path.relative_to(image_root).as_posix()
    except ValueError:
        return path.as_posix()


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def find_layout(
    root: str | Path, *, split: str | None, names: Sequence[str] | None, log: ProblemLog
) -> YoloLayout:
    """Locate images, label folders and class names; raise when the layout cannot be read."""
    path = _absolute(Path(root))
    if path.is_file():
        return _from_yaml(path, split, names, log)
    if not path.is_dir():
        fail(root, "no such file or folder; pass a YOLO dataset folder or its data.yaml")
    if (path / "images").is_dir():
        return _from_folders(path, split, names)
    yaml_file = next((path / n for n in _YAML_NAMES if (path / n).is_file()), None)
    if yaml_file is not None:
        return _from_yaml(yaml_file, split, names, log)
    fail(root, "not a YOLO dataset: expected an images/ folder (with labels/) or a data.yaml")


# --------------------------------------------------------------------------- folder layout


def _from_folders(root: Path, split: str | None, names: Sequence[str] | None) -> YoloLayout:
    folder = _split_folder(root / "images", split)
    label_dir = _label_dir_for(folder)
    yaml_file = next((root / n for n in _YAML_NAMES if (root / n).is_file()), None)
    yaml_names = names_from_yaml(load_data_yaml(yaml_file), yaml_file) if yaml_file else None
    return YoloLayout(
        root=root,
        images=_scan_folder(folder, folder),
        label_dirs=(label_dir,),
        names=_choose_names(names, yaml_names, yaml_file, [root, root / "labels", label_dir]),
    )


def _split_folder(images: Path, split: str | None) -> Path:
    """``images/<split>``; flat ``images/`` when it holds images itself and no split is asked."""
    splits = sorted(d.name for d in images.iterdir() if d.is_dir())
    if split is not None:
        if split in splits:
            return images / split
        found = ", ".join(splits) or "none (a flat images/ folder: pass split=None)"
        fail(images, f"no split {split!r} here; splits found: {found}")
    if not splits or any(p.is_file() and _is_image(p) for p in images.iterdir()):
        return images
    if len(splits) == 1:
        return images / splits[0]
    fail(images, f"several splits ({', '.join(splits)}); choose one with split=...")


def _scan_folder(folder: Path, image_root: Path) -> tuple[ImageFile, ...]:
    """Every image under ``folder``, recursively as Ultralytics does, sorted by file name."""
    paths = (p for p in folder.rglob("*") if _is_image(p) and p.is_file())
    return _sorted_images(paths, image_root)


def _sorted_images(paths: Iterable[Path], image_root: Path) -> tuple[ImageFile, ...]:
    found = [ImageFile(p, _file_name(p, image_root), label_path_for(p)) for p in paths]
    return tuple(sorted(found, key=lambda f: f.file_name))


# --------------------------------------------------------------------------- data.yaml


def load_data_yaml(file: Path) -> dict[str, Any]:
    """Parse a ``data.yaml``; a broken or non-mapping file is an :class:`AnnotationParseError`."""
    import yaml  # noqa: PLC0415 - only YOLO needs YAML

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        fail(file, f"cannot read as YAML: {exc}")
    if not isinstance(data, dict):
        fail(file, f"expected a mapping with train/val/test and names, got {describe_value(data)}")
    return data


def names_from_yaml(data: dict[str, Any], file: Path) -> tuple[str, ...] | None:
    """``names`` as a list or an ``{index: name}`` mapping with indices 0..n-1; None when absent."""
    raw = data.get("names")
    if raw is None:
        return None
    if isinstance(raw, list):
        names = tuple(str(n) for n in raw)
    elif isinstance(raw, dict):
        names = _names_from_mapping(raw, file)
    else:
        fail(
            file,
            f"must be a list or an index -> name mapping, got {describe_value(raw)}",
            "",
            "names",
        )
    nc = data.get("nc")
    if nc is not None and nc != len(names):
        fail(file, f"nc is {describe_value(nc)} but names lists {len(names)} classes", "", "nc")
    return names


def _names_from_mapping(raw: dict[Any, Any], file: Path) -> tuple[str, ...]:
    try:
        by_index = {int(k): str(v) for k, v in raw.items()}
    except (TypeError, ValueError):
        fail(file, f"keys must be class indices, got {describe_value(list(raw))}", "", "names")
    if sorted(by_index) != list(range(len(by_index))):
        keys = sorted(by_index)
        fail(file, f"class indices must be 0..{len(keys) - 1}, got {keys}", "", "names")
    return tuple(by_index[i] for i in range(len(by_index)))


def _from_yaml(
    file: Path, split: str | None, names: Sequence[str] | None, log: ProblemLog
) -> YoloLayout:
    data = load_data_yaml(file)
    root = _dataset_root(file, data, log)
    key = _choose_split(data, split, file)
    entries = data[key] if isinstance(data[key], list) else [data[key]]
    single = len(entries) == 1  # several sources share the dataset root for file names
    images: list[ImageFile] = []
    label_dirs: list[Path] = []
    for entry in entries:
        source = _resolve_entry(root, entry, file, key)
        if source.is_dir():
            images.extend(_scan_folder(source, source if single else root))
            label_dirs.append(_label_dir_for(source))
        else:
            images.extend(_read_image_list(source, source.parent if single else root, root, log))
    yaml_names = names_from_yaml(data, file)
    dirs = [root, root / "labels", *label_dirs]
    return YoloLayout(
        root=root,
        images=tuple(sorted(images, key=lambda f: f.file_name)),
        label_dirs=tuple(label_dirs),
        names=_choose_names(names, yaml_names, file, dirs),
    )


def _dataset_root(file: Path, data: dict[str, Any], log: ProblemLog) -> Path:
    """``path`` from the yaml, relative to the yaml's folder; that folder when absent or stale."""
    raw = data.get("path")
    if raw is None or raw == "":
        return file.parent
    root = _absolute(file.parent / str(raw))
    if root.is_dir():
        return root
    log.warning(
        file.name,
        "path",
        f"folder {root} does not exist; using the folder of {file.name} as the dataset root",
    )
    return file.parent


def _choose_split(data: dict[str, Any], split: str | None, file: Path) -> str:
    present = [k for k in _SPLIT_KEYS if data.get(k)]
    if split is not None:
        if data.get(split):
            return split
        fail(file, f"no split {split!r}; splits listed: {', '.join(present) or 'none'}", "", split)
    if len(present) == 1:
        return present[0]
    listed = ", ".join(present) or "none"
    fail(file, f"choose a split with split=...; splits listed: {listed}")


def _resolve_entry(root: Path, entry: Any, file: Path, key: str) -> Path:
    if not isinstance(entry, str) or not entry:
        fail(file, f"expected a folder or .txt path, got {describe_value(entry)}", "", key)
    path = _absolute(root / entry)
    if not path.exists() and entry.startswith("../"):
        # Roboflow exports write '../train/images' next to a data.yaml inside the dataset.
        path = _absolute(root / entry[3:])
    if not path.exists():
        fail(file, f"{entry!r} resolves to {path}, which does not exist", "", key)
    return path


def _read_image_list(
    listing: Path, image_root: Path, root: Path, log: ProblemLog
) -> list[ImageFile]:
    """Images named one per line; relative paths are relative to the list file's folder."""
    try:
        lines = listing.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        fail(listing, f"cannot read the image list: {exc}")
    found: dict[Path, None] = {}  # insertion-ordered set
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        path = _absolute(listing.parent / text)
        record = f"{_file_name(listing, root)} line {number}"
        if not _is_image(path):
            log.warning(record, "", f"{text!r} is not an image file name; skipped")
        elif not path.is_file():
            log.error(record, "", f"image not found: {path}")
        elif path in found:
            log.warning(record, "", f"{text!r} is listed twice; read once")
        else:
            found[path] = None
    return [ImageFile(p, _file_name(p, image_root), label_path_for(p)) for p in found]


# --------------------------------------------------------------------------- class names


def _choose_names(
    explicit: Sequence[str] | None,
    from_yaml: tuple[str, ...] | None,
    yaml_file: Path | None,
    dirs: Sequence[Path],
) -> tuple[str, ...]:
    """Explicit names, else the yaml's, else the first ``classes.txt`` found in ``dirs``."""
    if explicit is not None:
        return tuple(str(n) for n in explicit)
    if from_yaml is not None:
        return from_yaml
    candidates = list(dict.fromkeys(d / "classes.txt" for d in dirs))
    for candidate in candidates:
        if candidate.is_file():
            return _read_classes(candidate)
    looked = [f"'names' in {yaml_file}"] if yaml_file else []
    looked += [str(c) for c in candidates]
    fail(
        dirs[0],
        "no class names found; pass names=[...], add 'names' to data.yaml or write classes.txt "
        f"(looked for {', '.join(looked)})",
    )


def _read_classes(file: Path) -> tuple[str, ...]:
    """One name per line; trailing blank lines are fine, a blank line inside is an error."""
    try:
        lines = [line.strip() for line in file.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        fail(file, f"cannot read the class names: {exc}")
    while lines and not lines[-1]:
        lines.pop()
    for number, name in enumerate(lines, start=1):
        if not name:
            fail(file, "empty class name; class indices would shift", f"line {number}")
    return tuple(lines)


# --------------------------------------------------------------------------- reading files


def read_image_sizes(
    layout: YoloLayout, log: ProblemLog
) -> tuple[list[ImageFile], list[tuple[int, int]]]:
    """The readable images and their ``(width, height)``; an unreadable one is an error."""
    from PIL import Image

    files: list[ImageFile] = []
    sizes: list[tuple[int, int]] = []
    for image in layout.images:
        try:
            sizes.append(_header_size(image.path))
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            log.error(layout.relative(image.path), "", f"cannot read the image header: {exc}")
            continue
        files.append(image)
    return files, sizes


def _header_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` as displayed, from the header alone (Pillow decodes no pixels)."""
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
        # Pillow decodes a whole PNG to look for a late eXIf chunk; the header ones are in info.
        if image.format == "PNG" and "exif" not in image.info:
            return width, height
        if image.getexif().get(_EXIF_ORIENTATION, 1) in _QUARTER_TURNS:
            return height, width
    return width, height


def warn_orphan_labels(layout: YoloLayout, log: ProblemLog) -> None:
    """A warning for every label file in the label folders that no image points to."""
    expected = {image.label for image in layout.images}
    for folder in layout.label_dirs:
        if not folder.is_dir():
            continue
        for label in sorted(folder.rglob("*.txt")):
            if label in expected or (label.name == "classes.txt" and label.parent == folder):
                continue
            log.warning(layout.relative(label), "", "label file without an image; not read")


# --------------------------------------------------------------------------- writing files


def image_placements(
    file_names: Sequence[str], image_root: Path, image_dir: Path
) -> list[tuple[Path, Path]]:
    """``(source, destination)`` per image; every source must exist before anything is written."""
    pairs = [(image_root / f, image_dir / PurePosixPath(f).name) for f in file_names]
    missing = [str(src) for src, _ in pairs if not src.is_file()]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InvalidInputError(
            f"{len(missing)} image(s) not found: {', '.join(missing[:5])}{more}; "
            "image_root must be the folder that file names are relative to"
        )
    return pairs


def place_images(pairs: Sequence[tuple[Path, Path]], *, copy: bool) -> None:
    """Symlink (or copy) each source to its destination, replacing what was there."""
    for src, dest in pairs:
        if dest.is_symlink() or dest.exists():
            same = dest.exists() and dest.samefile(src)
            if same and not (copy and dest.is_symlink()):
                continue  # already there (or writing in place): never delete the source
            dest.unlink()
        if copy:
            shutil.copy2(src, dest)
        else:
            dest.symlink_to(src.resolve())


def merged_data_yaml(out: Path, split: str, names: Sequence[str]) -> dict[str, Any]:
    """``data.yaml`` content, keeping the other splits of an existing one with the same names."""
    file = out / "data.yaml"
    existing = load_data_yaml(file) if file.is_file() else {}
    old_names = names_from_yaml(existing, file)
    if old_names is not None and old_names != tuple(names):
        raise InvalidInputError(
            f"{file} already names classes {list(old_names)}, not {list(names)}; "
            "write to another folder or delete it"
        )
    data: dict[str, Any] = {"path": "."}
    data.update({k: v for k, v in existing.items() if k not in {"path", "nc", "names"}})
    data[split] = f"images/{split}"
    data["nc"] = len(names)
    data["names"] = dict(enumerate(names))
    return data


def dump_data_yaml(data: dict[str, Any], file: Path) -> None:
    import yaml  # noqa: PLC0415 - only YOLO needs YAML

    file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
