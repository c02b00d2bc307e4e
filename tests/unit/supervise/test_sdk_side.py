"""The training script's side: attaching to the supervised run, checkpoints, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

import detlab
from detlab.errors import ConfigError, InvalidInputError, NotFoundError
from detlab.sdk import supervision


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lab.db'}"


@pytest.fixture(autouse=True)
def _unclaimed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervision, "_claimed", False)
    monkeypatch.delenv(supervision.ENV_RUN_ID, raising=False)
    monkeypatch.delenv(supervision.ENV_EVENTS, raising=False)


def test_first_init_attaches_to_the_supervised_run(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with detlab.init(project="sup", name="made-by-supervisor", store=url) as made:
        made.log({"val/AP50": 0.5}, step=0)
    monkeypatch.setenv(supervision.ENV_RUN_ID, str(made.id))
    run = detlab.init(
        project="other",
        name="script-name",
        params={"lr": 0.01},
        store=url,
        baselines={"baseline": "r0"},
    )
    assert (run.project, run.name, run.id, run.segment) == ("sup", "made-by-supervisor", made.id, 0)
    run.log({"val/AP50": 0.6})  # continues after the last step logged
    run.finish()
    second = detlab.init(project="other", name="second", store=url)
    assert second.name == "second"  # only the first init of a process attaches
    second.finish()
    store = detlab.open_store(url)
    assert store.history("sup", "made-by-supervisor", "val/AP50").steps.tolist() == [0, 1]
    record = store.run("sup", "made-by-supervisor")
    assert record.params == {"lr": 0.01}
    assert record.baselines == {"baseline": "r0"}


def test_bad_run_id(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(supervision.ENV_RUN_ID, "abc")
    with pytest.raises(ConfigError, match="DETLAB_RUN_ID='abc'"):
        detlab.init(project="sup", store=url)
    monkeypatch.setattr(supervision, "_claimed", False)
    monkeypatch.setenv(supervision.ENV_RUN_ID, "999")
    with pytest.raises(NotFoundError, match="no run with id 999"):
        detlab.init(project="sup", store=url)


def test_checkpoints_and_failures(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = tmp_path / "events.jsonl"
    monkeypatch.setenv(supervision.ENV_EVENTS, str(events))
    run = detlab.init(project="sup", name="r", store=url, flush_interval=600)
    with pytest.raises(InvalidInputError, match=r"'missing.pth' \(epoch 3\) is not a file"):
        run.log_checkpoint("missing.pth", 3)
    checkpoint = tmp_path / "epoch_3.pth"
    checkpoint.write_bytes(b"weights")
    run.log({"train/loss": 0.5}, step=3)
    run.log_checkpoint(checkpoint, 3)
    store = detlab.open_store(url)
    # the points queued before the checkpoint are written with it: a SIGKILL now loses none
    assert store.history("sup", "r", "train/loss").steps.tolist() == [3]
    run.log({"train/loss_cls": float("inf"), "val/AP": float("nan")}, step=4)
    with pytest.raises(InvalidInputError, match=r"run\.fail\(reason='exploded'\)"):
        run.fail("exploded")
    run.fail("nan", "loss exploded")
    lines = events.read_text().splitlines()
    assert [line.split('"event": ')[1].split('"')[1] for line in lines] == [
        "checkpoint",
        "nan",
        "fail",
    ]
    assert '"key": "train/loss_cls"' in lines[1]  # val/AP is not a loss
    assert store.run("sup", "r").status == "failed"
    assert store.run("sup", "r").error == "nan: loss exploded"
    [artifact] = store.children("sup", "r")["artifacts"]
    assert (artifact.kind, artifact.size, artifact.sha256) == ("checkpoint", 7, None)
    assert artifact.uri == checkpoint.resolve().as_uri()
