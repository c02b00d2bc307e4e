"""metric keys as ids, points found through blocks of ids

Points carry an integer key id (``metric_keys``) instead of the name, and the ``metrics``
table loses its secondary index and its foreign key: a batch of points only appends. Where a
run's points of a key are is kept in ``metric_blocks`` (ranges of metric ids). Every point of
a 0001 store is kept: points are renumbered run by run and key by key, in their old id order
(logging order within a key, which "latest value per step" reads), one block per run and key.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 16:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COPY = "metrics_0001_copy"
_VALUES = "step, value, flag, segment, time"


def _id_column() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=False,
        nullable=False,
    )


def _value_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("flag", sa.SmallInteger(), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.Column("time", sa.Double(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "metric_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_keys")),
        sa.UniqueConstraint("name", name=op.f("uq_metric_keys_name")),
    )
    op.execute("INSERT INTO metric_keys (name) SELECT DISTINCT key FROM metrics ORDER BY key")
    op.execute(
        f"CREATE TABLE {_COPY} AS SELECT row_number() OVER (ORDER BY m.run_id, k.id, m.id) "
        f"AS id, m.run_id AS run_id, k.id AS key_id, {_VALUES} "
        "FROM metrics m JOIN metric_keys k ON k.name = m.key"
    )
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.drop_index("ix_metrics_run_key_step")
    op.drop_table("metrics")
    op.create_table(
        "metrics",
        _id_column(),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        *_value_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
    )
    op.execute(
        f"INSERT INTO metrics (id, run_id, key_id, {_VALUES}) "
        f"SELECT id, run_id, key_id, {_VALUES} FROM {_COPY} ORDER BY id"
    )
    op.drop_table(_COPY)
    op.create_table(
        "metric_blocks",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["metric_keys.id"], name=op.f("fk_metric_blocks_key_id_metric_keys")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_metric_blocks_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "key_id", "first_id", name=op.f("pk_metric_blocks")),
    )
    with op.batch_alter_table("metric_blocks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metric_blocks_run_id_last_id", ["run_id", "last_id"], unique=False
        )
    op.execute(
        "INSERT INTO metric_blocks (run_id, key_id, first_id, last_id) "
        "SELECT run_id, key_id, min(id), max(id) FROM metrics GROUP BY run_id, key_id"
    )


def downgrade() -> None:
    op.execute(
        f"CREATE TABLE {_COPY} AS SELECT m.id AS id, m.run_id AS run_id, k.name AS key, "
        f"{_VALUES} FROM metrics m JOIN metric_keys k ON k.id = m.key_id"
    )
    with op.batch_alter_table("metric_blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_blocks_run_id_last_id")
    op.drop_table("metric_blocks")
    op.drop_table("metrics")
    op.drop_table("metric_keys")
    op.create_table(
        "metrics",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        *_value_columns(),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_metrics_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
    )
    op.execute(
        f"INSERT INTO metrics (id, run_id, key, {_VALUES}) "
        f"SELECT id, run_id, key, {_VALUES} FROM {_COPY} ORDER BY id"
    )
    op.drop_table(_COPY)
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.create_index("ix_metrics_run_key_step", ["run_id", "key", "step"], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # the serial's sequence after explicit ids
        op.execute(
            "SELECT setval(pg_get_serial_sequence('metrics', 'id'), "
            "coalesce((SELECT max(id) FROM metrics), 0) + 1, false)"
        )
