"""Several processes logging into one SQLite file at once, all creating it at the same moment."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from detlab.store import open_store

WORKER = textwrap.dedent(
    """
    import sys, time
    url, rank, start, points = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    import detlab
    time.sleep(max(0.0, start - time.time()))  # every worker opens the fresh store together
    run = detlab.init(project="ddp", name=f"rank{rank}", store=url, flush_interval=0.02)
    for step in range(points // 4):
        run.log({"a": step, "b": 1.0, "c": 2.0, "d": 3.0}, step=step)
        if step % 100 == 0:
            time.sleep(0.001)
    run.finish()
    """
)


def test_processes_share_one_fresh_store_without_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'lab.db'}"
    workers, points = 4, 4000
    start = time.time() + 3.0  # time enough for every interpreter to import detlab
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, str(rank), str(start), str(points)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(workers)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        assert stderr == ""
    with open_store(url) as store:
        runs = store.runs("ddp")
        assert sorted(r.name for r in runs) == [f"rank{i}" for i in range(workers)]
        assert {r.status for r in runs} == {"finished"}
        total = sum(
            len(store.history("ddp", r.name, key, all_segments=True))
            for r in runs
            for key in "abcd"
        )
    assert total == workers * points
