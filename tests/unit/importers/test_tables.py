"""Evaluation tables found in text: the pycocotools summary, VOC and per-category tables."""

from __future__ import annotations

from detlab.importers.tables import find_class_tables, find_coco_summaries, find_voc_tables

SUMMARY = """\
 Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.293
 Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.497
 Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.303
 Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000
 Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.326
 Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.447
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.259
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.393
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.413
 Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.202
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.465
 Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.571
"""


def test_summary_blocks_are_split_at_each_ap_line() -> None:
    lines = (SUMMARY + "# " + SUMMARY.replace("\n", "\n# ")).splitlines()
    first, second = find_coco_summaries(lines)
    assert first.values["AP"] == 0.293
    assert first.values["APs"] == -1.0
    assert first.values["AR100"] == 0.413
    assert len(first.values) == 12
    assert second.line == 12
    assert second.values == first.values


def test_voc_table_with_its_iou_threshold_and_map() -> None:
    text = """\
---------------iou_thr: 0.5---------------
+-------+-----+------+--------+-------+
| class | gts | dets | recall | ap    |
+-------+-----+------+--------+-------+
| cat   | 10  | 20   | 0.900  | 0.800 |
| dog   | 5   | 8    | 0.600  | 0.500 |
+-------+-----+------+--------+-------+
| mAP   |     |      |        | 0.650 |
+-------+-----+------+--------+-------+
"""
    (table,) = find_voc_tables(text.splitlines())
    assert table.iou_thr == 0.5
    assert table.mean_ap == 0.65
    assert table.classes[1] == {"name": "dog", "gts": 5, "dets": 8, "recall": 0.6, "ap": 0.5}


def test_paired_and_row_category_tables() -> None:
    paired = """\
| category | AP    | category | AP    |
|:---------|:------|:---------|:------|
| date     | 79.74 | fig      | 64.29 |
| hazelnut | 83.29 | None     | None  |
"""
    (table,) = find_class_tables(paired.splitlines())
    assert table.values == {"date": {"AP": 79.74}, "fig": {"AP": 64.29}, "hazelnut": {"AP": 83.29}}
    rows = "| category | mAP | mAP_50 |\n| person | 0.5 | 0.8 |\n"
    (table,) = find_class_tables(rows.splitlines())
    assert table.values == {"person": {"mAP": 0.5, "mAP_50": 0.8}}
