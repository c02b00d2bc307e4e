"""Settings, resolved in one order: explicit argument > ``DETLAB_*`` environment > default.

>>> resolve_store_url(None, environ={})
'sqlite:///.detlab/detlab.db'
>>> resolve_store_url(None, environ={"DETLAB_STORE": "postgresql+psycopg://db/lab"})
'postgresql+psycopg://db/lab'
>>> resolve_store_url("sqlite:///x.db", environ={"DETLAB_STORE": "sqlite:///y.db"})
'sqlite:///x.db'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from detlab.errors import ConfigError

__all__ = [
    "DEFAULT_STORE_URL",
    "ENV_PREFIX",
    "Settings",
    "resolve_setting",
    "resolve_store_url",
]

ENV_PREFIX = "DETLAB_"
#: The embedded default: a SQLite file under the current directory, created on first use.
DEFAULT_STORE_URL = "sqlite:///.detlab/detlab.db"


def resolve_setting(
    name: str,
    explicit: str | None,
    default: str,
    *,
    environ: Mapping[str, str] | None = None,
) -> str:
    """``explicit`` if given, else ``DETLAB_<NAME>`` if set and non-empty, else ``default``."""
    if explicit is not None:
        return explicit
    env = os.environ if environ is None else environ
    value = env.get(ENV_PREFIX + name.upper(), "")
    return value if value.strip() else default


def resolve_store_url(explicit: str | None, *, environ: Mapping[str, str] | None = None) -> str:
    """The run store's SQLAlchemy URL (``DETLAB_STORE``); a bare path means a SQLite file."""
    value = resolve_setting("store", explicit, DEFAULT_STORE_URL, environ=environ).strip()
    if not value:
        raise ConfigError("the store URL is empty; give a SQLAlchemy URL or a SQLite file path")
    if "://" not in value:
        return f"sqlite:///{value}"
    return value


def _parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a boolean; use 1/0, true/false")


@dataclass(frozen=True)
class Settings:
    """The settings a command runs with, after resolution."""

    store_url: str
    progress: bool

    @classmethod
    def resolve(
        cls,
        *,
        store: str | None = None,
        progress: bool | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        env = os.environ if environ is None else environ
        if progress is None:
            progress = _parse_bool("progress", env.get(ENV_PREFIX + "PROGRESS", "1"))
        return cls(store_url=resolve_store_url(store, environ=env), progress=progress)
