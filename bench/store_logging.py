"""Recording runs: detlab's store and SDK against MLflow and Aim, measured in the same run.

Five scenarios, each measurement in a fresh process with a fresh temporary store (a SQLite file
for detlab, the same as MLflow's ``sqlite:///`` tracking URI; Aim its own repository):

1. 100,000 points (20 metrics x 5,000 steps): detlab ``run.log`` once per step, final flush
   (``run.finish``) included; MLflow ``log_metric`` once per point and ``log_batch`` once per
   step (20 metrics a call), Aim ``run.track`` once per point. The peers are measured on a
   subset of the steps and extrapolated per point (the table says which).
2. A fresh store ready to use, from imports to an empty store (Python start excluded).
3. 200 runs created with 50 parameters each (detlab ``init`` + ``finish``).
4. Listing 1,000 runs with their best ``val/AP50`` (20 points each, set up once, untimed);
   MLflow's ``search_runs`` as the peer (it gives each run's latest value, not its best).
5. 8 processes x 10,000 points into one fresh store, released at once by a barrier: errors
   and points stored (the peers once: whether they survive, not how fast).

MLflow and Aim are not detlab dependencies: on first use the bench creates one virtual
environment per peer under ``bench/.peers-store-venv/`` and runs their measurements there with
that environment's Python; a peer that fails to install is reported unavailable and skipped.

    python bench/store_logging.py --repeats 3
    python bench/store_logging.py --quick --skip-peers   # smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
PEER_ROOT = SCRIPT.parent / ".peers-store-venv"
#: pip requirement, import name and distribution name of each peer (the issue measured 3.17).
PEERS = {"mlflow": ("mlflow==3.17.*", "mlflow", "mlflow"), "aim": ("aim", "aim", "aim")}
LABELS = {"detlab": "detlab", "mlflow": "MLflow", "aim": "Aim"}
RESULT = "RESULT "
CHILD_TIMEOUT_S = 1800
#: Peers phone home by default; the bench has no network to spare.
CHILD_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONWARNINGS": "ignore"}


@dataclass(frozen=True)
class Sizes:
    metrics: int = 20
    steps: int = 5_000
    mlflow_metric_steps: int = 100  # log_metric: 2,000 points, extrapolated
    mlflow_batch_steps: int = 500  # log_batch: 10,000 points, extrapolated
    aim_steps: int = 500  # run.track: 10,000 points, extrapolated
    runs: int = 200
    params: int = 50
    aim_runs: int = 50  # Aim takes 50-200 ms a run: extrapolated
    listed: int = 1_000
    listed_points: int = 20
    procs: int = 8
    proc_points: int = 10_000


FULL = Sizes()
QUICK = Sizes(
    steps=500,
    mlflow_metric_steps=10,
    mlflow_batch_steps=50,
    aim_steps=50,
    runs=20,
    aim_runs=5,
    listed=100,
    procs=4,
    proc_points=1_000,
)


# ====================================================================== children (any venv)
# Everything below runs in a fresh process, with detlab's Python or a peer's: stdlib only at
# module level; the measured library is imported inside the function that measures it.


def _rows(n_metrics: int, n_steps: int) -> list[dict[str, float]]:
    keys = [f"train/metric_{j:02d}" for j in range(n_metrics)]
    return [{k: 1.0 / (step + 1) + j for j, k in enumerate(keys)} for step in range(n_steps)]


def _params(n: int, seed: int = 0) -> dict[str, Any]:
    kinds: list[Callable[[int], Any]] = [
        lambda j: 10.0**-j,
        lambda j: j * 16,
        lambda j: f"choice-{j}",
        lambda j: j % 2 == 0,
    ]
    out: dict[str, Any] = {f"group{j % 5}.param_{j:02d}": kinds[j % 4](j) for j in range(n)}
    out["group0.param_00"] = seed
    return out


def _ap(run: int, step: int) -> float:
    return ((run * 37 + step * 11) % 100) / 100


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _describe(exc: BaseException) -> str:
    """An exception in one line; where it was raised when it carries no message."""
    import traceback

    text = str(exc).strip().splitlines()
    if text:
        return f"{type(exc).__name__}: {text[0]}"
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno} ({frame.line})"


def _url(work: Path, name: str) -> str:
    return f"sqlite:///{work / name}"


# ---------------------------------------------------------------------- detlab


def detlab_log(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    import detlab

    url = _url(work, "detlab.db")
    run = detlab.init(project="bench", name="log", store=url)
    rows = _rows(cfg["metrics"], cfg["steps"])
    started = time.perf_counter()
    for step, metrics in enumerate(rows):
        run.log(metrics, step=step)
    logged = time.perf_counter()
    run.finish()
    ended = time.perf_counter()
    store = detlab.open_store(url)
    in_history = sum(len(store.history("bench", "log", key)) for key in rows[0])
    return {
        "seconds": ended - started,
        "log_seconds": logged - started,
        "finish_seconds": ended - logged,
        "calls": len(rows),
        "points": len(rows) * len(rows[0]),
        "stored": _count(work / "detlab.db", "metrics"),
        "in_history": in_history,
    }


def detlab_params(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    import detlab

    store = detlab.open_store(_url(work, "detlab.db"))
    params = [_params(cfg["params"], seed=i) for i in range(cfg["runs"])]
    started = time.perf_counter()
    for i, p in enumerate(params):
        detlab.init(project="bench", name=f"run-{i:04d}", params=p, store=store).finish()
    ended = time.perf_counter()
    db = work / "detlab.db"
    return {"seconds": ended - started, "runs": _count(db, "runs"), "params": _count(db, "params")}


def detlab_list_setup(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    import detlab

    store = detlab.open_store(_url(work, "detlab.db"))
    for i in range(cfg["listed"]):
        run = detlab.init(project="bench", name=f"run-{i:04d}", params=_params(5, i), store=store)
        for step in range(cfg["listed_points"]):
            run.log({"val/AP50": _ap(i, step)}, step=step)
        run.finish()
    return {"points": _count(work / "detlab.db", "metrics")}


def detlab_list(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    import detlab

    store = detlab.open_store(_url(work, "detlab.db"))
    opened = time.perf_counter()
    records = store.runs("bench", metric="val/AP50", mode="max")
    ended = time.perf_counter()
    best = max(_ap(0, s) for s in range(cfg["listed_points"]))
    return {
        "open_seconds": opened - started,
        "seconds": ended - opened,
        "runs": len(records),
        "with_metric": sum(r.best is not None for r in records),
        "correct": records[0].best is not None and records[0].best.value == best,
    }


def detlab_worker(cfg: dict[str, Any], work: Path, index: int, barrier: Any) -> dict[str, Any]:
    import logging

    import detlab

    class Count(logging.Handler):
        n = 0

        def emit(self, record: logging.LogRecord) -> None:
            Count.n += 1

    logging.getLogger("detlab").addHandler(Count(logging.WARNING))
    rows = _rows(cfg["metrics"], cfg["proc_points"] // cfg["metrics"])
    barrier.wait()
    started = time.time()
    error = None
    try:
        run = detlab.init(project="bench", name=f"worker-{index}", store=_url(work, "store.db"))
        for step, metrics in enumerate(rows):
            run.log(metrics, step=step)
        run.finish()
    except Exception as exc:  # noqa: BLE001  (counted and reported)
        error = _describe(exc)
    return {"started": started, "ended": time.time(), "error": error, "retries": Count.n}


# ---------------------------------------------------------------------- MLflow


def _mlflow(work: Path, name: str = "mlflow.db") -> Any:
    import mlflow

    mlflow.set_tracking_uri(_url(work, name))
    mlflow.set_experiment("bench")
    return mlflow


def mlflow_log_metric(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    mlflow = _mlflow(work)
    mlflow.start_run(run_name="log")
    rows = _rows(cfg["metrics"], cfg["steps"])
    started = time.perf_counter()
    for step, metrics in enumerate(rows):
        for key, value in metrics.items():
            mlflow.log_metric(key, value, step=step)
    mlflow.end_run()
    ended = time.perf_counter()
    points = len(rows) * len(rows[0])
    stored = _count(work / "mlflow.db", "metrics")
    return {"seconds": ended - started, "calls": points, "points": points, "stored": stored}


def mlflow_log_batch(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    mlflow = _mlflow(work)
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient()
    run_id = mlflow.start_run(run_name="log").info.run_id
    rows = _rows(cfg["metrics"], cfg["steps"])
    started = time.perf_counter()
    for step, metrics in enumerate(rows):
        stamp = int(time.time() * 1000)
        batch = [Metric(key, value, stamp, step) for key, value in metrics.items()]
        client.log_batch(run_id, metrics=batch)
    mlflow.end_run()
    ended = time.perf_counter()
    points = len(rows) * len(rows[0])
    stored = _count(work / "mlflow.db", "metrics")
    return {"seconds": ended - started, "calls": len(rows), "points": points, "stored": stored}


def mlflow_params(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    mlflow = _mlflow(work)
    params = [_params(cfg["params"], seed=i) for i in range(cfg["runs"])]
    started = time.perf_counter()
    for i, p in enumerate(params):
        with mlflow.start_run(run_name=f"run-{i:04d}"):
            mlflow.log_params(p)
    ended = time.perf_counter()
    db = work / "mlflow.db"
    return {"seconds": ended - started, "runs": _count(db, "runs"), "params": _count(db, "params")}


def mlflow_list_setup(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    mlflow = _mlflow(work)
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient()
    for i in range(cfg["listed"]):
        with mlflow.start_run(run_name=f"run-{i:04d}") as run:
            mlflow.log_params(_params(5, i))
            stamp = int(time.time() * 1000)
            points = [Metric("val/AP50", _ap(i, s), stamp, s) for s in range(cfg["listed_points"])]
            client.log_batch(run.info.run_id, metrics=points)
    return {"points": _count(work / "mlflow.db", "metrics")}


def mlflow_list(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=_url(work, "mlflow.db"))
    experiment = client.get_experiment_by_name("bench")
    opened = time.perf_counter()
    runs = client.search_runs([experiment.experiment_id], max_results=cfg["listed"])
    ended = time.perf_counter()
    return {
        "open_seconds": opened - started,
        "seconds": ended - opened,
        "runs": len(runs),
        "with_metric": sum("val/AP50" in r.data.metrics for r in runs),
    }


def mlflow_worker(cfg: dict[str, Any], work: Path, index: int, barrier: Any) -> dict[str, Any]:
    import mlflow

    rows = _rows(cfg["metrics"], cfg["proc_points"] // cfg["metrics"])
    barrier.wait()
    started = time.time()
    error = None
    try:
        mlflow.set_tracking_uri(_url(work, "store.db"))
        mlflow.set_experiment("bench")
        with mlflow.start_run(run_name=f"worker-{index}"):
            for step, metrics in enumerate(rows):
                mlflow.log_metrics(metrics, step=step)  # one log_batch call per step
    except Exception as exc:  # noqa: BLE001  (counted and reported)
        error = _describe(exc)
    return {"started": started, "ended": time.time(), "error": error, "retries": 0}


# ---------------------------------------------------------------------- Aim


def _aim_run(work: Path) -> Any:
    from aim import Run

    # No system-metrics thread, no terminal capture: only what the bench logs.
    return Run(
        repo=str(work / "aim"),
        experiment="bench",
        system_tracking_interval=None,
        capture_terminal_logs=False,
    )


def aim_log(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    from aim import Repo

    Repo.from_path(str(work / "aim"), init=True)
    run = _aim_run(work)
    rows = _rows(cfg["metrics"], cfg["steps"])
    started = time.perf_counter()
    for step, metrics in enumerate(rows):
        for key, value in metrics.items():
            run.track(value, name=key, step=step)
    run.close()
    ended = time.perf_counter()
    points = len(rows) * len(rows[0])
    stored = _aim_counted(work)["points"]
    return {"seconds": ended - started, "calls": points, "points": points, "stored": stored}


def _aim_counted(work: Path) -> dict[str, Any]:
    """Aim reads finished runs from an index its UI builds: rebuild it and count, elsewhere."""
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--child", "aim", "count", "{}", str(work)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **CHILD_ENV},
    )
    return _parse(out.stdout)


def aim_count(_cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    import contextlib
    import io

    from aim import Repo

    with contextlib.redirect_stderr(io.StringIO()):
        Repo.from_path(str(work / "aim"))._recreate_index()  # what 'aim storage reindex' does
    repo = Repo(str(work / "aim"))
    points = sum(len(m.values.values_list()) for m in repo.query_metrics("", report_mode=0).iter())
    return {"points": points, "runs": len(repo.list_all_runs())}


def aim_params(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    from aim import Repo

    Repo.from_path(str(work / "aim"), init=True)
    params = [_params(cfg["params"], seed=i) for i in range(cfg["runs"])]
    started = time.perf_counter()
    for p in params:
        run = _aim_run(work)
        run["hparams"] = p
        run.close()
    ended = time.perf_counter()
    return {"seconds": ended - started, "runs": len(Repo(str(work / "aim")).list_all_runs())}


def aim_worker(cfg: dict[str, Any], work: Path, index: int, barrier: Any) -> dict[str, Any]:
    import aim  # noqa: F401

    rows = _rows(cfg["metrics"], cfg["proc_points"] // cfg["metrics"])
    barrier.wait()
    started = time.time()
    error = None
    try:
        run = _aim_run(work)
        run.name = f"worker-{index}"
        for step, metrics in enumerate(rows):
            for key, value in metrics.items():
                run.track(value, name=key, step=step)
        run.close()
    except Exception as exc:  # noqa: BLE001  (counted and reported)
        error = _describe(exc)
    return {"started": started, "ended": time.time(), "error": error, "retries": 0}


# ---------------------------------------------------------------------- concurrent writers


def _worker_main(
    tool: str, cfg: dict[str, Any], work: str, index: int, barrier: Any, q: Any
) -> None:
    try:
        result = globals()[f"{tool}_worker"](cfg, Path(work), index, barrier)
    except Exception as exc:  # noqa: BLE001  (a worker that dies before logging is an error too)
        result = {"started": None, "ended": None, "error": _describe(exc)}
    q.put(result)


def concurrent(tool: str, cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    """``procs`` spawned processes, each its own run, released together by a barrier."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    n = cfg["procs"]
    barrier, q = ctx.Barrier(n, timeout=600), ctx.Queue()
    procs = [
        ctx.Process(target=_worker_main, args=(tool, cfg, str(work), i, barrier, q))
        for i in range(n)
    ]
    for p in procs:
        p.start()
    results = [q.get(timeout=CHILD_TIMEOUT_S) for _ in procs]
    for p in procs:
        p.join()
    errors = [r["error"] for r in results if r["error"]]
    starts = [r["started"] for r in results if r["started"] is not None]
    ends = [r["ended"] for r in results if r["ended"] is not None]
    if tool == "aim":
        stored = _aim_counted(work)["points"]
    else:
        try:
            stored = _count(work / "store.db", "metrics")
        except sqlite3.Error:
            stored = 0
    return {
        "seconds": max(ends) - min(starts) if starts else float("nan"),
        "errors": len(errors),
        "messages": sorted(set(errors))[:3],
        "retries": sum(r.get("retries", 0) for r in results),
        "stored": stored,
        "points": n * cfg["proc_points"],
    }


