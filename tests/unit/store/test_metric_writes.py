"""``writes.insert_metrics``: any mix of runs, keys, segments and flags in a batch comes back."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sqlalchemy import event

import detlab
from detlab.store.sql import writes
from detlab.store.sql.store import SQLStore

NAN_FLAG = 1  # detlab.core.runs.encode_value(nan)


def test_mixed_batches_come_back_in_logging_order(store: SQLStore) -> None:
    ids = {}
    for name in ("a", "b"):
        run = detlab.init(project="p", name=name, store=store)
        ids[name] = run.id
        run.finish()
    a, b = ids["a"], ids["b"]
    batches = [
        # two runs, two segments, a NaN: no column is constant
        [(a, "loss", 0, 1.0, 0, 0, 1.0), (b, "loss", 0, 5.0, 0, 1, 1.0),
         (a, "ap", 0, None, NAN_FLAG, 0, 1.0), (a, "loss", 1, 0.5, 0, 0, 2.0)],
        [(b, "loss", 1, 4.0, 0, 1, 3.0)],  # run b alone in between
        [(a, "loss", 1, 0.25, 0, 1, 4.0), (a, "ap", 1, 0.5, 0, 1, 4.0)],  # a's step 1 again
        [(a, "loss", 2, 0.125, 0, 1, 5.0)],  # follows a's last batch: its blocks grow
    ]  # fmt: skip
    for batch in batches:
        with store.writing() as conn:
            writes.insert_metrics(conn, batch)
    every = store.history("p", "a", "loss", all_segments=True)
    assert every.steps.tolist() == [0, 1, 1, 2]
    assert every.values.tolist() == [1.0, 0.5, 0.25, 0.125]
    assert every.segments.tolist() == [0, 0, 1, 1]
    latest = store.history("p", "a", "loss")
    assert latest.values.tolist() == [1.0, 0.25, 0.125]
    ap = store.history("p", "a", "ap", all_segments=True)
    assert math.isnan(ap.values[0])
    assert ap.values[1] == 0.5
    assert store.history("p", "b", "loss").values.tolist() == [5.0, 4.0]
    bulk = store.histories("p", ["a", "b"])
    assert bulk["a"]["loss"].values.tolist() == [1.0, 0.5, 0.25, 0.125]
    assert sorted(bulk["b"]) == ["loss"]
    value, step = store.best("p", "a", "loss", mode="min")
    assert (value, step) == (0.125, 2)
    assert store.metric_keys("p", "b") == ["loss"]


def test_reads_never_scan_every_point(tmp_path: Path) -> None:
    """SQLite's plans: points are reached by id ranges from the blocks, never by a scan."""
    store = detlab.open_store(f"sqlite:///{tmp_path / 'lab.db'}")
    with store.writing() as conn:  # many runs: a long IN list once tempted the planner to scan
        for number in range(300):
            empty: dict[str, Any] = {}
            run_id = writes.create_run(
                conn, "p", f"r{number}", fields={}, params=empty, tags=[], baselines=empty
            )
            rows = [(run_id, key, step, step / 30, 0, 0, 1.0) for step in range(30)
                    for key in ("loss", "ap")]  # fmt: skip
            writes.insert_metrics(conn, rows)
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "metrics" in statement and statement.lstrip().upper().startswith(("SELECT", "DELETE")):
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    store.history("p", "r0", "loss")
    store.history("p", "r0", "loss", all_segments=True)
    store.histories("p", [f"r{number}" for number in range(300)])
    store.best("p", "r1", "ap")
    store.runs("p", metric="ap", where={"loss": ("<", 1.0)})
    store.metric_keys("p", "r2")
    store.delete_run("p", "r3")
    event.remove(store.engine, "before_cursor_execute", record)
    assert len(seen) >= 6
    with store.engine.connect() as conn:
        for statement, parameters in seen:
            plan = [
                row[3]
                for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            ]
            assert not any(step.startswith("SCAN metrics") for step in plan), (statement, plan)
            assert not any("AUTOMATIC" in step for step in plan), (statement, plan)
    store.close()
