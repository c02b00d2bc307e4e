"""Experiment records as plain data: runs, restarts, metric histories and the vocabularies.

These are what the store returns and what reports read; no database type ever leaves the store.

>>> flatten_params({"optimizer": {"name": "sgd", "lr": 0.01}, "epochs": 300})
{'optimizer.name': 'sgd', 'optimizer.lr': 0.01, 'epochs': 300}
>>> percentage_points(0.5888, 0.5225)
6.63
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from detlab.core.boxes import FloatArray
    from detlab.core.ids import IntArray

__all__ = [
    "MISSING",
    "NOTE_FIELDS",
    "RESTART_REASONS",
    "RUN_STATUSES",
    "Artifact",
    "BestValue",
    "DatasetSnapshot",
    "Delta",
    "EvaluationRecord",
    "MetricHistory",
    "ParamChange",
    "Restart",
    "RunRecord",
    "Submission",
    "delta_between",
    "diff_params",
    "encode_value",
    "flatten_params",
    "note_fields",
    "percentage_points",
]

#: Run statuses. ``crashed``: the process ended without finishing the run (uncaught exception,
#: a signal, or found dead); ``failed``: the run says it failed; ``early_stopped``: training
#: stopped early on purpose (the stop step is kept).
RUN_STATUSES: Final = ("running", "finished", "failed", "crashed", "early_stopped")
RunStatus = Literal["running", "finished", "failed", "crashed", "early_stopped"]

#: Why a run was restarted: the causes the seed logs record by hand.
RESTART_REASONS: Final = (
    "nan",
    "oom",
    "gpu_oom",
    "cuda_error",
    "preempted",
    "disconnect",
    "time_limit",
    "manual",
    "unknown",
)


#: A run's free-text fields, set by ``run.note(...)`` or ``store.note(...)``.
NOTE_FIELDS: Final = ("purpose", "method", "change_kind", "conclusion", "suggestions", "notes")


def note_fields(
    texts: Mapping[str, Any], references: Iterable[str] | None = None, *, caller: str = "note"
) -> dict[str, Any]:
    """The run fields a note sets, checked: only :data:`NOTE_FIELDS` and ``references``."""
    unknown = set(texts) - set(NOTE_FIELDS)
    if unknown:
        from detlab.errors import InvalidInputError  # noqa: PLC0415  (errors is a leaf)

        raise InvalidInputError(
            f"{caller}: unknown field(s) {', '.join(sorted(unknown))}; "
            f"use {', '.join(NOTE_FIELDS)} or references"
        )
    fields: dict[str, Any] = {k: str(v) for k, v in texts.items()}
    if references is not None:
        fields["references"] = [str(r) for r in references]
    return fields


class _Missing:
    """The value of a parameter one run does not have (distinct from a ``None`` value)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become dotted keys; lists, tuples and scalars stay values.

    An empty dict stays as a value (``{}``) so that it is not lost.
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten_params(value, f"{name}."))
        else:
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


