"""Recording runs from a training script: ``detlab.init`` and :class:`Run`.

>>> import detlab  # doctest: +SKIP
>>> run = detlab.init(project="voc-yolo", name="r18-sgd", params=cfg)  # doctest: +SKIP
>>> run.log({"train/loss": 1.2, "val/AP50": 0.55}, step=epoch)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from detlab.sdk.run import Run, start_run
from detlab.sdk.writer import DEFAULT_INTERVAL_S
from detlab.store import open_store
from detlab.store.sql.store import SQLStore

__all__ = ["Run", "init"]

_stores: dict[str, SQLStore] = {}


def _store(store: str | SQLStore | None) -> SQLStore:
    """One open store per URL per process: a sweep of many runs reuses its engine."""
    if isinstance(store, SQLStore):
        return store
    from detlab.config import resolve_store_url  # noqa: PLC0415

    url = resolve_store_url(store)
    if url not in _stores:
        _stores[url] = open_store(url)
    return _stores[url]


def init(
    project: str,
    name: str | None = None,
    *,
    params: Any = None,
    parent: str | None = None,
    baselines: Mapping[str, str] | None = None,
    purpose: str = "",
    method: str = "",
    change_kind: str = "",
    references: Sequence[str] = (),
    tags: Sequence[str] = (),
    resume: bool = False,
    store: str | SQLStore | None = None,
    flush_interval: float = DEFAULT_INTERVAL_S,
) -> Run:
    """Start recording a run (``resume=True``: reattach to it, or start it if it is new).

    ``params`` is a (nested) dict, an ``argparse.Namespace`` or a dataclass; ``parent`` the run
    this one derives from; ``baselines`` labelled runs to compare with (``{"baseline": name}``);
    ``store`` a SQLAlchemy URL or an open store (default: ``DETLAB_STORE`` or
    ``./.detlab/detlab.db``). A resumed run starts a new segment: steps logged again replace
    the earlier values in "latest" views, and nothing logged before is lost.
    """
    return start_run(
        _store(store),
        project=project,
        name=name,
        params=params,
        parent=parent,
        baselines=baselines,
        tags=list(tags),
        resume=resume,
        texts={"purpose": purpose, "method": method, "change_kind": change_kind},
        references=list(references),
        flush_interval=flush_interval,
    )
