"""``supervise()``: run a training command, restart it from its newest checkpoint with a new
seed when it fails, and record every restart (epoch, loaded epoch, seed, reason, detail).

>>> result = supervise(["python", "train.py", "--epochs", "300"], project="voc-yolo",
...                    name="r18-sgd", checkpoints="work_dir/epoch_*.pth",
...                    seeds=[28, 31, 29])  # doctest: +SKIP
>>> result.status, [(r.epoch, r.loaded_epoch, r.seed, r.reason) for r in result.restarts]
...                                                                     # doctest: +SKIP
('finished', [(8, 7, 28, 'nan'), (21, 20, 31, 'nan')])
"""

from __future__ import annotations

import os
import random
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO, Final, Literal

from detlab.config import resolve_setting
from detlab.errors import ConfigError
from detlab.sdk.run import _generated_name
from detlab.sdk.supervision import ENV_EVENTS, ENV_RUN_ID
from detlab.store import open_store
from detlab.store.sql.store import SQLStore
from detlab.supervise.checkpoints import Checkpoint, find_checkpoints, newest_usable
from detlab.supervise.command import check_template, restart_command
from detlab.supervise.events import EventLog
from detlab.supervise.oom import OOMProbe
from detlab.supervise.process import Child
from detlab.supervise.reasons import AttemptEnd, Verdict, classify, signal_of
from detlab.supervise.recording import RunLedger, sqlite_url_absolute

__all__ = ["RestartRecord", "SupervisedResult", "supervise"]

OnNaN = Literal["restart", "stop"]
_POLL_S: Final = 0.1
_MAX_SEED: Final = 2**31 - 1


@dataclass(frozen=True)
class RestartRecord:
    """One restart as recorded: what failed at which epoch, and what training resumed from."""

    epoch: int | None
    loaded_epoch: int | None
    seed: int | None
    reason: str
    detail: str
    checkpoint: Path | None


@dataclass(frozen=True)
class SupervisedResult:
    """How the supervision ended: the run's final ``status`` and the last attempt's exit."""

    project: str
    name: str
    run_id: int
    status: str  # finished | early_stopped | failed | crashed
    exit_code: int
    attempts: int
    restarts: tuple[RestartRecord, ...]
    reason: str | None  # why the last attempt failed (None when it finished)
    detail: str
    log_file: Path


@dataclass
class _Settings:
    command: list[str]
    max_restarts: int
    checkpoints: str | None
    resume_arg: str | None
    seed_arg: str | None
    seeds: list[int]
    on_nan: OnNaN
    time_limit: float | None
    grace_s: float
    cwd: Path | None
    env: dict[str, str]
    echo: bool
    oom_probe: OOMProbe = field(default_factory=OOMProbe)


def supervise(
    command: Sequence[str],
    *,
    project: str | None = None,
    name: str | None = None,
    store: str | SQLStore | None = None,
    max_restarts: int = 5,
    checkpoints: str | None = None,
    resume_arg: str | None = "--resume {checkpoint}",
    seed_arg: str | None = "--seed {seed}",
    seeds: Sequence[int] = (),
    on_nan: str = "restart",
    time_limit: float | None = None,
    log_file: str | Path | None = None,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    echo: bool = True,
    grace_period: float = 10.0,
    params: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
    oom_probe: OOMProbe | None = None,
) -> SupervisedResult:
    """Run ``command`` under supervision as the run ``project``/``name`` (created here).

    The command gets ``DETLAB_RUN_ID``, ``DETLAB_STORE`` and ``DETLAB_SUPERVISOR_EVENTS`` in its
    environment, so ``detlab.init()`` inside it attaches to this run. After an abnormal end the
    reason is classified, the newest usable checkpoint found (``checkpoints`` glob, or those
    registered with ``run.log_checkpoint``), and the command started again with ``resume_arg``
    and ``seed_arg`` filled in; ``seeds`` gives the restarts' seeds in order (random ones after).
    With ``on_nan="stop"`` a non-finite loss ends the run as ``early_stopped``. After
    ``max_restarts`` restarts the run is marked failed with the last reason. ``time_limit``
    (seconds) applies to each attempt, as Kaggle's and Colab's limits do.
    """
    settings = _settings(
        command, max_restarts, checkpoints, resume_arg, seed_arg, seeds, on_nan, time_limit,
        cwd, env, echo, grace_period, oom_probe,
    )  # fmt: skip
    opened = store if isinstance(store, SQLStore) else open_store(store)
    project = resolve_setting("project", project, "default")
    name = name or _generated_name()
    url = sqlite_url_absolute(str(opened.url))
    ledger = RunLedger.create(
        opened, project, name, command=settings.command, params=params, tags=tags
    )
    log_path = Path(log_file) if log_file else Path(".detlab", "logs", project, f"{name}.log")
    return _Supervisor(settings, ledger, url, log_path).run()


