"""The twelve summary numbers and lines, as pycocotools' ``summarize()`` computes and prints them.

Each number is ``np.mean`` of the cells of ``precision`` (or ``recall``) that are not -1, picked
with pycocotools' own indexing (``s[:, :, :, aind, mind]``), so stats are bit-identical.

Which ``maxDets`` each row uses is a pycocotools quirk this module reproduces in ``compat=
"pycocotools"``: the first AP row asks for the literal ``maxDets=100`` (so it is -1 when 100 is
not among ``max_dets``), the other AP rows and the last four AR rows use ``maxDets[2]``, and the
first AR rows ``maxDets[0]`` and ``maxDets[1]``, whatever the list holds. With fewer than three
``max_dets`` (where pycocotools raises ``IndexError``) the last one stands in. In ``compat=
"fixed"`` every AP row and the AR rows from the third on use the largest ``max_dets``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detlab.core.boxes import FloatArray
from detlab.errors import EvaluationError
from detlab.metrics.params import COCOParams

__all__ = [
    "SummaryRow",
    "format_row",
    "mean_of_defined",
    "stat_names",
    "summarize",
    "summary_cells",
    "summary_rows",
    "summary_value",
]

_LINE = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"


@dataclass(frozen=True)
class SummaryRow:
    """One line of the summary: AP or AR, at one IoU (None: all), area label and maxDets."""

    ap: bool
    iou: float | None
    area: str
    max_dets: int


def summary_rows(params: COCOParams) -> tuple[SummaryRow, ...]:
    """The twelve rows of ``_summarizeDets`` with the ``maxDets`` each one asks for."""
    md = params.max_dets

    def at(i: int) -> int:
        return md[min(i, len(md) - 1)]

    fixed = params.compat == "fixed"
    ap_first = md[-1] if fixed else 100
    ap_rest = md[-1] if fixed else at(2)
    ar_rest = md[-1] if fixed else at(2)
    return (
        SummaryRow(True, None, "all", ap_first),
        SummaryRow(True, 0.5, "all", ap_rest),
        SummaryRow(True, 0.75, "all", ap_rest),
        SummaryRow(True, None, "small", ap_rest),
        SummaryRow(True, None, "medium", ap_rest),
        SummaryRow(True, None, "large", ap_rest),
        SummaryRow(False, None, "all", at(0)),
        SummaryRow(False, None, "all", at(1)),
        SummaryRow(False, None, "all", ar_rest),
        SummaryRow(False, None, "small", ar_rest),
        SummaryRow(False, None, "medium", ar_rest),
        SummaryRow(False, None, "large", ar_rest),
    )


_AREA_SUFFIX = {"all": "", "small": "s", "medium": "m", "large": "l"}


def stat_names(params: COCOParams) -> tuple[str, ...]:
    """Names of the twelve stats as detection logs write them.

    With the default parameters: ``AP AP50 AP75 APs APm APl AR1 AR10 AR100 ARs ARm ARl``
    (detectron2's names). An AP row at one IoU is ``AP`` and the IoU in hundredths; an AR row
    over all areas carries its ``maxDets``; other area labels are appended after ``_``. A name
    that would repeat (fewer than three ``max_dets``) gets ``_2``, ``_3``.
    """
    names: list[str] = []
    for row in summary_rows(params):
        name = "AP" if row.ap else "AR"
        if row.iou is not None:
            name += f"{round(row.iou * 100):d}"
        suffix = _AREA_SUFFIX.get(row.area, f"_{row.area}")
        if not row.ap and row.area == "all":
            name += str(row.max_dets)
        name += suffix
        repeats = sum(1 for n in names if n == name or n.startswith(f"{name}_"))
        names.append(f"{name}_{repeats + 1}" if repeats else name)
    return tuple(names)


def summary_cells(
    precision: FloatArray, recall: FloatArray, params: COCOParams, row: SummaryRow
) -> FloatArray:
    """The cells ``_summarize`` reads for ``row``: ``(T', R, K, L)`` for AP, ``(T', K, L)`` for AR.

    ``T'`` are the thresholds the row asks for, ``L`` the (area, maxDets) pairs it pairs up.
    """
    aind = [i for i, label in enumerate(params.area_labels) if label == row.area]
    mind = [i for i, m in enumerate(params.max_dets) if m == row.max_dets]
    s = precision if row.ap else recall
    if row.iou is not None:
        s = s[np.where(row.iou == params.iou_array)[0]]
    try:
        cells: FloatArray = s[:, :, :, aind, mind] if row.ap else s[:, :, aind, mind]
    except IndexError as exc:
        raise EvaluationError(
            f"cannot summarise {row}: area labels {params.area_labels} and max_dets "
            f"{params.max_dets} repeat values in a way pycocotools' indexing cannot pair"
        ) from exc
    return cells


def mean_of_defined(cells: FloatArray) -> float:
    """``np.mean`` of the cells above -1 (C order, as pycocotools), or -1 when there is none."""
    picked = cells[cells > -1]
    # np.mean's own steps (a pairwise add.reduce, then one division), without its overhead.
    return -1.0 if picked.size == 0 else float(np.add.reduce(picked) / picked.size)


def summary_value(
    precision: FloatArray, recall: FloatArray, params: COCOParams, row: SummaryRow
) -> float:
    """``_summarize``'s number for one row: the mean of the picked cells above -1, else -1."""
    return mean_of_defined(summary_cells(precision, recall, params, row))


def format_row(params: COCOParams, row: SummaryRow, value: float) -> str:
    """The line pycocotools prints for ``row``."""
    title = "Average Precision" if row.ap else "Average Recall"
    kind = "(AP)" if row.ap else "(AR)"
    thresholds = params.iou_thresholds
    iou = f"{thresholds[0]:0.2f}:{thresholds[-1]:0.2f}" if row.iou is None else f"{row.iou:0.2f}"
    return _LINE.format(title, kind, iou, row.area, row.max_dets, value)


def summarize(
    precision: FloatArray, recall: FloatArray, params: COCOParams
) -> tuple[FloatArray, tuple[str, ...]]:
    """The ``(12,)`` stats array and the twelve printed lines."""
    rows = summary_rows(params)
    stats = np.zeros((len(rows),))
    lines = []
    for i, row in enumerate(rows):
        stats[i] = summary_value(precision, recall, params, row)
        lines.append(format_row(params, row, stats[i]))
    return stats, tuple(lines)
