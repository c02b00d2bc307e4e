"""Alembic environment: migrations run on the connection that ``detlab db upgrade`` hands over."""

from __future__ import annotations

from alembic import context

from detlab.store.sql.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through 'detlab db upgrade', which supplies a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
