from __future__ import annotations

import pytest

from detlab.config import DEFAULT_STORE_URL, Settings, resolve_setting, resolve_store_url
from detlab.errors import ConfigError


def test_explicit_beats_environment_beats_default() -> None:
    env = {"DETLAB_STORE": "sqlite:///env.db"}
    assert resolve_store_url("sqlite:///arg.db", environ=env) == "sqlite:///arg.db"
    assert resolve_store_url(None, environ=env) == "sqlite:///env.db"
    assert resolve_store_url(None, environ={}) == DEFAULT_STORE_URL


def test_blank_environment_value_means_unset() -> None:
    assert resolve_setting("store", None, "d", environ={"DETLAB_STORE": "  "}) == "d"


def test_bare_path_is_a_sqlite_file() -> None:
    assert resolve_store_url("runs/lab.db", environ={}) == "sqlite:///runs/lab.db"


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("off", False), ("TRUE", True)])
def test_boolean_settings(raw: str, expected: bool) -> None:
    assert Settings.resolve(environ={"DETLAB_PROGRESS": raw}).progress is expected


def test_bad_values_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="DETLAB_PROGRESS='maybe'"):
        Settings.resolve(environ={"DETLAB_PROGRESS": "maybe"})
    with pytest.raises(ConfigError, match="empty"):
        resolve_store_url("   ", environ={})
