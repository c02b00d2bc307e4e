"""The run store: where every run, parameter, metric point and evaluation is kept.

:func:`open_store` opens the embedded SQLite file ``./.detlab/detlab.db`` by default, or any
SQLAlchemy URL (argument > ``DETLAB_STORE`` > default); ``postgresql+psycopg://...`` for a team.
SQLAlchemy is imported only here, when a store is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from detlab.config import resolve_store_url

if TYPE_CHECKING:
    from detlab.store.sql.store import SQLStore

__all__ = ["open_store"]


def open_store(url: str | None = None) -> SQLStore:
    """Open (and on first use create) the store at ``url``; ``None`` resolves the default."""
    from detlab.store.sql.store import SQLStore  # noqa: PLC0415  (SQLAlchemy on demand)

    return SQLStore(resolve_store_url(url))
