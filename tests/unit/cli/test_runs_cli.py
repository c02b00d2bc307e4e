"""``detlab runs`` and ``detlab db``, run as a user runs them: a real process, its exit code and
streams, against a store filled in-process with the SDK."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import create_engine, text

import detlab
from detlab.metrics.params import COCOParams
from detlab.metrics.result import COCOResult
from detlab.store import open_store
from tests.unit.cli.test_datasets_cli import detlab as run_detlab

PROJECT = "voc-yolo"
AP50_LINE = " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.600"


def coco_result() -> COCOResult:
    """A COCO result with known stats (the arrays do not matter to the CLI)."""
    stats = np.array([0.45, 0.6, 0.5, -1, 0.3, 0.5, 0.4, 0.5, 0.55, -1, 0.35, 0.6])
    precision = np.zeros((10, 101, 1, 4, 3))
    recall = np.zeros((10, 1, 4, 3))
    return COCOResult(COCOParams.build(), precision, recall, precision, stats, (1,), (), 1)


def fill(url: str, tmp: Path) -> None:
    """Three runs: a baseline, a restarted AdamW run with an evaluation, one that crashed."""
    baseline_params = {"optimizer": {"name": "sgd", "lr": 0.01}, "epochs": 3, "amp": False}
    with detlab.init(PROJECT, "baseline", params=baseline_params, tags=["r18"], store=url) as run:
        for epoch in range(3):
            run.log({"val/AP50": 0.5 + 0.01 * epoch, "train/loss": 2.0 - 0.1 * epoch}, step=epoch)
    adamw_params = {"optimizer": {"name": "adamw", "lr": 0.001}, "epochs": 3, "amp": True}
    with detlab.init(
        PROJECT,
        "adamw",
        params={**adamw_params, "ema": True},
        tags=["r18", "adamw"],
        parent="baseline",
        baselines={"baseline": "baseline"},
        purpose="try AdamW",
        store=url,
    ) as run:
        for epoch in range(3):
            run.log({"val/AP50": 0.55 + 0.02 * epoch, "train/loss": 1.8 - 0.2 * epoch}, step=epoch)
        run.restart(epoch=2, loaded_epoch=1, seed=7, reason="nan", detail="loss went NaN")
        run.log({"val/AP50": 0.6}, step=2)
        run.log_evaluation(coco_result(), step=2)
        run.submit("kaggle-public", 0.612, note="first try")
        checkpoint = tmp / "best.pt"
        checkpoint.write_bytes(b"weights")
        run.log_artifact(checkpoint, kind="checkpoint")
        run.log_dataset({"num_images": 10}, name="voc07-val", role="val")
        run.note(conclusion="AdamW helps")
    run = detlab.init(
        PROJECT, "crashed-one", params={"optimizer": {"name": "sgd", "lr": 0.02}}, store=url
    )
    run.log({"val/AP50": 0.4}, step=0)
    run.finish("crashed", error="CUDA error")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store shared by the read-only tests."""
    tmp = tmp_path_factory.mktemp("lab")
    url = f"sqlite:///{tmp / 'lab.db'}"
    fill(url, tmp)
    return url


@pytest.fixture
def scratch(tmp_path: Path) -> str:
    """A store of its own for tests that change it."""
    url = f"sqlite:///{tmp_path / 'scratch.db'}"
    with open_store(url) as store:
        for name in ("keep", "drop-1", "drop-2"):
            detlab.init(PROJECT, name, params={"lr": 0.1}, store=store).finish()
    return url


