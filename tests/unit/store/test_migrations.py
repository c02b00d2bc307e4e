"""Upgrading a store written by an older detlab keeps every point and what reads make of it."""

from __future__ import annotations

import math

from sqlalchemy import text

import detlab
from detlab.store import open_store
from detlab.store.sql.engine import make_engine
from detlab.store.sql.migrate import upgrade_schema
from detlab.store.sql.schema import HEAD_REVISION

# (run, key, step, value, flag, segment): two runs, a step logged again in a new segment, a NaN
# (flag 1, value NULL), keys interleaved in logging order as the 0001 writer stored them.
POINTS_0001 = [
    (1, "val/AP50", 0, 0.10, 0, 0),
    (1, "train/loss", 0, 2.00, 0, 0),
    (2, "val/AP50", 0, 0.50, 0, 0),
    (1, "val/AP50", 1, 0.30, 0, 0),
    (1, "train/loss", 1, None, 1, 0),
    (1, "val/AP50", 2, 0.20, 0, 0),
    (2, "train/loss", 0, 1.50, 0, 0),
    (1, "val/AP50", 1, 0.40, 0, 1),  # resumed from epoch 0: step 1 again, latest value
    (1, "train/loss", 1, 1.00, 0, 1),
]


def _store_at_0001(url: str) -> None:
    engine = make_engine(url)
    assert upgrade_schema(engine, "0001") == (None, "0001")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO projects (id, name, created) VALUES (1, 'voc', :t)"),
            {"t": "2026-12-01 00:00:00+00:00"},
        )
        for run_id, name in ((1, "r18"), (2, "r50")):
            conn.execute(
                text(
                    "INSERT INTO runs (id, project_id, name, status, created, purpose, method, "
                    'change_kind, conclusion, suggestions, notes, "references", command, cwd, '
                    "host, python_version, packages, error, segment) VALUES (:id, 1, :name, "
                    "'finished', :t, '', '', '', '', '', '', '[]', '', '', '', '', '{}', '', :s)"
                ),
                {"id": run_id, "name": name, "t": "2026-12-01 00:00:00+00:00", "s": 2 - run_id},
            )
        for number, (run_id, key, step, value, flag, segment) in enumerate(POINTS_0001):
            conn.execute(
                text(
                    "INSERT INTO metrics (run_id, key, step, value, flag, segment, time) "
                    "VALUES (:r, :k, :s, :v, :f, :g, :t)"
                ),
                {"r": run_id, "k": key, "s": step, "v": value, "f": flag, "g": segment,
                 "t": 1000.0 + number},
            )  # fmt: skip
    engine.dispose()


def test_upgrade_keeps_every_point(store_url: str) -> None:
    _store_at_0001(store_url)
    engine = make_engine(store_url)
    assert upgrade_schema(engine) == ("0001", HEAD_REVISION)
    engine.dispose()
    with open_store(store_url) as store:
        every = store.history("voc", "r18", "val/AP50", all_segments=True)
        assert every.steps.tolist() == [0, 1, 2, 1]
        assert every.values.tolist() == [0.10, 0.30, 0.20, 0.40]
        assert every.segments.tolist() == [0, 0, 0, 1]
        assert every.times.tolist() == [1000.0, 1003.0, 1005.0, 1007.0]
        latest = store.history("voc", "r18", "val/AP50")
        assert latest.steps.tolist() == [0, 1, 2]
        assert latest.values.tolist() == [0.10, 0.40, 0.20]
        loss = store.history("voc", "r18", "train/loss", all_segments=True)
        assert loss.values[0] == 2.0
        assert math.isnan(loss.values[1])
        assert loss.values[2] == 1.0
        value, step = store.best("voc", "r18", "val/AP50")
        assert (value, step) == (0.40, 1)
        value, step = store.best("voc", "r50", "val/AP50")
        assert (value, step) == (0.50, 0)
        bulk = store.histories("voc", ["r18", "r50"])
        assert sorted(bulk["r50"]) == ["train/loss", "val/AP50"]
        assert bulk["r18"]["val/AP50"].values.tolist() == [0.10, 0.30, 0.20, 0.40]
        records = store.runs("voc", metric="val/AP50")
        assert {r.name: r.best.value for r in records if r.best} == {"r18": 0.40, "r50": 0.50}
    # The upgraded store takes new points after the old ones, resuming where the run stopped.
    with detlab.init(project="voc", name="r18", store=store_url, resume=True) as run:
        run.log({"val/AP50": 0.45})
    with open_store(store_url) as store:
        latest = store.history("voc", "r18", "val/AP50")
        assert latest.steps.tolist() == [0, 1, 2, 3]
        assert latest.values.tolist()[-1] == 0.45
        store.delete_run("voc", "r50")
        assert len(store.history("voc", "r18", "train/loss", all_segments=True)) == 3
    engine = make_engine(store_url)
    with engine.connect() as conn:  # r50's points went with it, nothing else did
        assert conn.execute(text("SELECT count(*) FROM metrics")).scalar() == 8
    engine.dispose()
