"""Collecting every problem in an input file, each located by file, record and field.

Readers report into a :class:`ProblemLog` instead of stopping at the first problem, so that
``detlab validate`` can list everything while ``read_*`` functions raise one
:class:`~detlab.errors.AnnotationParseError` that carries the whole list.

>>> log = ProblemLog("train.json")
>>> log.error("annotations[0] (id=3)", "bbox", "width is negative (-2.0)")
>>> print(log.problems[0])
error: train.json: annotations[0] (id=3), field 'bbox': width is negative (-2.0)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from detlab.errors import AnnotationParseError, DetlabWarning, Problem

__all__ = ["ProblemLog", "ProblemSet", "describe_value", "is_integer_value", "is_real_number"]

#: Stop collecting after this many problems: a file with a systematic fault repeats one
#: message per record, and a million identical lines help nobody.
MAX_PROBLEMS = 1000


class ProblemSet:
    """Errors and warnings out of a ``problems`` list; shared by logs and reports."""

    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def has_errors(self) -> bool:
        return any(p.is_error for p in self.problems)


class ProblemLog(ProblemSet):
    """Problems found in one file (or folder), in the order found."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.truncated = 0

    def _add(self, severity: str, record: str, field: str, message: str) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            self.truncated += 1
            return
        self.problems.append(Problem(severity, self.file, record, field, message))

    def error(self, record: str, field: str, message: str) -> None:
        self._add("error", record, field, message)

    def warning(self, record: str, field: str, message: str) -> None:
        self._add("warning", record, field, message)

    def raise_if_errors(self) -> None:
        """Raise :class:`AnnotationParseError` carrying every problem when any is an error."""
        if self.has_errors:
            raise AnnotationParseError.from_problems(self.problems)

    def conclude(self, *, warn: bool) -> None:
        """End of a read: raise when there are errors, else issue the warnings if ``warn``."""
        self.raise_if_errors()
        if warn:
            self.emit_warnings()

    def emit_warnings(self, *, limit: int = 5) -> None:
        """Issue the first ``limit`` warnings as :class:`DetlabWarning` and summarise the rest."""
        found = self.warnings
        for problem in found[:limit]:
            warnings.warn(str(problem), DetlabWarning, stacklevel=3)
        if len(found) > limit:
            warnings.warn(
                f"{self.file}: {len(found) - limit} more warning(s); "
                "run 'detlab validate' to list them",
                DetlabWarning,
                stacklevel=3,
            )


def is_real_number(value: Any) -> bool:
    """True for ints and floats (not bools, not strings), finite or not."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_integer_value(value: Any) -> bool:
    """True for ints and integral floats such as ``640.0`` (not bools)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def describe_value(value: Any, limit: int = 60) -> str:
    """A short printable form of an offending value for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
