"""Validation: every problem in a dataset (and optionally a predictions file), not just the first.

>>> from detlab.data.synthetic import make_sequential_dataset
>>> report = validate_dataset(make_sequential_dataset(num_sequences=1, frames_per_sequence=3))
>>> report.ok
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from detlab.core.dataset import Dataset
from detlab.core.predictions import Predictions
from detlab.data.checks import check_annotation_columns, check_image_columns
from detlab.data.formats.coco_records import record_namer
from detlab.data.formats.coco_results import parse_coco_results
from detlab.data.formats.jsonio import load_json
from detlab.data.io import DatasetFormat, detect_format, read_dataset
from detlab.data.problems import ProblemLog, ProblemSet
from detlab.errors import InvalidInputError, Problem

__all__ = ["ValidationReport", "validate", "validate_dataset"]


@dataclass
class ValidationReport(ProblemSet):
    """What validation found. ``dataset`` is None when the file could not be read at all."""

    path: str
    format: str
    problems: list[Problem] = field(default_factory=list)
    dataset: Dataset | None = None
    predictions: Predictions | None = None

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors


def validate(
    path: str | Path,
    *,
    predictions: str | Path | None = None,
    fmt: DatasetFormat | None = None,
    split: str | None = None,
) -> ValidationReport:
    """Check a dataset on disk and, optionally, a COCO results file against it."""
    report = ValidationReport(path=str(path), format=fmt or "")
    log = ProblemLog(str(path))
    try:
        report.format = fmt or detect_format(path)
        dataset = read_dataset(path, fmt=fmt, split=split, log=log)
    except InvalidInputError as exc:
        report.problems.extend(exc.problems or [Problem("error", str(path), "", "", str(exc))])
        dataset = None
    report.problems.extend(log.problems)
    if dataset is not None and not log.has_errors:
        report.dataset = dataset
    if predictions is not None:
        report.predictions = _validate_predictions(report, Path(predictions))
    return report


def _validate_predictions(report: ValidationReport, path: Path) -> Predictions | None:
    log = ProblemLog(str(path))
    try:
        preds = parse_coco_results(load_json(path), source=str(path), gt=report.dataset, log=log)
    except InvalidInputError as exc:
        report.problems.extend(exc.problems)
        return None
    report.problems.extend(log.problems)
    return None if log.has_errors else preds


def validate_dataset(ds: Dataset) -> ValidationReport:
    """Check a dataset already in memory (built in code or changed since it was read)."""
    log = ProblemLog(ds.source or "<dataset>")
    images = ds.images
    check_image_columns(
        log,
        images.ids,
        images.widths.astype(float),
        images.heights.astype(float),
        record_namer("images", images.ids),
    )
    anns = ds.annotations
    image_ids = ds.image_ids_of_annotations()
    check_annotation_columns(
        log,
        image_ids=image_ids,
        category_ids=anns.category_ids,
        boxes=anns.boxes,
        images=ds.image_index,
        categories=ds.category_index,
        widths=images.widths.astype(float),
        heights=images.heights.astype(float),
        name=record_namer("annotations", anns.ids, image_ids),
        ids=anns.ids,
    )
    return ValidationReport(ds.source, "memory", list(log.problems), ds)