def _settings(
    command: Sequence[str],
    max_restarts: int,
    checkpoints: str | None,
    resume_arg: str | None,
    seed_arg: str | None,
    seeds: Sequence[int],
    on_nan: str,
    time_limit: float | None,
    cwd: str | Path | None,
    env: Mapping[str, str] | None,
    echo: bool,
    grace_s: float,
    oom_probe: OOMProbe | None,
) -> _Settings:
    """Check every option before anything is created or started."""
    argv = [str(word) for word in command]
    if not argv:
        raise ConfigError("detlab run: no command given; put it after --, e.g. -- python train.py")
    _check_executable(argv[0], cwd, env)
    if max_restarts < 0:
        raise ConfigError(f"--max-restarts must be 0 or more, got {max_restarts}")
    if on_nan not in ("restart", "stop"):
        raise ConfigError(f"--on-nan must be restart or stop, got {on_nan!r}")
    if time_limit is not None and time_limit <= 0:
        raise ConfigError(f"--time-limit must be positive, got {time_limit:g} s")
    check_template("--resume-arg", resume_arg, "{checkpoint}")
    check_template("--seed-arg", seed_arg, "{seed}")
    bad = [s for s in seeds if not 0 <= int(s) <= _MAX_SEED]
    if bad:
        raise ConfigError(f"--seeds: {bad[0]} is not a seed between 0 and {_MAX_SEED}")
    return _Settings(
        command=argv,
        max_restarts=max_restarts,
        checkpoints=checkpoints or None,
        resume_arg=resume_arg or None,
        seed_arg=seed_arg or None,
        seeds=[int(s) for s in seeds],
        on_nan="stop" if on_nan == "stop" else "restart",
        time_limit=time_limit,
        grace_s=grace_s,
        cwd=Path(cwd) if cwd is not None else None,
        env=dict(os.environ if env is None else env),
        echo=echo,
        oom_probe=oom_probe or OOMProbe(),
    )


def _check_executable(program: str, cwd: str | Path | None, env: Mapping[str, str] | None) -> None:
    import shutil  # noqa: PLC0415

    path = (env or os.environ).get("PATH")
    if os.sep in program:
        candidate = Path(cwd or ".") / program
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            raise ConfigError(f"detlab run: command {program!r} is not an executable file")
    elif shutil.which(program, path=path) is None:
        raise ConfigError(f"detlab run: command {program!r} not found on PATH")


