"""``writes.insert_metrics``: any mix of runs, keys, segments and flags in a batch comes back."""

from __future__ import annotations

import math

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