def diff_params(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Parameters that differ between two flat parameter dicts: key -> (a's value, b's value).

    A key one side lacks has :data:`MISSING` there; ``1`` and ``1.0`` differ (their types do).

    >>> diff_params({"lr": 0.1, "bs": 32}, {"lr": 0.01, "bs": 32, "amp": True})
    {'amp': (<missing>, True), 'lr': (0.1, 0.01)}
    """
    out: dict[str, tuple[Any, Any]] = {}
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, MISSING), b.get(key, MISSING)
        if va is MISSING or vb is MISSING or va != vb or type(va) is not type(vb):
            out[key] = (va, vb)
    return out


def percentage_points(value: float, baseline: float, *, scale: float | None = None) -> float:
    """``value - baseline`` in percentage points, rounded to 2 decimals as logs write them.

    ``scale=None`` decides from the values: fractions (both within [-1, 1]) are multiplied by
    100, values already in percent are not.
    """
    if scale is None:
        scale = 100.0 if abs(value) <= 1.0 and abs(baseline) <= 1.0 else 1.0
    return round((value - baseline) * scale, 2)


@dataclass(frozen=True)
class Restart:
    """One restart: at ``epoch``, from the checkpoint of ``loaded_epoch``, with a new ``seed``."""

    epoch: int | None
    loaded_epoch: int | None
    seed: int | None
    reason: str
    detail: str
    time: datetime
    segment: int


@dataclass(frozen=True)
class Artifact:
    uri: str
    kind: str
    size: int | None
    sha256: str | None
    time: datetime


@dataclass(frozen=True)
class Submission:
    board: str
    score: float
    time: datetime
    note: str = ""


@dataclass(frozen=True)
class EvaluationRecord:
    """An evaluator's result as plain data (``COCOResult.to_dict()``) at one step."""

    step: int | None
    protocol: str
    prefix: str
    data: dict[str, Any]
    time: datetime
    segment: int


@dataclass(frozen=True)
class DatasetSnapshot:
    """A dataset's statistics at the time runs used it, and how each run used it."""

    name: str
    fingerprint: str
    stats: dict[str, Any]
    time: datetime
    role: str = ""


@dataclass(frozen=True)
class BestValue:
    """A metric's best value and the step it was reached at."""

    key: str
    value: float
    step: int

    def __iter__(self) -> Iterator[float | int]:
        return iter((self.value, self.step))


@dataclass(frozen=True)
class Delta:
    """A run's best value against one labelled baseline's, in percentage points."""

    label: str
    baseline: str
    value: float | None
    baseline_value: float | None
    points: float | None


def delta_between(
    label: str, baseline: str, mine: BestValue | None, theirs: BestValue | None
) -> Delta:
    """A run's best against a baseline's best, in points (``None`` where either is missing)."""
    points = None
    if mine is not None and theirs is not None:
        points = percentage_points(mine.value, theirs.value)
    return Delta(
        label, baseline, mine.value if mine else None, theirs.value if theirs else None, points
    )


@dataclass(frozen=True)
class ParamChange:
    key: str
    a: Any
    b: Any


@dataclass(frozen=True, eq=False)
class MetricHistory:
    """A metric's points: ``steps``, ``values`` (NaN/inf kept), ``segments`` and wall ``times``.

    Unpacks as ``steps, values = history``.
    """

    key: str
    steps: IntArray
    values: FloatArray
    segments: IntArray
    times: FloatArray

    def __iter__(self) -> Iterator[Any]:
        return iter((self.steps, self.values))

    def __len__(self) -> int:
        return int(self.steps.size)

    def latest(self) -> MetricHistory:
        """One point per step, the one logged last (a later segment replaces an earlier one),
        in step order: what ``store.history(...)`` returns by default.

        The points must be in logging order within each step, as ``all_segments=True`` and
        the store's bulk reads give them.
        """
        import numpy as np  # noqa: PLC0415

        if self.steps.size == 0:
            return self
        # Stable sort by step keeps logging order inside a step; the last of each run wins.
        order = np.argsort(self.steps, kind="stable")
        steps = self.steps[order]
        last = np.flatnonzero(np.r_[steps[1:] != steps[:-1], True])
        keep = order[last]
        return MetricHistory(
            self.key, self.steps[keep], self.values[keep], self.segments[keep], self.times[keep]
        )

    def best(self, mode: str = "max") -> BestValue | None:
        """The best finite value of the latest points per step and its earliest step, as
        ``store.best`` gives it; ``None`` when no value is finite."""
        import numpy as np  # noqa: PLC0415

        points = self.latest()
        finite = np.isfinite(points.values)
        if not finite.any():
            return None
        values, steps = points.values[finite], points.steps[finite]
        target = values.max() if mode == "max" else values.min()
        first = int(np.flatnonzero(values == target)[0])
        return BestValue(self.key, float(values[first]), int(steps[first]))

    @classmethod
    def build(
        cls,
        key: str,
        rows: list[tuple[int, float | None, int, int, float]],
    ) -> MetricHistory:
        """From ``(step, value, flag, segment, time)`` rows; flags restore NaN and infinities."""
        import numpy as np  # noqa: PLC0415  (opening a store does not need NumPy)

        steps = np.array([r[0] for r in rows], dtype=np.int64)
        values = np.array([_restore(r[1], r[2]) for r in rows], dtype=np.float64)
        segments = np.array([r[3] for r in rows], dtype=np.int64)
        times = np.array([r[4] for r in rows], dtype=np.float64)
        return cls(key, steps, values, segments, times)


#: How a non-finite metric value is stored: the value column holds NULL and this flag.
FINITE, NAN, POS_INF, NEG_INF = 0, 1, 2, 3


def encode_value(value: float) -> tuple[float | None, int]:
    """``(stored value, flag)``: databases disagree on NaN and infinity, so neither is stored."""
    if math.isfinite(value):
        return value, FINITE
    if math.isnan(value):
        return None, NAN
    return None, POS_INF if value > 0 else NEG_INF


def _restore(value: float | None, flag: int) -> float:
    if flag == FINITE and value is not None:
        return float(value)
    return {NAN: math.nan, POS_INF: math.inf, NEG_INF: -math.inf}.get(flag, math.nan)


@dataclass(frozen=True)
class RunRecord:
    """Everything recorded about a run except its metric points."""

    project: str
    name: str
    status: str
    created: datetime
    started: datetime | None = None
    ended: datetime | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    parent: str | None = None
    baselines: dict[str, str] = field(default_factory=dict)
    purpose: str = ""
    method: str = ""
    change_kind: str = ""
    conclusion: str = ""
    suggestions: str = ""
    notes: str = ""
    references: tuple[str, ...] = ()
    command: str = ""
    cwd: str = ""
    git_commit: str | None = None
    git_dirty: bool | None = None
    host: str = ""
    python_version: str = ""
    packages: dict[str, str] = field(default_factory=dict)
    early_stop_step: int | None = None
    error: str = ""
    segment: int = 0
    best: BestValue | None = None

    @property
    def duration_s(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return (self.ended - self.started).total_seconds()
