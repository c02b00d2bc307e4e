"""Lists of images, one a line, matched against a dataset's images.

Split files come in several spellings: Pascal VOC's ``ImageSets/Main/train.txt`` holds stems
(``000005``), YOLO's ``train.txt`` holds image paths (``./images/train/a.jpg`` or absolute
ones), and hand-made lists hold file names or image ids. :func:`match_image_list` accepts all of
them. An entry is matched, in this order, by

1. the longest tail of its path that ends an image's ``file_name`` (so ``/data/images/a.jpg``
   finds ``images/a.jpg`` and ``a.jpg``);
2. the same without the extension, against file names without theirs (and VOC's kept stems);
3. an image id, when the entry is an integer.

Blank lines and lines starting with ``#`` are skipped. An entry that matches no image, or that
matches several and says too little to choose, is an error naming the file and the line.

>>> from detlab.data.synthetic import make_sequential_dataset
>>> ds = make_sequential_dataset(num_sequences=2, frames_per_sequence=3)
>>> match_image_list(ds, ["seq01/seq01_0000.jpg", "seq00_0002", "2"]).tolist()
[2, 3, 4]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from detlab.core.dataset import Dataset
from detlab.core.ids import IntArray
from detlab.errors import InvalidInputError, Problem

__all__ = ["ImageListEntry", "match_image_list", "read_image_list"]

#: Problems listed in one error before the rest are only counted.
MAX_LISTED = 10

_AMBIGUOUS = -1

#: ``(line number, text)``; line numbers start at 1.
ImageListEntry = tuple[int, str]


def read_image_list(path: str | Path) -> list[ImageListEntry]:
    """The entries of a list file with their line numbers, stripped, without blanks and comments."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read the image list: {exc}") from exc
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _parts(name: str) -> tuple[str, ...]:
    return tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in {"/", "."})


def _tails(parts: tuple[str, ...]) -> Iterable[str]:
    """``a/b/c.jpg``, ``b/c.jpg``, ``c.jpg``: longest first."""
    return ("/".join(parts[i:]) for i in range(len(parts)))


def _without_suffix(parts: tuple[str, ...]) -> tuple[str, ...]:
    return (*parts[:-1], PurePosixPath(parts[-1]).stem) if parts else parts


def _add(table: dict[str, int], key: str, position: int) -> None:
    if table.setdefault(key, position) != position:
        table[key] = _AMBIGUOUS


def _name_tables(ds: Dataset) -> tuple[dict[str, int], dict[str, int]]:
    """Every tail of every file name, with and without its extension -> image position."""
    names: dict[str, int] = {}
    stems: dict[str, int] = {}
    extras = ds.images.extra or (None,) * ds.num_images
    for position, (file_name, extra) in enumerate(zip(ds.images.file_names, extras, strict=True)):
        parts = _parts(file_name)
        for tail in _tails(parts):
            _add(names, tail, position)
        for tail in _tails(_without_suffix(parts)):
            _add(stems, tail, position)
        kept_stem = (extra or {}).get("stem")
        if kept_stem:
            _add(stems, str(kept_stem), position)
    return names, stems


def _lookup(entry: str, names: dict[str, int], stems: dict[str, int]) -> int | None:
    """The entry's image position, ``_AMBIGUOUS``, or None when nothing matches its name."""
    parts = _parts(entry)
    for table, keys in ((names, parts), (stems, _without_suffix(parts))):
        for tail in _tails(keys):
            if tail in table:
                return table[tail]
    return None


def _by_id(ds: Dataset, entry: str) -> int | None:
    try:
        image_id = int(entry)
    except ValueError:
        return None
    position = int(ds.image_index.positions(np.array([image_id]))[0])
    return position if position >= 0 else None


def match_image_list(
    ds: Dataset, entries: Sequence[ImageListEntry | str], *, source: str = "image list"
) -> IntArray:
    """The ids of the images the entries name, ascending and without repeats.

    ``entries`` are ``(line number, text)`` pairs from :func:`read_image_list` or plain strings.
    Raises :class:`~detlab.errors.InvalidInputError` listing every entry that matches no image
    or several.
    """
    names, stems = _name_tables(ds)
    positions: list[int] = []
    problems: list[Problem] = []
    for line, entry in _numbered(entries):
        position = _lookup(entry, names, stems)
        if position is None:
            position = _by_id(ds, entry)
        if position is None or position == _AMBIGUOUS:
            problems.append(_problem(ds, source, line, entry, position))
        else:
            positions.append(position)
    if problems:
        raise _error(problems)
    return np.unique(ds.images.ids[np.asarray(positions, dtype=np.int64)])


def _numbered(entries: Sequence[ImageListEntry | str]) -> list[ImageListEntry]:
    """Plain strings are numbered by their place in the sequence, from 1."""
    return [(i, e) if isinstance(e, str) else e for i, e in enumerate(entries, start=1)]


def _problem(ds: Dataset, source: str, line: int, entry: str, position: int | None) -> Problem:
    dataset = ds.source or "the dataset"
    if position is None:
        why = f"'{entry}' matches no image file name, stem or id in {dataset}"
    else:
        why = f"'{entry}' matches several images in {dataset}; give more of its path"
    return Problem("error", source, f"line {line}", "", why)


def _error(problems: list[Problem]) -> InvalidInputError:
    shown = "\n".join(str(p).removeprefix("error: ") for p in problems[:MAX_LISTED])
    more = len(problems) - MAX_LISTED
    tail = f"\n... and {more} more unmatched line(s)" if more > 0 else ""
    return InvalidInputError(f"{shown}{tail}", problems)