def child(tool: str, scenario: str, cfg: dict[str, Any], work: Path) -> None:
    if scenario == "concurrent":
        result = concurrent(tool, cfg, work)
    else:
        result = globals()[f"{tool}_{scenario}"](cfg, work)
    print(RESULT + json.dumps(result), flush=True)


# A fresh store is timed from a bare ``python -c`` with nothing imported before the clock starts.
FRESH_CODE = """
import sys, time
tool, work = sys.argv[1], sys.argv[2]
started = time.perf_counter()
loaded = None
if tool == "detlab":
    import detlab
    imported = time.perf_counter()
    import detlab.store.sql.store  # what open_store imports on first use: SQLAlchemy, the models
    loaded = time.perf_counter()
    detlab.open_store(f"sqlite:///{work}/detlab.db")
elif tool == "mlflow":
    import mlflow
    from mlflow import MlflowClient
    imported = time.perf_counter()
    MlflowClient(tracking_uri=f"sqlite:///{work}/mlflow.db").create_experiment("bench")
else:
    from aim import Repo
    imported = time.perf_counter()
    Repo.from_path(f"{work}/aim", init=True)
ended = time.perf_counter()
import json
out = {"import_seconds": imported - started, "create_seconds": ended - imported}
if loaded is not None:
    out["schema_seconds"] = ended - loaded
print("RESULT " + json.dumps(out))
"""


