"""COCO evaluation results: pycocotools' arrays, the summary and per-class numbers.

A result travels to the run store as plain data: :meth:`COCOResult.to_dict` gives lists, ints,
floats and strings only (JSON-able), and :meth:`COCOResult.from_dict` rebuilds an equal result,
bit for bit (a Python float survives JSON exactly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.core.ids import IntArray
from detlab.metrics.params import COCOParams
from detlab.metrics.summary import (
    SummaryRow,
    format_row,
    mean_of_defined,
    stat_names,
    summary_cells,
    summary_rows,
)

__all__ = ["COCOResult", "ClassMetrics", "class_metrics", "stored_summary"]

_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ClassMetrics:
    """One category's numbers, each computed like the matching summary row (-1: undefined).

    ``num_gt`` counts the category's non-crowd ground truth in the evaluated images,
    ``num_detections`` its detections there (before the per-image ``max_dets`` cut).
    """

    category_id: int
    name: str
    ap: float
    ap50: float
    ap75: float
    ap_small: float
    ap_medium: float
    ap_large: float
    ar100: float
    num_gt: int
    num_detections: int


def class_metrics(
    precision: FloatArray,
    recall: FloatArray,
    params: COCOParams,
    categories: Sequence[tuple[int, str]],
    counts: tuple[IntArray, IntArray],
) -> tuple[ClassMetrics, ...]:
    """Numbers for every evaluated category (``categories[k]`` is ``(id, name)`` of ``K[k]``).

    Each value is the mean of the category's cells in the summary row's selection, taken in
    the order ``summary_value`` takes them for a one-category slice, so the bits agree.
    """
    rows = summary_rows(params)
    chosen = (*rows[:6], SummaryRow(False, None, "all", rows[8].max_dets))
    # Category first and contiguous: cells[k] holds c[..., k, :] in the same (C) order.
    cells = [
        np.ascontiguousarray(np.moveaxis(summary_cells(precision, recall, params, row), -2, 0))
        for row in chosen
    ]
    out = []
    for k, (category_id, name) in enumerate(categories):
        values = [mean_of_defined(c[k]) for c in cells]
        out.append(
            ClassMetrics(
                category_id=category_id,
                name=name,
                ap=values[0],
                ap50=values[1],
                ap75=values[2],
                ap_small=values[3],
                ap_medium=values[4],
                ap_large=values[5],
                ar100=values[6],
                num_gt=int(counts[0][k]),
                num_detections=int(counts[1][k]),
            )
        )
    return tuple(out)


def _array_to_data(array: FloatArray) -> dict[str, Any]:
    return {"shape": list(array.shape), "data": array.reshape(-1).tolist()}


def _array_from_data(data: Mapping[str, Any]) -> FloatArray:
    return np.array(data["data"], dtype=np.float64).reshape(tuple(data["shape"]))


@dataclass(frozen=True, eq=False)
class COCOResult:
    """The outcome of a COCO evaluation.

    ``precision`` and ``scores`` are ``[T, R, K, A, M]`` and ``recall`` ``[T, K, A, M]``, the
    arrays of pycocotools' ``COCOeval.eval``; ``stats`` the twelve summary numbers; ``K`` runs
    over ``category_ids`` (sorted), ``A`` over ``params.area_ranges``, ``M`` over
    ``params.max_dets``.
    """

    params: COCOParams
    precision: FloatArray
    recall: FloatArray
    scores: FloatArray
    stats: FloatArray
    category_ids: tuple[int, ...]
    per_class: tuple[ClassMetrics, ...]
    num_images: int

    @property
    def map(self) -> float:
        """AP at IoU .50:.95 (``stats[0]``)."""
        return float(self.stats[0])

    def metrics(self) -> dict[str, float]:
        """The twelve stats by name (``AP``, ``AP50``, ..., ``ARl``; see :func:`stat_names`).

        These are the keys :meth:`detlab.sdk.Run.log_evaluation` logs, after a prefix.
        """
        names = stat_names(self.params)
        return {name: float(v) for name, v in zip(names, self.stats.tolist(), strict=True)}

    def summary_lines(self) -> tuple[str, ...]:
        return tuple(
            format_row(self.params, row, float(value))
            for row, value in zip(summary_rows(self.params), self.stats, strict=True)
        )

    def summary(self) -> str:
        """The twelve lines exactly as pycocotools' ``summarize()`` prints them."""
        return "\n".join(self.summary_lines())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data; :meth:`from_dict` rebuilds an equal result."""
        return {
            "format": "detlab.coco_result",
            "version": _FORMAT_VERSION,
            "params": self.params.to_dict(),
            "precision": _array_to_data(self.precision),
            "recall": _array_to_data(self.recall),
            "scores": _array_to_data(self.scores),
            "stats": self.stats.tolist(),
            "category_ids": list(self.category_ids),
            "per_class": [asdict(c) for c in self.per_class],
            "num_images": self.num_images,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> COCOResult:
        return cls(
            params=COCOParams.from_dict(data["params"]),
            precision=_array_from_data(data["precision"]),
            recall=_array_from_data(data["recall"]),
            scores=_array_from_data(data["scores"]),
            stats=np.array(data["stats"], dtype=np.float64),
            category_ids=tuple(int(c) for c in data["category_ids"]),
            per_class=tuple(ClassMetrics(**c) for c in data["per_class"]),
            num_images=int(data["num_images"]),
        )


def stored_summary(data: Mapping[str, Any]) -> tuple[dict[str, float], tuple[str, ...]]:
    """The named stats and the twelve summary lines of a stored ``COCOResult.to_dict()``,
    without rebuilding its precision arrays (what a report of many runs needs)."""
    params = COCOParams.from_dict(data["params"])
    stats = [float(v) for v in data["stats"]]
    names = stat_names(params)
    lines = tuple(
        format_row(params, row, value)
        for row, value in zip(summary_rows(params), stats, strict=True)
    )
    return dict(zip(names, stats, strict=True)), lines