class _Supervisor:
    """The attempt loop for one run."""

    def __init__(self, settings: _Settings, ledger: RunLedger, url: str, log_path: Path) -> None:
        self.s = settings
        self.ledger = ledger
        self.url = url
        self.log_path = log_path
        self.restarts: list[RestartRecord] = []
        self.events = EventLog(Path(tempfile.mkdtemp(prefix="detlab-run-")) / "events.jsonl")
        self.child: Child | None = None
        self.interrupted: int | None = None
        self._rng = random.SystemRandom()

    def run(self) -> SupervisedResult:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        previous = self._install_signals()
        try:
            with self.log_path.open("ab") as log:
                self.ledger.log_artifact(self.log_path, kind="log")
                return self._loop(log)
        finally:
            self._restore_signals(previous)
            self.events.path.unlink(missing_ok=True)
            self.events.path.parent.rmdir()

    def _loop(self, log: BinaryIO) -> SupervisedResult:
        argv = self.s.command
        attempt = 0
        while True:
            attempt += 1
            end = self._attempt(argv, log)
            verdict = classify(end)
            if self.interrupted is not None:
                name = signal.Signals(self.interrupted).name
                return self._end(attempt, end, "crashed", Verdict("manual", f"stopped by {name}"))
            if verdict is None:
                return self._end(attempt, end, "finished", None)
            if verdict.reason == "nan" and self.s.on_nan == "stop":
                self.ledger.early_stop(_failure_step(end))
                return self._end(attempt, end, "early_stopped", verdict)
            if len(self.restarts) >= self.s.max_restarts:
                return self._end(attempt, end, "failed", verdict)
            argv = self._restart(verdict, end, log)

    def _attempt(self, argv: list[str], log: BinaryIO) -> AttemptEnd:
        env = {
            **self.s.env,
            ENV_RUN_ID: str(self.ledger.run_id),
            ENV_EVENTS: str(self.events.path),
            "DETLAB_STORE": self.url,
            "DETLAB_PROJECT": self.ledger.project,
        }
        self._say(log, f"attempt {len(self.restarts) + 1}: {shlex.join(argv)}")
        self.s.oom_probe.start()
        started = time.monotonic()
        child = self.child = Child(argv, env=env, cwd=self.s.cwd, log=log, echo=self.s.echo)
        failure, timed_out, stopped = None, False, False
        while child.poll() is None:
            failure = failure or _failure(self.events.read_new())
            over = self.s.time_limit is not None and time.monotonic() - started > self.s.time_limit
            if (failure is not None or over) and not stopped:
                timed_out, stopped = over and failure is None, True
                child.stop(self.s.grace_s)
            time.sleep(_POLL_S)
        code = child.wait()
        failure = failure or _failure(self.events.read_new())
        killed, evidence = self.s.oom_probe.check(child.pid)
        self.child = None
        return AttemptEnd(
            returncode=code,
            stderr_tail=child.stderr_tail,
            stdout_tail=child.stdout_tail,
            failure=failure,
            timed_out=timed_out,
            time_limit=self.s.time_limit,
            oom_killed=killed,
            oom_evidence=evidence,
            stopped_by_supervisor=stopped or self.interrupted is not None,
        )

    def _restart(self, verdict: Verdict, end: AttemptEnd, log: BinaryIO) -> list[str]:
        failed_at = _failure_step(end)
        candidates = find_checkpoints(self.s.checkpoints, self.events.checkpoints)
        before = failed_at if verdict.reason == "nan" else None
        checkpoint = newest_usable(candidates, before_epoch=before)
        seed = self._next_seed() if self.s.seed_arg else None
        detail = verdict.detail + self._checkpoint_note(checkpoint, candidates)
        epoch = (
            failed_at
            if failed_at is not None
            else _epoch_in_progress(self.ledger.last_step(), checkpoint)
        )
        record = RestartRecord(
            epoch=epoch,
            loaded_epoch=checkpoint.epoch if checkpoint else None,
            seed=seed,
            reason=verdict.reason,
            detail=detail,
            checkpoint=checkpoint.path if checkpoint else None,
        )
        self.restarts.append(record)
        self.ledger.add_restart(record)
        self._say(
            log,
            f"{verdict.reason} ({verdict.detail.splitlines()[0] if verdict.detail else ''}); "
            f"restart {len(self.restarts)} of {self.s.max_restarts}"
            + (f" from {checkpoint.path}" if checkpoint else " from scratch (no checkpoint)")
            + (f" with seed {seed}" if seed is not None else ""),
        )
        return restart_command(
            self.s.command,
            checkpoint=checkpoint.path if checkpoint else None,
            seed=seed,
            resume_arg=self.s.resume_arg,
            seed_arg=self.s.seed_arg,
        )

    def _checkpoint_note(self, checkpoint: Checkpoint | None, found: list[Checkpoint]) -> str:
        if checkpoint is not None:
            return ""
        if not self.s.resume_arg:
            return "; restarted from scratch (no --resume-arg)"
        if self.s.checkpoints and not found:
            return f"; restarted from scratch: {self.s.checkpoints!r} matched no file"
        return "; restarted from scratch: no usable checkpoint yet"

    def _next_seed(self) -> int:
        index = len(self.restarts)
        if index < len(self.s.seeds):
            return self.s.seeds[index]
        return self._rng.randint(0, _MAX_SEED)

    def _end(
        self, attempts: int, end: AttemptEnd, status: str, verdict: Verdict | None
    ) -> SupervisedResult:
        error = f"{verdict.reason}: {verdict.detail}" if verdict and status != "finished" else ""
        status = self.ledger.finish(status, error=error)
        exit_code = 0 if status in ("finished", "early_stopped") else _exit_status(end.returncode)
        if status == "failed" and self.s.max_restarts == 0:
            summary = "failed (--max-restarts 0: no restart allowed)"
        elif status == "failed":
            summary = f"gave up after {len(self.restarts)} restart(s)"
        else:
            summary = status
        with self.log_path.open("ab") as log:
            self._say(log, f"{summary}; run {self.ledger.project}/{self.ledger.name}")
        return SupervisedResult(
            project=self.ledger.project,
            name=self.ledger.name,
            run_id=self.ledger.run_id,
            status=status,
            exit_code=exit_code,
            attempts=attempts,
            restarts=tuple(self.restarts),
            reason=verdict.reason if verdict else None,
            detail=verdict.detail if verdict else "",
            log_file=self.log_path,
        )

    def _say(self, log: BinaryIO, message: str) -> None:
        line = f"detlab run: {message}\n"
        log.write(line.encode())
        log.flush()
        if self.s.echo:
            sys.stderr.write(line)
            sys.stderr.flush()

    # ------------------------------------------------------------------ signals

    def _install_signals(self) -> dict[int, Any]:
        import threading  # noqa: PLC0415

        if threading.current_thread() is not threading.main_thread():
            return {}
        previous: dict[int, Any] = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    def _restore_signals(self, previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Forward to the child and end the supervision once it has stopped."""
        self.interrupted = signum
        if self.child is not None:
            self.child.signal(signum)


def _failure(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((e for e in events if e.get("event") in ("nan", "fail")), None)


def _failure_step(end: AttemptEnd) -> int | None:
    step = end.failure.get("step") if end.failure else None
    return step if isinstance(step, int) and step >= 0 else None


def _epoch_in_progress(last_logged: int | None, checkpoint: Checkpoint | None) -> int | None:
    """The epoch a failure interrupted: one past the last step logged, else one past the
    newest checkpoint (a script without the SDK), else unknown."""
    if last_logged is not None:
        return last_logged + 1
    if checkpoint is not None and checkpoint.epoch is not None:
        return checkpoint.epoch + 1
    return None


def _exit_status(returncode: int) -> int:
    sig = signal_of(returncode)
    if returncode < 0 and sig is not None:
        return 128 + sig.value
    return returncode if returncode > 0 else 1
