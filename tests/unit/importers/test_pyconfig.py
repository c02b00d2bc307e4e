"""The AST config reader: literal structure evaluated, everything else kept as text, nothing run."""

from __future__ import annotations

from pathlib import Path

from detlab.importers.pyconfig import read_python_config


def test_dicts_calls_spreads_and_names() -> None:
    text = (
        "norm = dict(mean=[1.0, 2.0], to_rgb=True)\n"
        "pipeline = [dict(type='Normalize', **norm), {'type': 'Pad', **{'size': 32}}]\n"
        "scale = (1080, 920)\n"
        "lr = 0.01 * 2\n"
        "steps = [8] + [11]\n"
        "neg = -1\n"
    )
    cfg = read_python_config(text)
    assert cfg.values["pipeline"] == [
        {"type": "Normalize", "mean": [1.0, 2.0], "to_rgb": True},
        {"type": "Pad", "size": 32},
    ]
    assert cfg.values["scale"] == (1080, 920)
    assert cfg.values["lr"] == 0.02
    assert cfg.values["steps"] == [8, 11]
    assert cfg.values["neg"] == -1


def test_unsupported_expressions_are_kept_as_source_text() -> None:
    cfg = read_python_config("data = dict(n=len(x) * 12, ids=range(0, 1), f=open('a').read())\n")
    assert cfg.values["data"] == {"n": "len(x) * 12", "ids": "range(0, 1)", "f": "open('a').read()"}


def test_base_files_are_listed_not_followed() -> None:
    cfg = read_python_config("_base_ = ['../a.py', '../b.py']\nx = 1\n")
    assert cfg.bases == ["../a.py", "../b.py"]
    single = read_python_config("_base_ = '../a.py'\n")
    assert single.bases == ["../a.py"]
    new_style = read_python_config("with read_base():\n    from .._base_.models.rtm import *\n")
    assert new_style.bases == ["_base_.models.rtm"]


def test_nothing_in_the_file_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\nx = 1\n"
    cfg = read_python_config(text)
    assert not marker.exists()
    assert cfg.values == {"x": 1}


def test_invalid_python_is_a_warning_naming_the_line() -> None:
    cfg = read_python_config("a = 1\nb = dict(\n", "cfg.py")
    assert cfg.values == {}
    (problem,) = cfg.problems
    assert problem.severity == "warning"
    assert problem.file == "cfg.py"
    assert problem.record.startswith("line ")
