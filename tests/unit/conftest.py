"""Fixtures shared by the unit suites: a run store, on SQLite and (in CI) on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from detlab.store import open_store
from detlab.store.sql.store import SQLStore
from tests.store_urls import BACKENDS, fresh_url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_url(request.param, tmp_path)


@pytest.fixture
def store(store_url: str) -> Iterator[SQLStore]:
    opened = open_store(store_url)
    yield opened
    opened.close()
