"""How numbers, dates and values are written in a report, the way the seed logs write them.

>>> format_metric("val/AP50", 0.58884)
'58.88%'
>>> format_metric("train/loss", 1.23456)
'1.235'
>>> format_points(6.63)
'+6.63'
>>> format_duration(3 * 3600 + 12 * 60)
'3h 12m'
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

import orjson

from detlab.core.runs import MISSING

__all__ = [
    "DASH",
    "anchor_for",
    "format_date",
    "format_duration",
    "format_metric",
    "format_number",
    "format_points",
    "format_value",
    "is_fraction_metric",
]

DASH = "-"
_FRACTION_WORDS = re.compile(r"recall|precision|acc|iou|f1", re.IGNORECASE)


def is_fraction_metric(key: str) -> bool:
    """AP, AR, accuracy and the like, which logs write as percentages when in [0, 1]."""
    last = key.rsplit("/", 1)[-1]
    return "AP" in last or "AR" in last or bool(_FRACTION_WORDS.search(last))


def format_metric(key: str, value: float | None) -> str:
    """``58.88%`` for fractions of AP-like metrics, 4 significant digits otherwise."""
    if value is None:
        return DASH
    if not math.isfinite(value):
        return str(value)
    if is_fraction_metric(key) and 0.0 <= value <= 1.0 + 1e-9:  # 11-point AP: 1 + 2e-16
        return f"{100 * value:.2f}%"
    return format_number(value)


def format_number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return DASH
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{digits}g}"


def format_points(points: float | None) -> str:
    """A delta in percentage points with its sign, as ``+6.63`` / ``-33.23``."""
    if points is None:
        return DASH
    return f"{points:+.2f}"


def format_date(when: datetime | None) -> str:
    return DASH if when is None else when.strftime("%Y-%m-%d %H:%M")


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return DASH
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{seconds:.0f}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def format_value(value: Any) -> str:
    """A parameter's value as Python would write it (``True``, ``0.01``, ``[8, 11]``)."""
    if value is MISSING:
        return "(unset)"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    try:
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError:
        return repr(value)


def anchor_for(name: str) -> str:
    """A stable HTML id / Markdown anchor for a run or section name."""
    slug = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff\uac00-\ud7af]+", "-", name).strip("-").lower()
    return slug or "section"
