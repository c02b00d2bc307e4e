"""The supervisor's pure parts: reasons, restart command lines, checkpoints, events, durations."""

from __future__ import annotations

import json
import signal
import zipfile
from pathlib import Path

import pytest

from detlab.cli.supervise import parse_duration
from detlab.errors import ConfigError
from detlab.sdk import supervision
from detlab.supervise import AttemptEnd, classify
from detlab.supervise.checkpoints import find_checkpoints, newest_usable
from detlab.supervise.command import check_template, restart_command
from detlab.supervise.events import EventLog
from detlab.supervise.oom import OOMProbe


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param(
            "torch.OutOfMemoryError: CUDA out of memory. Tried to", "gpu_oom", id="gpu-oom"
        ),
        pytest.param("RuntimeError: CUDA error: out of memory", "gpu_oom", id="cuda-error-oom"),
        pytest.param(
            "RuntimeError: CUDA error: device-side assert triggered", "cuda_error", id="assert"
        ),
        pytest.param(
            "RuntimeError: cuDNN error: CUDNN_STATUS_EXECUTION_FAILED", "cuda_error", id="cudnn"
        ),
        pytest.param("MemoryError", "oom", id="memory-error"),
        pytest.param(
            "RuntimeError: DefaultCPUAllocator: can't allocate memory", "oom", id="cpu-alloc"
        ),
        pytest.param(
            "FloatingPointError: Loss became infinite or NaN at iteration=12", "nan", id="d2"
        ),
        pytest.param("AssertionError: loss become infinite or NaN!", "nan", id="mmdet"),
    ],
)
def test_printed_causes(line: str, reason: str) -> None:
    verdict = classify(AttemptEnd(returncode=1, stderr_tail=("Traceback ...", line)))
    assert verdict is not None
    assert (verdict.reason, verdict.detail) == (reason, line)


@pytest.mark.parametrize(
    ("returncode", "stopped", "reason", "detail"),
    [
        pytest.param(-signal.SIGTERM, False, "preempted", "SIGTERM from outside", id="sigterm"),
        pytest.param(143, False, "preempted", "SIGTERM from outside", id="shell-143"),
        pytest.param(-signal.SIGKILL, False, "unknown", "killed by SIGKILL", id="sigkill"),
        pytest.param(137, False, "unknown", "killed by SIGKILL", id="shell-137"),
        pytest.param(-signal.SIGINT, False, "manual", "SIGINT", id="sigint"),
        pytest.param(-signal.SIGSEGV, False, "unknown", "killed by SIGSEGV", id="segv"),
        pytest.param(2, False, "unknown", "exit status 2", id="exit-2"),
        pytest.param(-signal.SIGTERM, True, "unknown", "killed by SIGTERM", id="ours"),
    ],
)
def test_exit_statuses(returncode: int, stopped: bool, reason: str, detail: str) -> None:
    end = AttemptEnd(returncode=returncode, stopped_by_supervisor=stopped)
    verdict = classify(end)
    assert verdict is not None
    assert verdict.reason == reason
    assert detail in verdict.detail


def test_precedence_reported_then_time_limit_then_oom_killer() -> None:
    nan = {"event": "nan", "key": "train/loss", "step": 8, "value": "nan"}
    both = AttemptEnd(returncode=-9, failure=nan, timed_out=True, oom_killed=True)
    assert classify(both).reason == "nan"  # type: ignore[union-attr]
    late = AttemptEnd(returncode=-15, timed_out=True, time_limit=60.0)
    assert classify(late).detail == "stopped at the time limit of 60 s (--time-limit)"  # type: ignore[union-attr]
    killed = AttemptEnd(returncode=-9, oom_killed=True, oom_evidence="kernel log: Killed process 7")
    assert classify(killed).reason == "oom"  # type: ignore[union-attr]
    assert classify(AttemptEnd(returncode=0)) is None


def test_unknown_keeps_the_last_stderr_lines() -> None:
    lines = [f"line {i}" for i in range(30)]
    verdict = classify(AttemptEnd(returncode=1, stderr_tail=lines))
    assert verdict is not None
    assert verdict.detail.splitlines()[1:] == lines[-10:]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param(
            ["python", "t.py"], ["python", "t.py", "--resume", "c.pth", "--seed", "7"], id="append"
        ),
        pytest.param(
            ["python", "t.py", "--seed", "1", "--lr", "0.1"],
            ["python", "t.py", "--lr", "0.1", "--resume", "c.pth", "--seed", "7"],
            id="replace-seed",
        ),
        pytest.param(
            ["python", "t.py", "--seed=1", "--resume", "old.pth"],
            ["python", "t.py", "--resume", "c.pth", "--seed", "7"],
            id="replace-both",
        ),
    ],
)
def test_restart_command(command: list[str], expected: list[str]) -> None:
    argv = restart_command(
        command,
        checkpoint=Path("c.pth"),
        seed=7,
        resume_arg="--resume {checkpoint}",
        seed_arg="--seed {seed}",
    )
    assert argv == expected


