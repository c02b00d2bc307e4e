"""Frameworks' own evaluation tables (imported logs, pasted text, integrations) in reports."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import detlab
from detlab.core.runs import EvaluationRecord
from detlab.importers.registry import parse_path
from detlab.importers.write import write_run
from detlab.report.build import ReportOptions, build_document
from detlab.report.collect import collect_project
from detlab.report.framework_tables import framework_table
from detlab.report.markdown import render_markdown
from detlab.report.messages import Messages
from detlab.sdk.integrations._common import PerClassTable
from detlab.store.sql.store import SQLStore
from tests.unit.cli.test_datasets_cli import detlab as run_detlab

FIXTURES = Path(__file__).parents[2] / "fixtures" / "importers"
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _report(store: SQLStore, project: str, source: Path) -> str:
    for run in parse_path(source):
        write_run(store, run, project=project)
    data = collect_project(store, project)
    return render_markdown(build_document(data, ReportOptions(plots=False, now=T0)))


def test_mmdetection_voc_table_is_shown_as_printed(store: SQLStore) -> None:
    md = _report(store, "voc", FIXTURES / "mmdet2" / "faster_rcnn_r50_fpn_1x_voc0712")
    assert "Per-class results as mmdetection printed them (epoch 3" in md
    assert "IoU 0.50, mAP 0.702" in md
    assert "| class | \\#GT | \\#det | recall | AP |" in md
    assert "| aeroplane | 48 | 212 | 0.917 | 0.781 |" in md


def test_mmdetection_classwise_table_keeps_its_last_evaluation(store: SQLStore) -> None:
    md = _report(store, "urpc", FIXTURES / "mmdet2" / "cascade_rcnn_r50_fpn_1x_urpc")
    section = md[md.index("Per-class results as mmdetection printed them") :]
    assert "| class | AP |" in section
    for name in ("holothurian", "echinus", "scallop", "starfish"):
        assert f"| {name} | " in section
    assert "| None |" not in section  # the table's padding cells are not classes


def test_a_pasted_summary_prints_the_twelve_lines_once(store: SQLStore) -> None:
    md = _report(store, "solo", FIXTURES / "pasted" / "soloassign_ml_3x_seed003.txt")
    assert "COCO evaluation as pycocotools printed it (epoch 1, soloassign_ml_3x_seed003" in (
        md.replace("\\_", "_")
    )
    assert (
        md.count("Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.338")
        == 1
    )
    assert "Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.624" in md


def test_an_integration_table_with_its_summary(store: SQLStore) -> None:
    table = PerClassTable(
        "ultralytics",
        [
            {
                "category_id": 0,
                "name": "person",
                "ap": 0.412,
                "ap50": 0.701,
                "precision": 0.8,
                "recall": 0.6,
                "num_gt": 120,
                "num_images": 40,
                "ap75": 0.43,
            },
            {"category_id": 3, "name": "car", "ap": 0.25, "ap50": 0.5, "num_gt": 7},
        ],
        {"precision": 0.8, "recall": 0.6, "ap50": 0.6, "ap": 0.331},
        note="final validation of best.pt",
    )
    with detlab.init(project="yolo", name="y8n", store=store) as run:
        run.log({"val/AP50": 0.6}, step=10)
        run.log_evaluation(table, step=10)
    md = render_markdown(
        build_document(collect_project(store, "yolo"), ReportOptions(plots=False, now=T0))
    )
    assert (
        "Per-class results as ultralytics printed them (epoch 10, final validation of best.pt)"
        in md
    )
    assert "ap 0.331" in md
    assert "| class | AP | AP50 | AP75 | P | R | \\#GT | \\#images |" in md
    assert "| person | 0.412 | 0.701 | 0.430 | 0.800 | 0.600 | 120 | 40 |" in md
    assert "| car | 0.250 | 0.500 | - | - | - | 7 | - |" in md


def _record(data: dict[str, Any], step: int | None = 2) -> EvaluationRecord:
    return EvaluationRecord(step, "per_class_table", "", data, T0, 0)


def test_detectron2_percentages_and_nan_stay_as_printed() -> None:
    data = {
        "format": "detectron2_per_category",
        "task": "bbox",
        "classes": {"apple": {"AP": 45.123}, "banana": {"AP": float("nan")}},
        "source": "log.txt line 9",
    }
    table = framework_table(_record(data), Messages("en"))
    assert table is not None
    assert (
        table.caption
        == "Per-class results as detectron2 printed them (epoch 2, log.txt line 9); bbox"
    )
    assert [[c.plain for c in row] for row in table.rows] == [["apple", "45.123"], ["banana", "-"]]


@pytest.mark.parametrize(
    "data",
    [
        {"format": "somebody_elses", "classes": {"a": {"AP": 1.0}}},
        {"format": "mmdet_voc_table", "classes": "not rows"},
        {"format": "mmdet_coco_classwise", "classes": {}},
        {"format": "detlab.per_class_table_result", "per_class": []},
    ],
)
def test_unknown_or_empty_tables_are_left_out(data: dict[str, Any]) -> None:
    assert framework_table(_record(data), Messages("en")) is None


def test_runs_show_prints_the_framework_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    voc = FIXTURES / "mmdet2" / "faster_rcnn_r50_fpn_1x_voc0712"
    pasted = FIXTURES / "pasted" / "soloassign_ml_3x_seed003.txt"
    for source in (voc, pasted):
        done = run_detlab("import", source, "--store", url, "--project", "p")
        assert done.returncode == 0, done.stderr
    shown = run_detlab("runs", "show", "faster_rcnn_r50_fpn_1x_voc0712", "-p", "p", "--store", url)
    assert shown.returncode == 0, shown.stderr
    assert "evaluation (per_class_table, val/) at step 3" in shown.stdout
    row = next(line for line in shown.stdout.splitlines() if "aeroplane" in line)
    assert [c.strip() for c in row.split("│")[1:-1]] == ["aeroplane", "48", "212", "0.917", "0.781"]
    shown = run_detlab("runs", "show", "soloassign_ml_3x_seed003", "-p", "p", "--store", url)
    assert shown.returncode == 0, shown.stderr
    assert "Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.624" in (
        shown.stdout
    )
