"""The run store's tables (SQLAlchemy 2 declarative models); rows become ``core`` entities here.

Naming: every model is ``*Row`` with ``to_entity()`` where it maps to one entity. Parents and
baselines are kept by run name within the project (not as foreign keys): the seed logs name
them that way, imports may bring a run before its baseline, and removing a baseline must not
remove or rewrite the runs compared with it.

Metric values: SQLite cannot store NaN (it becomes NULL) and databases differ on infinities, so
``value`` holds finite values only and ``flag`` says which non-finite value was logged
(:func:`detlab.core.runs.encode_value`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from detlab.core.runs import (
    Artifact,
    DatasetSnapshot,
    EvaluationRecord,
    Restart,
    Submission,
)

__all__ = [
    "ArtifactRow",
    "Base",
    "DatasetRow",
    "EvaluationRow",
    "MetricBlockRow",
    "MetricKeyRow",
    "MetricRow",
    "ParamRow",
    "ProjectRow",
    "RestartRow",
    "RunBaselineRow",
    "RunDatasetRow",
    "RunRow",
    "RunTagRow",
    "SubmissionRow",
    "as_utc",
]

#: Constraint names fixed by convention, so migrations and models name them alike everywhere.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: A 64-bit id that is still SQLite's fast rowid alias (``INTEGER PRIMARY KEY``).
BigId = BigInteger().with_variant(Integer(), "sqlite")


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time detlab writes is UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _utc(value: datetime | None) -> datetime:
    out = as_utc(value)
    return out if out is not None else datetime.fromtimestamp(0, timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012  (SQLAlchemy's hook)
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class ProjectRow(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created: Mapped[datetime]


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_runs_project_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), index=True)
    created: Mapped[datetime]
    started: Mapped[datetime | None]
    ended: Mapped[datetime | None]
    heartbeat: Mapped[datetime | None]
    parent: Mapped[str | None] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(Text, default="")
    change_kind: Mapped[str] = mapped_column(String(255), default="")
    conclusion: Mapped[str] = mapped_column(Text, default="")
    suggestions: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[list[Any]] = mapped_column(default=list)
    command: Mapped[str] = mapped_column(Text, default="")
    cwd: Mapped[str] = mapped_column(Text, default="")
    git_commit: Mapped[str | None] = mapped_column(String(64))
    git_dirty: Mapped[bool | None] = mapped_column(Boolean)
    host: Mapped[str] = mapped_column(String(255), default="")
    python_version: Mapped[str] = mapped_column(String(64), default="")
    packages: Mapped[dict[str, Any]] = mapped_column(default=dict)
    early_stop_step: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(Text, default="")
    segment: Mapped[int] = mapped_column(Integer, default=0)


class RunTagRow(Base):
    __tablename__ = "run_tags"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class RunBaselineRow(Base):
    __tablename__ = "run_baselines"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(255), primary_key=True)
    baseline: Mapped[str] = mapped_column(String(255))


class ParamRow(Base):
    """One flattened parameter: its JSON value, its type, and a number for numeric filters."""

    __tablename__ = "params"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    number: Mapped[float | None] = mapped_column(Double)


class MetricKeyRow(Base):
    """A metric name, stored once: points carry its integer id."""

    __tablename__ = "metric_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class MetricRow(Base):
    """One point. The table has no secondary index and no foreign key, so that inserting a
    batch only appends (ids are given by the writer, consecutive within a batch); points are
    found through :class:`MetricBlockRow`. ``id`` order is logging order within a key."""

    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    run_id: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Double)
    flag: Mapped[int] = mapped_column(SmallInteger, default=0)
    segment: Mapped[int] = mapped_column(Integer, default=0)
    time: Mapped[float] = mapped_column(Double)


class MetricBlockRow(Base):
    """Where a run's points of one key are: a range of metric ids (``first_id`` to
    ``last_id``) holding them, among other points perhaps (queries filter by run and key).
    One per batch and key, extended while a run's batches follow each other."""

    __tablename__ = "metric_blocks"
    __table_args__ = (Index("ix_metric_blocks_run_id_last_id", "run_id", "last_id"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("metric_keys.id"), primary_key=True)
    first_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger)


class EvaluationRow(Base):
    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    step: Mapped[int | None] = mapped_column(BigInteger)
    protocol: Mapped[str] = mapped_column(String(32))
    prefix: Mapped[str] = mapped_column(String(255), default="")
    data: Mapped[dict[str, Any]]
    time: Mapped[datetime]
    segment: Mapped[int] = mapped_column(Integer, default=0)

    def to_entity(self) -> EvaluationRecord:
        return EvaluationRecord(
            self.step, self.protocol, self.prefix, self.data, _utc(self.time), self.segment
        )


class RestartRow(Base):
    __tablename__ = "restarts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    epoch: Mapped[int | None] = mapped_column(BigInteger)
    loaded_epoch: Mapped[int | None] = mapped_column(BigInteger)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    time: Mapped[datetime]
    segment: Mapped[int] = mapped_column(Integer)

    def to_entity(self) -> Restart:
        return Restart(
            epoch=self.epoch,
            loaded_epoch=self.loaded_epoch,
            seed=self.seed,
            reason=self.reason,
            detail=self.detail,
            time=_utc(self.time),
            segment=self.segment,
        )


class ArtifactRow(Base):
    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    uri: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    time: Mapped[datetime]

    def to_entity(self) -> Artifact:
        return Artifact(self.uri, self.kind, self.size, self.sha256, _utc(self.time))


class SubmissionRow(Base):
    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    board: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Double)
    note: Mapped[str] = mapped_column(Text, default="")
    time: Mapped[datetime]

    def to_entity(self) -> Submission:
        return Submission(self.board, self.score, _utc(self.time), self.note)


class DatasetRow(Base):
    __tablename__ = "datasets"
    __table_args__ = (
        UniqueConstraint("project_id", "fingerprint", name="uq_datasets_project_id_fingerprint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    stats: Mapped[dict[str, Any]]
    time: Mapped[datetime]

    def to_entity(self, role: str = "") -> DatasetSnapshot:
        return DatasetSnapshot(self.name, self.fingerprint, self.stats, _utc(self.time), role)


class RunDatasetRow(Base):
    __tablename__ = "run_datasets"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
