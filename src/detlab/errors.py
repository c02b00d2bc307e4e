"""Every exception detlab raises, under one root.

::

    DetlabError
    ├── ConfigError                      a setting or option has a value detlab cannot use
    ├── InvalidInputError (ValueError)   user data is malformed; carries the problems found
    │   ├── AnnotationParseError         a dataset or prediction file cannot be read as its format
    │   └── BoxFormatError               an unknown box format or a wrongly shaped box array
    ├── StoreError                       the run store failed
    │   ├── NotFoundError                no such project, run or record
    │   ├── AlreadyExistsError           a name that must be unique is taken
    │   ├── SchemaVersionError           the store's schema is older or newer than this detlab
    │   └── StoreUnavailableError        the store cannot be reached or opened
    ├── EvaluationError                  ground truth and predictions cannot be evaluated together
    ├── RunStateError                    the operation does not fit the run's state
    └── MissingDependencyError (ImportError)   an optional extra is not installed

    DetlabWarning (UserWarning)          data that is accepted but probably not what was meant

A message says what failed, the offending value, where (file, record, field) and how to fix it.
This module imports nothing from detlab, so every layer may use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "AlreadyExistsError",
    "AnnotationParseError",
    "BoxFormatError",
    "ConfigError",
    "DetlabError",
    "DetlabWarning",
    "EvaluationError",
    "InvalidInputError",
    "MissingDependencyError",
    "NotFoundError",
    "Problem",
    "RunStateError",
    "SchemaVersionError",
    "StoreError",
    "StoreUnavailableError",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located precisely.

    ``record`` names the record as a reader would look for it, for example
    ``"annotations[3] (id=17, image_id=5)"``; ``field`` is the key inside that record.
    """

    severity: str  # "error" or "warning"
    file: str
    record: str
    field: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.record, _field_label(self.field)) if part)
        location = f"{self.file}: {where}" if where else self.file
        return f"{self.severity}: {location}: {self.message}"


def _field_label(field: str) -> str:
    return f"field '{field}'" if field else ""


class DetlabError(Exception):
    """Root of every error detlab raises on purpose."""


class ConfigError(DetlabError):
    """A setting (argument, DETLAB_* variable or default) has a value detlab cannot use."""


class InvalidInputError(DetlabError, ValueError):
    """User data is malformed. ``problems`` lists everything found, errors first."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[Problem, ...] = tuple(problems)

    @classmethod
    def from_problems(cls, problems: Iterable[Problem]) -> InvalidInputError:
        """Build the error from a list of problems; the message is the first error and a count."""
        ordered = sorted(problems, key=lambda p: not p.is_error)
        errors = [p for p in ordered if p.is_error]
        head = str(errors[0] if errors else ordered[0]) if ordered else "invalid input"
        if len(errors) > 1:
            head += f" (and {len(errors) - 1} more error(s); run 'detlab validate' to list them)"
        return cls(head, ordered)


class AnnotationParseError(InvalidInputError):
    """A dataset or prediction file cannot be read as the format it claims to be."""


class BoxFormatError(InvalidInputError):
    """An unknown box format name, or a box array that is not shaped ``(N, 4)``."""


class StoreError(DetlabError):
    """The run store failed."""


class NotFoundError(StoreError, LookupError):
    """No such project, run or record."""


class AlreadyExistsError(StoreError):
    """A name that must be unique is already taken."""


class SchemaVersionError(StoreError):
    """The store's schema version does not match this detlab; run ``detlab db upgrade``."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached or opened."""


class EvaluationError(DetlabError):
    """Ground truth and predictions cannot be evaluated together."""


class RunStateError(DetlabError):
    """The operation does not fit the run's current state."""


class MissingDependencyError(DetlabError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class DetlabWarning(UserWarning):
    """Input that detlab accepts but that is probably not what was meant."""