# ====================================================================== parent (detlab's venv)


def _parse(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT)]
    return json.loads(lines[-1][len(RESULT) :])


def _reason(text: str) -> str:
    """The telling line of a failed command's output."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and "is ignored" not in ln]
    errors = [ln for ln in lines if ln.startswith("ERROR") or "Error" in ln]
    return (errors or lines or ["no output"])[-1][:200]


def peer_python(name: str) -> tuple[str | None, str]:
    """The peer's venv Python, installing it on first use; else None and why."""
    spec, module, dist = PEERS[name]
    venv = PEER_ROOT / name
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    marker = venv / "installed.txt"
    if not (marker.is_file() and marker.read_text().splitlines()[:1] == [spec]):
        print(f"installing {spec} into {venv.relative_to(SCRIPT.parent.parent)} ...", flush=True)
        try:
            if not python.exists():
                subprocess.run(
                    [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True
                )
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", spec],
                check=True,
                capture_output=True,
                text=True,
                timeout=1800,
            )
        except subprocess.CalledProcessError as exc:
            return None, f"unavailable: {_reason(str(exc.stderr or exc.stdout or exc))}"
        except subprocess.TimeoutExpired:
            return None, "unavailable: pip install timed out"
    probe = subprocess.run(
        [
            str(python),
            "-c",
            f"import importlib.metadata as m, {module}; print(m.version({dist!r}))",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **CHILD_ENV},
    )
    if probe.returncode != 0:
        marker.unlink(missing_ok=True)
        return None, f"unavailable: {_reason(probe.stderr)}"
    version = probe.stdout.strip().splitlines()[-1]
    marker.write_text(f"{spec}\n{version}\n")
    return str(python), version


