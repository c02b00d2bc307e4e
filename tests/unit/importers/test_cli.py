"""``detlab import`` as a user runs it: a real process, its exit code and its streams."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from detlab.store import open_store
from tests.unit.cli.test_datasets_cli import detlab

FIXTURES = Path(__file__).parents[2] / "fixtures" / "importers"
MMDET2 = FIXTURES / "mmdet2"
SEED_003 = FIXTURES / "pasted" / "soloassign_ml_3x_seed003.txt"


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def test_import_prints_a_table_and_problems_and_exits_0(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(MMDET2, tmp_path / "work_dirs"))
    url = _url(tmp_path)
    out = tmp_path / "summary.json"
    done = detlab("import", folder, "--store", url, "--project", "urpc", "--json", out)
    assert done.returncode == 0, done.stderr
    assert "cascade_rcnn_r50_fpn_1x_urpc (new)" in done.stdout
    assert "val/AP 0.4310 @ 3" in done.stdout
    assert "val/VOCmAP 0.7017 @ 3" in done.stdout
    assert "manual@3" in done.stdout
    assert "20200303_101500.log.json: line 9: not valid JSON" in done.stderr
    summary = json.loads(out.read_text())
    assert [s["name"] for s in summary] == [
        "cascade_rcnn_r50_fpn_1x_urpc",
        "faster_rcnn_r50_fpn_1x_voc0712",
        "mmcv_runner_resumed",
    ]
    again = detlab("import", folder, "--store", url, "--project", "urpc", "--json", out)
    assert again.returncode == 0
    assert all(s["points_added"] == 0 and not s["created"] for s in json.loads(out.read_text()))


def test_unknown_folder_exits_1_with_one_line_listing_formats(tmp_path: Path) -> None:
    done = detlab("import", tmp_path, "--store", _url(tmp_path))
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("detlab: error: ")
    for name in ("mmdet2", "mmengine", "detectron2", "pasted"):
        assert name in line


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    url = _url(tmp_path)
    assert detlab("import", "-", "--store", url).returncode == 2  # stdin needs --name
    several = detlab("import", MMDET2, "--name", "x", "--store", url)
    assert several.returncode == 2
    assert "--name" in several.stderr
    assert detlab("import", MMDET2, "--source", "caffe", "--store", url).returncode == 2


def test_standard_input_with_a_name_and_dry_run(tmp_path: Path) -> None:
    url = _url(tmp_path)
    command = [sys.executable, "-m", "detlab", "import", "-", "--name", "solo3x", "--store", url]
    env = {"COLUMNS": "200", "PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    dry = subprocess.run([*command, "--dry-run"], input=SEED_003.read_text(),
                         capture_output=True, text=True, env=env, check=False)  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert "Would import" in dry.stdout
    with open_store(url) as store:
        assert store.projects() == []
    done = subprocess.run(command, input=SEED_003.read_text(),
                          capture_output=True, text=True, env=env, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with open_store(url) as store:
        value, step = store.best("imported", "solo3x", "val/AP")
    assert (value, step) == (0.338, 1)
