"""Reading log files line by line, keeping what is readable and naming what is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from detlab.errors import InvalidInputError, Problem

__all__ = ["bad_line", "nothing_readable", "read_json_lines", "read_text"]


def bad_line(path: Path, number: int, message: str) -> Problem:
    """A warning about one line of ``path`` (1-based ``number``)."""
    return Problem("warning", str(path), f"line {number}", "", message)


def read_text(path: Path) -> str:
    """The file's text; undecodable bytes are replaced, not fatal (logs get cut mid-character)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read the file ({exc.strerror})") from exc


def read_json_lines(path: Path, problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    """Each JSON object line of ``path`` as ``(line number, record)``.

    Python's ``json`` reads the bare ``NaN`` and ``Infinity`` that detectron2 and mmengine
    write. A line that is not a JSON object (truncated by a crash, corrupted) is skipped and
    reported in ``problems`` by its number.
    """
    records: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(bad_line(path, number, f"not valid JSON ({exc.msg}); line skipped"))
            continue
        if not isinstance(record, dict):
            kind = type(record).__name__
            problems.append(bad_line(path, number, f"a JSON {kind}, not an object; skipped"))
            continue
        records.append((number, record))
    return records


def nothing_readable(path: Path, what: str) -> InvalidInputError:
    """The error for a file in which no line could be read."""
    return InvalidInputError(f"{path}: nothing readable as {what} in this file")
