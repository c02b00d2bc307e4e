"""Pasted text: the pycocotools summary (seed 003) and mmdetection's per-class tables."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest

from detlab.errors import InvalidInputError
from detlab.importers import pasted

FIXTURES = Path(__file__).parents[2] / "fixtures" / "importers" / "pasted"
SEED_003 = FIXTURES / "soloassign_ml_3x_seed003.txt"
README_TABLE = FIXTURES / "faster_rcnn_voc2007_readme.md"


def test_summary_of_seed_003() -> None:
    (run,) = pasted.parse(SEED_003)
    assert run.name == "soloassign_ml_3x_seed003"
    assert run.best("val/AP") == (0.338, 1)
    assert run.metrics["val/APl"] == [(1, 0.509)]
    assert run.metrics["val/AR100"] == [(1, 0.446)]
    (evaluation,) = run.evaluations
    assert evaluation.protocol == "coco_summary"
    assert evaluation.data["stats"]["AR1"] == 0.284


def test_voc_table_from_a_readme() -> None:
    (run,) = pasted.parse(README_TABLE)
    assert run.best("val/VOCmAP") == (0.726, 1)
    assert run.metrics["val/AP/person"] == [(1, 0.835)]
    assert len(run.evaluations[0].data["classes"]) == 20


def test_two_summaries_are_two_steps_and_undefined_is_nan() -> None:
    text = SEED_003.read_text()
    small = "area= small | maxDets=100 ] = "
    second = text.replace("= 0.338", "= 0.293").replace(small + "0.132", small + "-1.000")
    run = pasted.parse_text(text + "\nsome notes\n" + second, Path("log.md"), name="solo")
    assert run.metrics["val/AP"] == [(1, 0.338), (2, 0.293)]
    assert math.isnan(run.metrics["val/APs"][1][1])


def test_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(README_TABLE.read_text()))
    (run,) = pasted.parse(pasted.STDIN)
    assert run.best("val/VOCmAP") == (0.726, 1)


def test_text_without_any_table_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match="no pycocotools summary"):
        pasted.parse_text("just notes\n", Path("notes.md"), name="x")
