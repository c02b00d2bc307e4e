"""Store URLs for tests: a fresh SQLite file each time, and PostgreSQL when CI provides one.

``DETLAB_TEST_DB_URL`` names a PostgreSQL database the suite may wipe (``.ci/run`` starts a
throwaway cluster for it). Each use drops every table there first, so tests stay independent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("DETLAB_TEST_DB_URL", "")

#: The backends the store suite runs on: always SQLite, PostgreSQL when configured.
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="DETLAB_TEST_DB_URL is not set (CI sets it)"
        ),
    ),
]


def fresh_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'detlab.db'}"
    wipe_postgres(POSTGRES_URL)
    return POSTGRES_URL


def wipe_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
