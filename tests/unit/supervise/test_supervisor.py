"""Supervised runs with real child processes: each failure is classified, restarted from the
right checkpoint with the next seed, and the metric history stays continuous."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from detlab.errors import ConfigError
from detlab.store import open_store
from detlab.supervise import supervise
from detlab.supervise.oom import OOMProbe

TRAINER = Path(__file__).with_name("trainer.py")
NO_OOM = OOMProbe(counter=None, kmsg=None)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lab.db'}"


def _run(tmp_path: Path, url: str, *extra: str, **options: object):
    command = [sys.executable, str(TRAINER), "--ckpt-dir", str(tmp_path / "ck"), *extra]
    options.setdefault("oom_probe", NO_OOM)
    options.setdefault("seeds", [28, 31, 29])
    options.setdefault("echo", False)
    return supervise(
        command,
        project="sup",
        name="r18",
        store=url,
        log_file=tmp_path / "run.log",
        grace_period=5.0,
        **options,  # type: ignore[arg-type]
    )


def _assert_continuous(url: str, epochs: int = 6) -> None:
    store = open_store(url)
    steps, values = store.history("sup", "r18", "val/AP50")
    assert steps.tolist() == list(range(epochs))
    np.testing.assert_allclose(values, 0.1 * np.arange(epochs))
    store.close()


@pytest.mark.parametrize(
    ("fail", "reason", "detail"),
    [
        pytest.param("memory", "oom", "MemoryError", id="memory-error"),
        pytest.param("cuda", "cuda_error", "illegal memory access", id="cuda-error"),
        pytest.param("gpu_oom", "gpu_oom", "CUDA out of memory", id="cuda-oom"),
        pytest.param("sigkill", "unknown", "SIGKILL", id="sigkill"),
        pytest.param("crash", "unknown", "ValueError: bad batch shape", id="other-crash"),
    ],
)
def test_failure_is_classified_and_resumed(
    tmp_path: Path, url: str, fail: str, reason: str, detail: str
) -> None:
    result = _run(tmp_path, url, "--fail", fail, "--fail-at", "3")
    assert result.status == "finished"
    assert result.exit_code == 0
    assert result.attempts == 2
    [restart] = open_store(url).restarts("sup", "r18")
    assert (restart.epoch, restart.loaded_epoch, restart.seed, restart.reason) == (3, 2, 28, reason)
    assert detail in restart.detail
    assert result.restarts[0].checkpoint == (tmp_path / "ck" / "epoch_2.json").resolve()
    _assert_continuous(url)
    assert "resumed from" in (tmp_path / "run.log").read_text()
    assert open_store(url).run("sup", "r18").status == "finished"


def test_nan_loss_through_the_sdk_stops_the_child_and_restarts(tmp_path: Path, url: str) -> None:
    started = time.monotonic()
    result = _run(tmp_path, url, "--fail", "nan", "--fail-at", "3")
    assert time.monotonic() - started < 40  # the child sleeping after the NaN was stopped
    assert result.status == "finished"
    [restart] = open_store(url).restarts("sup", "r18")
    assert (restart.epoch, restart.loaded_epoch, restart.seed, restart.reason) == (3, 2, 28, "nan")
    assert "train/loss = nan at step 3" in restart.detail
    store = open_store(url)
    steps, values = store.history("sup", "r18", "train/loss")
    assert steps.tolist() == list(range(6))
    assert all(math.isfinite(v) for v in values)  # the restarted epoch 3 replaced the NaN
    every = store.history("sup", "r18", "train/loss", all_segments=True)
    assert np.isnan(every.values).sum() == 1  # and the NaN is kept in its segment
    _assert_continuous(url)


def test_run_fail_nan_is_a_nan_restart(tmp_path: Path, url: str) -> None:
    result = _run(tmp_path, url, "--fail", "fail_nan", "--fail-at", "4")
    [restart] = result.restarts
    assert (restart.reason, restart.loaded_epoch, restart.seed) == ("nan", 3, 28)
    assert restart.detail == "loss exploded"
    _assert_continuous(url)


def test_on_nan_stop_ends_the_run_early(tmp_path: Path, url: str) -> None:
    result = _run(tmp_path, url, "--fail", "nan", "--fail-at", "3", on_nan="stop")
    assert (result.status, result.exit_code, result.restarts) == ("early_stopped", 0, ())
    record = open_store(url).run("sup", "r18")
    assert record.status == "early_stopped"
    assert record.early_stop_step == 3


def test_time_limit_stops_and_restarts(tmp_path: Path, url: str) -> None:
    result = _run(tmp_path, url, "--fail", "hang", "--fail-at", "2", time_limit=4.0)
    assert result.status == "finished"
    [restart] = result.restarts
    assert (restart.epoch, restart.loaded_epoch, restart.seed) == (2, 1, 28)
    assert restart.reason == "time_limit"
    _assert_continuous(url)


def test_sigterm_from_outside_is_preemption(tmp_path: Path, url: str) -> None:
    pid_file = tmp_path / "child.pid"

    def preempt() -> None:
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(int(pid_file.read_text()), signal.SIGTERM)

    killer = threading.Thread(target=preempt)
    killer.start()
    result = _run(
        tmp_path, url, "--fail", "wait_term", "--fail-at", "3", "--pid-file", str(pid_file)
    )
    killer.join()
    [restart] = result.restarts
    assert (restart.reason, restart.loaded_epoch, restart.seed) == ("preempted", 2, 28)
    assert "SIGTERM from outside" in restart.detail
    _assert_continuous(url)


def test_oom_killer_seen_in_the_cgroup_counter(tmp_path: Path, url: str) -> None:
    counter = tmp_path / "memory.oom_control"
    counter.write_text("oom_kill_disable 0\noom_kill 4\n")
    probe = OOMProbe(counter=counter, kmsg=None)
    extra = ("--fail", "oom_kill", "--fail-at", "3", "--oom-counter", str(counter))
    result = _run(tmp_path, url, *extra, oom_probe=probe)
    [restart] = result.restarts
    assert restart.reason == "oom"
    assert "oom_kill 4 -> 5" in restart.detail


def test_without_the_sdk_restarts_come_from_exit_codes_and_the_glob(
    tmp_path: Path, url: str
) -> None:
    glob = str(tmp_path / "ck" / "epoch_*.json")
    result = _run(tmp_path, url, "--no-sdk", "--fail", "memory", checkpoints=glob)
    assert result.status == "finished"
    [restart] = open_store(url).restarts("sup", "r18")
    assert (restart.epoch, restart.loaded_epoch, restart.seed, restart.reason) == (3, 2, 28, "oom")


def test_glob_matching_nothing_restarts_from_scratch_and_says_so(tmp_path: Path, url: str) -> None:
    glob = str(tmp_path / "nowhere" / "*.pth")
    result = _run(tmp_path, url, "--no-sdk", "--fail", "crash", checkpoints=glob)
    [restart] = result.restarts
    assert restart.loaded_epoch is None
    assert f"{glob!r} matched no file" in restart.detail
    assert "from scratch" in (tmp_path / "run.log").read_text()
    assert result.status == "finished"


def test_gives_up_after_max_restarts(tmp_path: Path, url: str) -> None:
    extra = ("--fail", "crash", "--fail-at", "1", "--always-fail")
    result = _run(tmp_path, url, *extra, max_restarts=2)
    assert (result.status, result.attempts, result.exit_code) == ("failed", 3, 3)
    assert [r.seed for r in result.restarts] == [28, 31]
    record = open_store(url).run("sup", "r18")
    assert record.status == "failed"
    assert record.error.startswith("unknown: exit status 3")


def test_max_restarts_zero_fails_at_the_first_failure(tmp_path: Path, url: str) -> None:
    result = _run(tmp_path, url, "--fail", "cuda", max_restarts=0)
    assert (result.status, result.attempts, result.restarts) == ("failed", 1, ())
    assert result.reason == "cuda_error"
    assert "--max-restarts 0" in (tmp_path / "run.log").read_text()


def test_random_seeds_after_the_given_ones(tmp_path: Path, url: str) -> None:
    extra = ("--fail", "crash", "--fail-at", "1", "--always-fail")
    result = _run(tmp_path, url, *extra, max_restarts=2, seeds=[5])
    assert result.restarts[0].seed == 5
    assert result.restarts[1].seed is not None


@pytest.mark.parametrize(
    ("command", "message"),
    [
        pytest.param(["no-such-trainer-xyz"], "not found on PATH", id="unknown-command"),
        pytest.param(["./missing/train.sh"], "not an executable file", id="missing-path"),
        pytest.param([], "no command given", id="empty"),
    ],
)
def test_bad_commands_create_no_run(url: str, command: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        supervise(command, project="sup", name="r18", store=url)
    assert "sup" not in open_store(url).projects()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"max_restarts": -1}, "--max-restarts", id="negative-restarts"),
        pytest.param({"on_nan": "ignore"}, "--on-nan", id="on-nan"),
        pytest.param({"resume_arg": "--resume"}, "{checkpoint}", id="resume-template"),
        pytest.param({"seed_arg": "--seed 3"}, "{seed}", id="seed-template"),
        pytest.param({"time_limit": 0}, "--time-limit", id="time-limit"),
        pytest.param({"seeds": [-3]}, "--seeds", id="seeds"),
    ],
)
def test_bad_options_are_refused_before_starting(
    url: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        supervise([sys.executable, "-c", "pass"], project="sup", store=url, **options)  # type: ignore[arg-type]
    assert "sup" not in open_store(url).projects()


def _cli(tmp_path: Path, url: str, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "detlab", "run", "--store", url, "--project", "sup"]
    return subprocess.Popen(
        [*command, *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_prints_the_restart_table(tmp_path: Path, url: str) -> None:
    trainer = [sys.executable, str(TRAINER), "--ckpt-dir", "ck", "--fail", "crash"]
    done = _cli(tmp_path, url, "--name", "r18", "--seeds", "28,31", "--", *trainer)
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    assert "epoch 5 done" in out  # the child's output streams through
    assert "Restarts of sup/r18" in err
    assert "finished after 2 attempt(s)" in err
    assert (tmp_path / ".detlab" / "logs" / "sup" / "r18.log").is_file()


def test_cli_exit_codes(tmp_path: Path, url: str) -> None:
    missing = _cli(tmp_path, url, "--", "no-such-trainer-xyz")
    _, err = missing.communicate(timeout=60)
    assert missing.returncode == 2
    assert "not found on PATH" in err
    assert "Traceback" not in err
    failing = _cli(tmp_path, url, "--max-restarts", "0", "--", sys.executable, "-c", "exit(7)")
    _, err = failing.communicate(timeout=60)
    assert failing.returncode == 7
    assert "failed after 1 attempt(s)" in err
    bad_limit = _cli(tmp_path, url, "--time-limit", "soon", "--", sys.executable, "-c", "0")
    _, err = bad_limit.communicate(timeout=60)
    assert bad_limit.returncode == 2
    assert "--time-limit 'soon'" in err


def test_sigterm_to_the_supervisor_is_forwarded_and_ends_it(tmp_path: Path, url: str) -> None:
    pid_file = tmp_path / "child.pid"
    trainer = [sys.executable, str(TRAINER), "--ckpt-dir", "ck", "--fail", "hang"]
    proc = _cli(tmp_path, url, "--name", "r18", "--", *trainer, "--pid-file", str(pid_file))
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    record = open_store(url).run("sup", "r18")
    assert record.status == "crashed"
    assert "stopped by SIGTERM" in record.error
    assert open_store(url).restarts("sup", "r18") == []