def run_child(
    python: str, tool: str, scenario: str, cfg: dict[str, Any], work: Path
) -> dict[str, Any]:
    """One measurement in a fresh process, in ``work`` (its store and its working folder)."""
    work.mkdir(parents=True, exist_ok=True)
    command = [python, str(SCRIPT), "--child", tool, scenario, json.dumps(cfg), str(work)]
    if scenario == "fresh":
        command = [python, "-c", FRESH_CODE, tool, str(work)]
    try:
        out = subprocess.run(
            command,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
            env={**os.environ, **CHILD_ENV},
        )
    except subprocess.TimeoutExpired:
        return {"failed": f"timed out after {CHILD_TIMEOUT_S} s"}
    if out.returncode != 0 or RESULT not in out.stdout:
        return {"failed": _reason(out.stderr or out.stdout)}
    return _parse(out.stdout)


def median(runs: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else float("nan")


def failure(runs: list[dict[str, Any]]) -> str | None:
    failed = [r["failed"] for r in runs if "failed" in r]
    return failed[0] if failed else None


def fmt_time(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} µs"


class Bench:
    def __init__(self, sizes: Sizes, repeats: int, pythons: dict[str, str], root: Path) -> None:
        self.sizes, self.repeats, self.pythons, self.root = sizes, repeats, pythons, root
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.targets: list[tuple[str, str, bool | None]] = []
        self.notes: list[str] = []
        self._n = 0

    def work(self, tool: str, scenario: str) -> Path:
        self._n += 1
        return self.root / f"{self._n:03d}-{tool}-{scenario}"

    def measure(
        self, jobs: dict[str, tuple[str, str, dict[str, Any]]], repeats: int | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Each job ``key: (tool, scenario, config)`` ``repeats`` times, alternating jobs, each
        in a fresh process with a fresh store."""
        results: dict[str, list[dict[str, Any]]] = {key: [] for key in jobs}
        for _ in range(repeats or self.repeats):
            for key, (tool, scenario, cfg) in jobs.items():
                work = self.work(tool, scenario)
                results[key].append(run_child(self.pythons[tool], tool, scenario, cfg, work))
                shutil.rmtree(work, ignore_errors=True)
        return results

    def row(self, scenario: str, what: str, time_: str, unit: str, note: str = "") -> None:
        self.rows.append((scenario, what, time_, unit, note))

    def target(self, text: str, measured: str, ok: bool | None) -> None:
        self.targets.append((text, measured, ok))

    # ------------------------------------------------------------------ 1. logging points

    def logging(self) -> None:
        s = self.sizes
        base = {"metrics": s.metrics}
        jobs = {"detlab": ("detlab", "log", {**base, "steps": s.steps})}
        if "mlflow" in self.pythons:
            jobs["mlflow:log_metric"] = (
                "mlflow",
                "log_metric",
                {**base, "steps": s.mlflow_metric_steps},
            )
            jobs["mlflow:log_batch"] = (
                "mlflow",
                "log_batch",
                {**base, "steps": s.mlflow_batch_steps},
            )
        if "aim" in self.pythons:
            jobs["aim"] = ("aim", "log", {**base, "steps": s.aim_steps})
        results = self.measure(jobs)
        scenario = f"1. log {s.metrics * s.steps:,} points ({s.metrics} x {s.steps:,} steps)"
        per_call: dict[str, float] = {}
        per_point: dict[str, float] = {}
        for key, runs in results.items():
            self._logging_row(scenario, key, runs, per_call, per_point)
            scenario = ""
        if len(per_point) > 1:
            self.row("", "* measured on that many points, extrapolated per point", "", "", "")
        self._logging_targets(results["detlab"], per_call, per_point)

    def _logging_row(
        self,
        scenario: str,
        key: str,
        runs: list[dict[str, Any]],
        per_call: dict[str, float],
        per_point: dict[str, float],
    ) -> None:
        total = self.sizes.metrics * self.sizes.steps
        what = {
            "detlab": "detlab run.log per step (+ finish)",
            "mlflow:log_metric": "MLflow log_metric per point",
            "mlflow:log_batch": f"MLflow log_batch per step ({self.sizes.metrics}/call)",
            "aim": "Aim run.track per point",
        }[key]
        if failure(runs):
            self.row(scenario, what, "failed", failure(runs) or "")
            return
        seconds, calls, points = median(runs, "seconds"), runs[0]["calls"], runs[0]["points"]
        per_call[key], per_point[key] = seconds / calls, seconds / points
        shown = fmt_time(seconds)
        if points != total:
            shown, what = f"~{fmt_time(per_point[key] * total)}*", f"{what} *{points:,} pts"
        unit = f"{fmt_time(per_call[key])}/call  {fmt_time(per_point[key])}/point"
        if key == "detlab":
            note = (
                f"log {fmt_time(median(runs, 'log_seconds'))} + "
                f"finish {fmt_time(median(runs, 'finish_seconds'))}"
            )
        elif "detlab" in per_point:
            note = (
                f"detlab {per_call[key] / per_call['detlab']:,.0f}x/call, "
                f"{per_point[key] / per_point['detlab']:,.0f}x/point faster"
            )
        else:
            note = ""
        if any(r["stored"] != r["points"] for r in runs):
            note += f"  STORED {min(r['stored'] for r in runs):,}!"
        self.row(scenario, what, shown, unit, note)

    def _logging_targets(
        self, runs: list[dict[str, Any]], per_call: dict[str, float], per_point: dict[str, float]
    ) -> None:
        d, m, b = (
            per_call.get("detlab"),
            per_call.get("mlflow:log_metric"),
            per_point.get("mlflow:log_batch"),
        )
        text = "1a. detlab >= 100x faster than MLflow log_metric per call"
        if d and m:
            ratio_point = per_point["mlflow:log_metric"] / per_point["detlab"]
            self.target(
                text, f"{m / d:,.1f}x per call ({ratio_point:,.0f}x per point)", m / d >= 100
            )
        else:
            self.target(text, "n/a", None)
        text = "1b. detlab >= 10x faster than MLflow log_batch per point"
        if d and b:
            ratio = b / per_point["detlab"]
            self.target(text, f"{ratio:,.1f}x", ratio >= 10)
        else:
            self.target(text, "n/a", None)
        expected = self.sizes.metrics * self.sizes.steps
        stored = sorted({(r["stored"], r["in_history"]) for r in runs if "stored" in r})
        self.target(
            f"1c. store holds exactly {expected:,} points after finish",
            ", ".join(f"SQL count {a:,}, history lengths {b:,}" for a, b in stored) or "failed",
            bool(stored) and all(a == b == expected for a, b in stored),
        )

    # ------------------------------------------------------------------ 2. fresh store

    def fresh(self) -> None:
        results = self.measure({tool: (tool, "fresh", {}) for tool in self.pythons})
        scenario = "2. fresh store ready"
        what = {
            "detlab": "detlab: import detlab | open_store(new file)",
            "mlflow": "MLflow: import mlflow | MlflowClient + create_experiment",
            "aim": "Aim: import aim | Repo.from_path(init=True)",
        }
        created: dict[str, float] = {}
        for tool, runs in results.items():
            if failure(runs):
                self.row(scenario, what[tool], "failed", failure(runs) or "")
                scenario = ""
                continue
            imp, cre = median(runs, "import_seconds"), median(runs, "create_seconds")
            total = statistics.median(r["import_seconds"] + r["create_seconds"] for r in runs)
            created[tool] = cre
            note = ""
            if tool != "detlab" and "detlab" in created:
                note = f"detlab {cre / created['detlab']:,.1f}x faster (create only)"
            unit = f"import {fmt_time(imp)}  create {fmt_time(cre)}"
            if tool == "detlab":
                unit += f" (schema {fmt_time(median(runs, 'schema_seconds'))})"
            self.row(scenario, what[tool], fmt_time(total), unit, note)
            scenario = ""
        runs = results["detlab"]
        if failure(runs):
            self.target("2a. detlab fresh store < 0.3 s (create only)", "failed", False)
            self.target("2b. import detlab < 0.2 s", "failed", False)
            return
        cre, imp = median(runs, "create_seconds"), median(runs, "import_seconds")
        schema = median(runs, "schema_seconds")
        measured = (
            f"{fmt_time(cre)}: imports open_store triggers {fmt_time(cre - schema)}, "
            f"engine + schema {fmt_time(schema)}"
        )
        self.target("2a. detlab fresh store < 0.3 s (create only)", measured, cre < 0.3)
        self.target("2b. import detlab < 0.2 s", fmt_time(imp), imp < 0.2)

    # ------------------------------------------------------------------ 3. runs with params

    def params(self) -> None:
        s = self.sizes
        cfgs = {
            tool: {"runs": s.aim_runs if tool == "aim" else s.runs, "params": s.params}
            for tool in self.pythons
        }
        results = self.measure({tool: (tool, "params", cfg) for tool, cfg in cfgs.items()})
        scenario = f"3. {s.runs} runs x {s.params} params"
        what = {
            "detlab": "detlab init(params=...) + finish",
            "mlflow": "MLflow start_run + log_params + end_run",
            "aim": "Aim Run() + run['hparams'] = ... + close",
        }
        per_run: dict[str, float] = {}
        for tool, runs in results.items():
            label = what[tool]
            if failure(runs):
                self.row(scenario, label, "failed", failure(runs) or "")
                scenario = ""
                continue
            n = cfgs[tool]["runs"]
            per_run[tool] = median(runs, "seconds") / n
            shown = fmt_time(per_run[tool] * s.runs)
            if n != s.runs:
                shown, label = f"~{shown}*", f"{label} *{n} runs"
            note = ""
            if tool != "detlab" and "detlab" in per_run:
                note = f"detlab {per_run[tool] / per_run['detlab']:,.0f}x faster"
            if any(r["runs"] != n for r in runs):
                note += f"  RUNS {min(r['runs'] for r in runs)}!"
            self.row(scenario, label, shown, f"{fmt_time(per_run[tool])}/run", note)
            scenario = ""
        runs = results["detlab"]
        seconds = median(runs, "seconds")
        ok = not failure(runs) and all(r["params"] == s.runs * s.params for r in runs)
        self.target(
            f"3. detlab {s.runs} runs x {s.params} params < 1 s",
            fmt_time(seconds),
            ok and seconds < 1,
        )

    # ------------------------------------------------------------------ 4. listing runs

    def listing(self) -> None:
        s = self.sizes
        cfg = {"listed": s.listed, "listed_points": s.listed_points}
        scenario = f"4. list {s.listed:,} runs with best val/AP50"
        what = {
            "detlab": "detlab store.runs(metric=..., mode='max')",
            "mlflow": "MLflow search_runs (latest value, not best)",
        }
        seconds: dict[str, float] = {}
        for tool in (t for t in self.pythons if t in what):
            work = self.work(tool, "list")
            setup = run_child(self.pythons[tool], tool, "list_setup", cfg, work)
            runs = []
            if "failed" not in setup:
                runs = [
                    run_child(self.pythons[tool], tool, "list", cfg, work)
                    for _ in range(self.repeats)
                ]
            shutil.rmtree(work, ignore_errors=True)
            if "failed" in setup or failure(runs):
                self.row(scenario, what[tool], "failed", setup.get("failed") or failure(runs) or "")
                scenario = ""
                continue
            seconds[tool] = median(runs, "seconds")
            note = f"open {fmt_time(median(runs, 'open_seconds'))}"
            if tool != "detlab" and "detlab" in seconds:
                note += f"; detlab {seconds[tool] / seconds['detlab']:,.1f}x faster"
            if any(r["runs"] != s.listed or r["with_metric"] != s.listed for r in runs):
                note += f"  LISTED {min(r['with_metric'] for r in runs)}!"
            unit = f"{fmt_time(seconds[tool] / s.listed)}/run"
            self.row(scenario, what[tool], fmt_time(seconds[tool]), unit, note)
            scenario = ""
            if tool == "detlab":
                ok = all(r["runs"] == r["with_metric"] == s.listed and r["correct"] for r in runs)
                self.target(
                    f"4. detlab list {s.listed:,} runs with best < 0.5 s",
                    fmt_time(seconds[tool]),
                    ok and seconds[tool] < 0.5,
                )
        if "aim" in self.pythons:
            self.row("", "Aim: not measured (reads runs from an index its UI rebuilds)", "", "", "")

    # ------------------------------------------------------------------ 5. concurrent writers

    def concurrent(self) -> None:
        s = self.sizes
        cfg = {"metrics": s.metrics, "procs": s.procs, "proc_points": s.proc_points}
        total = s.procs * s.proc_points
        scenario = f"5. {s.procs} procs x {s.proc_points:,} points, one fresh store"
        what = {
            "detlab": "detlab run.log per step",
            "mlflow": "MLflow log_metrics (log_batch) per step",
            "aim": "Aim run.track per point",
        }
        for tool in self.pythons:
            # Peers once: the scenario asks whether they survive, not how fast.
            job = {tool: (tool, "concurrent", cfg)}
            runs = self.measure(job, None if tool == "detlab" else 1)[tool]
            if failure(runs):
                self.row(scenario, what[tool], "failed", failure(runs) or "")
                scenario = ""
                continue
            errors = sum(r["errors"] for r in runs)
            stored = min(r["stored"] for r in runs)
            unit = f"errors {errors}  stored {stored:,}/{total:,}"
            note = f"{len(runs)} run(s)"
            retries = sum(r["retries"] for r in runs)
            if retries:
                note += f", {retries} retried writes"
            messages = sorted({m for r in runs for m in r["messages"]})
            if messages:
                note += f"; {messages[0].split(':')[0]} (below)"
                self.notes.append(f"5. {LABELS[tool]}'s first error: {messages[0][:160]}")
            self.row(scenario, what[tool], fmt_time(median(runs, "seconds")), unit, note)
            scenario = ""
            if tool == "detlab":
                ok = errors == 0 and all(r["stored"] == total for r in runs)
                self.target(
                    f"5. {s.procs} procs: 0 errors, {total:,} points stored",
                    f"{errors} errors, {stored:,} points (min of {len(runs)})",
                    ok,
                )

    # ------------------------------------------------------------------ output

    def report(self) -> None:
        head = ("tool / call", "time", "per unit", "ratio / note")
        rows = [r[1:] for r in self.rows]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
        line = "  " + "  ".join(f"{{:<{w}}}" for w in widths)
        print()
        print(line.format(*head).rstrip())
        for scenario, *row in self.rows:
            if scenario:
                print(scenario)
            print(line.format(*row).rstrip())
        for note in self.notes:
            print(note)
        print()
        width = max(len(t[0]) for t in self.targets)
        for text, measured, ok in self.targets:
            verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
            print(f"{text:<{width}}  {verdict:<4}  {measured}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--skip-peers", action="store_true", help="detlab only")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per figure")
    parser.add_argument("--child", nargs=4, metavar=("TOOL", "SCENARIO", "CONFIG", "WORK"))
    args = parser.parse_args()
    if args.child:
        tool, scenario, cfg, work = args.child
        child(tool, scenario, json.loads(cfg), Path(work))
        return
    sizes = QUICK if args.quick else FULL
    pythons = {"detlab": sys.executable}
    versions = {}
    if not args.skip_peers:
        for name in PEERS:
            python, version = peer_python(name)
            versions[name] = version
            if python:
                pythons[name] = python
    from importlib.metadata import version as dist_version

    peers = ", ".join(f"{LABELS[n]} {v}" for n, v in versions.items()) or "skipped"
    print(f"detlab {dist_version('detlab')} (Python {sys.version.split()[0]}); peers: {peers}")
    print(f"sizes: {'quick' if args.quick else 'full'}; median of {args.repeats} fresh processes")
    with tempfile.TemporaryDirectory(prefix="detlab-store-bench-") as tmp:
        bench = Bench(sizes, args.repeats, pythons, Path(tmp))
        for part in (bench.logging, bench.fresh, bench.params, bench.listing, bench.concurrent):
            part()
            print(f"  done: {part.__name__}", flush=True)
    bench.report()
    if args.quick:
        print("(quick sizes: the targets are set for the full sizes)")


if __name__ == "__main__":
    main()
