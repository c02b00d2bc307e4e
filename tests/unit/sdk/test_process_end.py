"""What happens to a run when its process ends: killed, terminated, crashed, or just exits.

Each case runs a real Python process that logs into a SQLite store, as a training script does.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from detlab.store import open_store

LOGGER = textwrap.dedent(
    """
    import sys, time
    import detlab

    run = detlab.init(project="p", name="r", store=sys.argv[1], flush_interval=0.05)
    step = 0
    while True:
        run.log({"loss": 1.0 / (step + 1), "AP": step / 1000}, step=step)
        if step % 50 == 49:
            run.flush()
            print(step, flush=True)  # every step up to here is in the store
        step += 1
        time.sleep(0.0005)
    """
)


def _start(tmp_path: Path, code: str) -> tuple[subprocess.Popen[str], str]:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    process = subprocess.Popen(
        [sys.executable, "-c", code, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return process, url


def _wait_for_step(process: subprocess.Popen[str], at_least: int) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if int(line) >= at_least:
            return int(line)
    process.kill()
    _, stderr = process.communicate()
    raise AssertionError(f"the logger never reached step {at_least}: {stderr}")


def test_sigkill_loses_nothing_flushed_and_never_corrupts(tmp_path: Path) -> None:
    process, url = _start(tmp_path, LOGGER)
    flushed = _wait_for_step(process, 300)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    with open_store(url) as store:
        steps, _ = store.history("p", "r", "loss")
        assert steps.tolist()[: flushed + 1] == list(range(flushed + 1))
        assert len(store.history("p", "r", "AP")) == len(steps)
        assert store.run("p", "r").status == "running"  # nobody could say otherwise
    with sqlite3.connect(tmp_path / "lab.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_sigterm_writes_everything_and_marks_the_run_crashed(tmp_path: Path) -> None:
    process, url = _start(tmp_path, LOGGER)
    _wait_for_step(process, 100)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGTERM, stderr  # the default action still happens
    with open_store(url) as store:
        record = store.run("p", "r")
        assert (record.status, record.error) == ("crashed", "SIGTERM")
        steps, _ = store.history("p", "r", "loss")
        assert steps.tolist() == list(range(len(steps)))  # every queued step was written
        assert len(steps) > 100


@pytest.mark.parametrize(
    ("ending", "status", "error"),
    [
        ("pass", "finished", ""),
        ("raise RuntimeError('CUDA error: an illegal memory access')", "crashed", "RuntimeError"),
    ],
    ids=["normal-exit", "uncaught-exception"],
)
def test_a_run_left_open_is_closed_at_exit(
    tmp_path: Path, ending: str, status: str, error: str
) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        import detlab
        run = detlab.init(project="p", name="r", store=sys.argv[1], flush_interval=60)
        for step in range(500):
            run.log({{"loss": 1.0}}, step=step)
        {ending}
        """
    )
    process, url = _start(tmp_path, code)
    process.communicate(timeout=60)
    with open_store(url) as store:
        record = store.run("p", "r")
        assert record.status == status
        assert record.error.startswith(error)
        assert len(store.history("p", "r", "loss")) == 500  # flushed at exit, not lost