def test_restart_command_without_checkpoint_or_templates() -> None:
    argv = restart_command(
        ["t"], checkpoint=None, seed=7, resume_arg="--resume {checkpoint}", seed_arg=None
    )
    assert argv == ["t"]
    argv = restart_command(
        ["t"],
        checkpoint=Path("a b.pth"),
        seed=None,
        resume_arg="resume={checkpoint}",
        seed_arg=None,
    )
    assert argv == ["t", "resume=a b.pth"]


@pytest.mark.parametrize(
    "template", ["--resume", "--resume {checkpoint} {checkpoint}", "'--resume {checkpoint}"]
)
def test_bad_templates(template: str) -> None:
    with pytest.raises(ConfigError, match="--resume-arg"):
        check_template("--resume-arg", template, "{checkpoint}")


def _zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.pkl", b"x" * 1000)
    return path


def test_newest_usable_skips_truncated_empty_and_post_nan(tmp_path: Path) -> None:
    for epoch in (3, 9, 10):
        _zip(tmp_path / f"epoch_{epoch}.pth")
    (tmp_path / "epoch_11.pth").write_bytes(b"")  # killed while opening the file
    broken = (tmp_path / "epoch_10.pth").read_bytes()
    (tmp_path / "epoch_10.pth").write_bytes(broken[: len(broken) // 2])  # killed mid-write
    found = find_checkpoints(str(tmp_path / "epoch_*.pth"), [])
    assert newest_usable(found).path.name == "epoch_9.pth"  # type: ignore[union-attr]
    assert newest_usable(found, before_epoch=9).path.name == "epoch_3.pth"  # type: ignore[union-attr]
    assert newest_usable(found, before_epoch=3) is None


def test_registered_epochs_win_and_missing_files_are_dropped(tmp_path: Path) -> None:
    last = _zip(tmp_path / "last.pt")
    found = find_checkpoints(None, [(str(last), 12), (str(tmp_path / "gone.pt"), 13)])
    assert [(c.path.name, c.epoch) for c in found] == [("last.pt", 12)]


def test_event_log_reads_complete_lines_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.jsonl"
    monkeypatch.setenv(supervision.ENV_EVENTS, str(path))
    log = EventLog(path)
    assert log.read_new() == []
    supervision.emit("checkpoint", path="/ck/epoch_1.pth", epoch=1)
    with path.open("a") as handle:
        handle.write("not json\n")
        handle.write(json.dumps({"event": "nan", "step": 2})[:10])  # still being written
    events = log.read_new()
    assert [e["event"] for e in events] == ["checkpoint"]
    assert log.checkpoints == [("/ck/epoch_1.pth", 1)]
    with path.open("a") as handle:
        handle.write(json.dumps({"event": "nan", "step": 2})[10:] + "\n")
    assert log.read_new() == [{"event": "nan", "step": 2}]


def test_emit_is_a_no_op_unsupervised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(supervision.ENV_EVENTS, raising=False)
    supervision.emit("nan", step=1)
    assert not supervision.supervised()
    assert list(tmp_path.iterdir()) == []


def test_oom_probe_counts_kills_and_says_when_it_cannot_tell(tmp_path: Path) -> None:
    counter = tmp_path / "memory.events"
    counter.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    probe = OOMProbe(counter=counter, kmsg=None)
    probe.start()
    assert probe.check(123) == (False, "")
    probe.start()
    counter.write_text("low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n")
    killed, evidence = probe.check(123)
    assert killed is True
    assert "oom_kill 1 -> 2" in evidence
    blind = OOMProbe(counter=tmp_path / "none", kmsg=None)
    blind.start()
    assert blind.check(1) == (None, "")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3600", 3600.0), ("90m", 5400.0), ("11h30m", 41400.0), ("45s", 45.0), ("1.5h", 5400.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "10x", "1h 30m", ""])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigError, match="--time-limit"):
        parse_duration(text)