def cli(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_detlab(*args, env={"DETLAB_STORE": url, **env})


def cli_json(url: str, *args: str) -> Any:
    result = cli(url, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def cli_many(url: str, calls: Sequence[Sequence[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Several independent invocations at once (each process spends most of its time starting)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda args: cli(url, *args), calls))


def run_names(url: str) -> list[str]:
    with open_store(url) as store:
        return [r.name for r in store.runs(PROJECT)]


# ---------------------------------------------------------------------- ls


LS_FILTERS = [
    (("--tag", "r18", "--status", "finished"), ["baseline", "adamw"]),
    (("--param", "optimizer.lr=0.01", "--param", "amp=false"), ["baseline"]),
    (("--param", "amp=true", "--param", "optimizer.name=adamw"), ["adamw"]),
    (("--where", "val/AP50>=0.55"), ["adamw"]),
    # two conditions on one key: the highest value above 0.45, the lowest below 0.55
    (("--where", "val/AP50>0.45", "--where", "val/AP50<0.55"), ["baseline"]),
]


def test_ls_lists_runs_oldest_first_with_best_values(lab: str) -> None:
    calls = [["runs", "ls", *args, "--metric", "val/AP50", "--json"] for args, _ in LS_FILTERS]
    table, *results = cli_many(lab, [["runs", "ls", "--metric", "val/AP50"], *calls])
    assert table.returncode == 0, table.stderr
    rows = table.stdout.splitlines()[3:6]  # title, header, rule, then one line per run
    assert [row.split()[0] for row in rows] == ["baseline", "adamw", "crashed-one"]
    cells = re.split(r"\s{2,}", rows[1].strip())  # adamw: every cell filled
    name, status, created, took, tags, parent, restarts, best = cells
    assert (name, status, tags, parent, restarts, best) == (
        "adamw",
        "finished",
        "adamw, r18",
        "baseline",
        "1",
        "0.6000@2",
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", created)  # local time, to the minute
    assert re.fullmatch(r"\d+s", took)
    assert rows[2].split()[1] == "crashed"
    assert "best val/AP50 (max)" in table.stdout
    assert "3 run(s)" in table.stdout
    outputs = []
    for (args, expected), result in zip(LS_FILTERS, results, strict=True):
        assert result.returncode == 0, (args, result.stderr)
        outputs.append(json.loads(result.stdout))
        assert [r["name"] for r in outputs[-1]["runs"]] == expected, args
    adamw = outputs[3]["runs"][0]
    assert adamw["best"] == {"key": "val/AP50", "value": 0.6, "step": 2}
    assert adamw["params"]["optimizer.name"] == "adamw"
    assert adamw["tags"] == ["adamw", "r18"]
    assert datetime.fromisoformat(adamw["created"]).tzinfo is not None
    assert adamw["duration_s"] >= 0


# ---------------------------------------------------------------------- show


def test_show_prints_everything_about_a_run(lab: str) -> None:
    result, as_json = cli_many(
        lab, [["runs", "show", "adamw"], ["runs", "show", "adamw", "--json"]]
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "voc-yolo / adamw",
        "finished",
        "purpose: try AdamW",
        "conclusion: AdamW helps",
        "baseline: baseline",
        "optimizer.name",
        "loss went NaN",
        AP50_LINE,
        "kaggle-public",
        "best.pt",
        "voc07-val",
    ):
        assert expected in out, expected
    metric_row = next(line for line in out.splitlines() if "│ val/AP50 " in line)
    assert [cell.strip() for cell in metric_row.split("│")[2:7]] == [
        "0.6000",
        "2",
        "0.6000",
        "2",
        "3",
    ]
    assert as_json.returncode == 0, as_json.stderr
    out = json.loads(as_json.stdout)
    assert out["run"]["name"] == "adamw"
    assert out["run"]["segment"] == 1
    assert datetime.fromisoformat(out["run"]["ended"]) >= datetime.fromisoformat(
        out["run"]["started"]
    )
    metrics = {m["key"]: m for m in out["metrics"]}
    assert metrics["val/AP50"] == {
        "key": "val/AP50",
        "last": {"value": 0.6, "step": 2},
        "best": {"value": 0.6, "step": 2},
        "steps": 3,
    }
    assert metrics["val/APs"]["last"]["value"] is None  # NaN (undefined AP) is null
    assert metrics["val/APs"]["best"] is None
    (restart,) = out["restarts"]
    assert (restart["epoch"], restart["loaded_epoch"], restart["seed"]) == (2, 1, 7)
    assert (restart["reason"], restart["detail"]) == ("nan", "loss went NaN")
    (evaluation,) = out["evaluations"]
    assert (evaluation["step"], evaluation["protocol"]) == (2, "coco")
    assert len(evaluation["summary_lines"]) == 12
    assert evaluation["summary_lines"][1] == AP50_LINE
    assert evaluation["metrics"]["AP50"] == 0.6
    assert out["submissions"][0]["board"] == "kaggle-public"
    assert out["artifacts"][0]["kind"] == "checkpoint"
    assert out["datasets"][0]["stats"] == {"num_images": 10}


# ---------------------------------------------------------------------- diff, compare


def test_diff_shows_changed_params_and_best_values(lab: str) -> None:
    table, as_json = cli_many(
        lab,
        [["runs", "diff", "baseline", "adamw"], ["runs", "diff", "baseline", "adamw", "--json"]],
    )
    assert table.returncode == 0, table.stderr
    rows = {line.split("│")[1].strip(): line for line in table.stdout.splitlines() if "│" in line}
    assert [cell.strip() for cell in rows["ema"].split("│")[2:4]] == ["—", "true"]
    assert "sgd" in rows["optimizer.name"]
    assert "adamw" in rows["optimizer.name"]
    assert "epochs" not in rows  # the same in both
    assert "+8.00" in rows["val/AP50"]
    out = json.loads(as_json.stdout)
    params = {p["key"]: p for p in out["params"]}
    assert params["ema"] == {"key": "ema", "a": None, "b": True, "missing": ["a"]}
    assert params["amp"] == {"key": "amp", "a": False, "b": True, "missing": []}
    assert set(params) == {"amp", "ema", "optimizer.lr", "optimizer.name"}
    metrics = {m["key"]: m for m in out["metrics"]}
    assert metrics["val/AP50"]["points"] == 8.0
    assert metrics["val/AP50"]["b"] == {"value": 0.6, "step": 2}


def test_compare_runs_side_by_side(lab: str) -> None:
    args = ["runs", "compare", "baseline", "adamw", "crashed-one", "--metric", "val/AP50"]
    table, as_json = cli_many(lab, [args, [*args, "--json"]])
    assert table.returncode == 0, table.stderr
    rows = {line.split("│")[1].strip(): line for line in table.stdout.splitlines() if "│" in line}
    assert [cell.strip() for cell in rows["best"].split("│")[2:5]] == ["0.5200", "0.6000", "0.4000"]
    assert "+8.00" in rows["Δ (pp)"]
    assert "-12.00" in rows["Δ (pp)"]
    assert "epochs" in rows  # crashed-one has none
    out = json.loads(as_json.stdout)
    assert [(r["name"], r["best"]["step"], r["points"]) for r in out["runs"]] == [
        ("baseline", 2, 0.0),
        ("adamw", 2, 8.0),
        ("crashed-one", 0, -12.0),
    ]
    params = {p["key"]: p for p in out["params"]}
    assert set(params) == {"amp", "ema", "epochs", "optimizer.lr", "optimizer.name"}
    assert params["optimizer.lr"]["values"] == {
        "baseline": 0.01,
        "adamw": 0.001,
        "crashed-one": 0.02,
    }
    assert params["ema"]["missing"] == ["baseline", "crashed-one"]


# ---------------------------------------------------------------------- errors


def test_unknown_run_or_project_is_one_line_and_exit_1(lab: str) -> None:
    show, diff, project = cli_many(
        lab,
        [["runs", "show", "nope"], ["runs", "diff", "baseline", "nope"], ["runs", "ls", "-p", "x"]],
    )
    for result in (show, diff):
        assert result.returncode == 1
        assert result.stderr == "detlab: error: no run 'nope' in project 'voc-yolo'\n"
        assert result.stdout == ""
    assert project.returncode == 1
    assert project.stderr == "detlab: error: no project 'x' in the store (projects: voc-yolo)\n"


USAGE_ERRORS = [
    (("runs", "ls", "--where", "val/AP50~0.5"), "--where"),
    (("runs", "ls", "--mode", "best"), "--mode"),
    (("runs", "ls", "--param", "lr"), "--param"),
    (("runs", "compare", "baseline", "--metric", "val/AP50"), "at least two runs"),
    (("db", "upgrade", "--revision", "nope"), "'nope'"),
]


def test_usage_errors_exit_2(lab: str) -> None:
    for (args, message), result in zip(
        USAGE_ERRORS, cli_many(lab, [args for args, _ in USAGE_ERRORS]), strict=True
    ):
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, args
        assert "Traceback" not in result.stderr


def test_project_defaults_to_the_only_one_or_must_be_named(scratch: str) -> None:
    with open_store(scratch) as store:
        detlab.init("other", "x", store=store).finish()
    ambiguous = cli(scratch, "runs", "ls")
    assert ambiguous.returncode == 2
    assert "2 projects (other, voc-yolo)" in ambiguous.stderr
    assert "--project" in ambiguous.stderr
    from_env = cli(scratch, "runs", "ls", "--json", DETLAB_PROJECT="other")
    assert [r["name"] for r in json.loads(from_env.stdout)["runs"]] == ["x"]


# ---------------------------------------------------------------------- tag, rm


def test_tag_adds_and_removes(scratch: str) -> None:
    assert cli_json(scratch, "runs", "tag", "keep", "best", "r50")["tags"] == ["best", "r50"]
    assert cli_json(scratch, "runs", "tag", "keep", "r50", "--remove")["tags"] == ["best"]
    with open_store(scratch) as store:
        assert store.run(PROJECT, "keep").tags == ("best",)


def test_rm_without_yes_and_without_a_terminal_deletes_nothing(scratch: str) -> None:
    result = cli(scratch, "runs", "rm", "drop-1")
    assert result.returncode == 1
    assert "pass --yes" in result.stderr
    assert run_names(scratch) == ["keep", "drop-1", "drop-2"]


def test_rm_with_yes_deletes_only_when_every_run_exists(scratch: str) -> None:
    missing = cli(scratch, "runs", "rm", "drop-1", "nope", "--yes")
    assert missing.returncode == 1
    assert "no run 'nope'" in missing.stderr
    assert run_names(scratch) == ["keep", "drop-1", "drop-2"]
    assert cli_json(scratch, "runs", "rm", "drop-1", "drop-2", "--yes")["deleted"] == [
        "drop-1",
        "drop-2",
    ]
    assert run_names(scratch) == ["keep"]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize(("answer", "deleted"), [("y", True), ("n", False)], ids=["yes", "no"])
def test_rm_asks_on_a_terminal(scratch: str, answer: str, deleted: bool) -> None:
    import pty

    main, terminal = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "detlab", "runs", "rm", "drop-1"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"DETLAB_STORE": scratch, "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    ) as process:
        os.close(terminal)
        os.write(main, f"{answer}\n".encode())
        _, stderr = process.communicate(timeout=60)
    os.close(main)
    assert "Delete 1 run(s) from voc-yolo (drop-1)" in stderr
    assert process.returncode == (0 if deleted else 1)
    assert ("drop-1" not in run_names(scratch)) is deleted


# ---------------------------------------------------------------------- db


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'lab.db'}"
    first = cli(url, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{url}: revision none -> 0002\n"
    again = cli(url, "db", "upgrade", "--store", url)
    assert again.stdout == f"{url}: already at 0002\n"
    assert cli_json(url, "db", "current") == {
        "store": url,
        "revision": "0002",
        "head": "0002",
        "unversioned": False,
    }
    with open_store(url) as store:  # the upgraded store opens
        assert store.projects() == []


def test_db_commands_open_a_store_the_others_refuse(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    open_store(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    current, upgrade, ls = cli_many(
        url, [["db", "current"], ["db", "upgrade"], ["runs", "ls", "-p", PROJECT]]
    )
    assert current.returncode == 0, current.stderr
    assert "revision 9999 (unknown to this detlab" in current.stdout
    assert upgrade.returncode == 1
    assert "newer detlab" in upgrade.stderr
    assert ls.returncode == 1
    assert "schema revision 9999" in ls.stderr
