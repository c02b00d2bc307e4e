"""The devkit's per-class detection files: round trip, pixel convention and located errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detlab.core.dataset import Annotations, Category, Dataset, Images
from detlab.core.predictions import Predictions
from detlab.data.formats import read_voc_detections, write_voc_detections
from detlab.errors import AnnotationParseError


@pytest.fixture
def dataset() -> Dataset:
    images = Images.build([4, 9], ["000004.jpg", "sub/000009.png"], [100, 100], [80, 80])
    categories = (Category(1, "plant"), Category(2, "pottedplant"))
    return Dataset(images, categories, Annotations.empty())


def test_round_trip_keeps_boxes_scores_and_classes(dataset: Dataset, tmp_path: Path) -> None:
    preds = Predictions.build(
        [4, 9, 4], [2, 1, 2], [[0, 0, 10, 20], [5.5, 6, 7, 8], [1, 2, 3, 4]], [0.9, 0.25, 0.9]
    )
    files = write_voc_detections(preds, dataset, tmp_path, split="test")
    assert sorted(p.name for p in files) == [
        "comp4_det_test_plant.txt",
        "comp4_det_test_pottedplant.txt",
    ]
    # the devkit's inclusive pixels: xmin = x + 1, xmax = x + w
    assert (tmp_path / "comp4_det_test_plant.txt").read_text() == "000009 0.25 6.5 7 12.5 14\n"
    back = read_voc_detections(tmp_path, dataset)
    # files are read in name order: plant, then pottedplant (longest class suffix wins)
    order = [1, 0, 2]
    np.testing.assert_array_equal(back.image_ids, preds.image_ids[order])
    np.testing.assert_array_equal(back.category_ids, preds.category_ids[order])
    np.testing.assert_array_equal(back.boxes, preds.boxes[order])
    np.testing.assert_array_equal(back.scores, preds.scores[order])


def test_every_bad_line_is_located(dataset: Dataset, tmp_path: Path) -> None:
    (tmp_path / "comp4_det_test_plant.txt").write_text(
        "000004 0.5 1 1 5 5\n000004 0.5 1 1 5\n000777 0.5 1 1 5 5\n000009 high 1 1 5 5\n"
    )
    (tmp_path / "comp4_det_test_tree.txt").write_text("000004 0.5 1 1 5 5\n")
    with pytest.raises(AnnotationParseError) as caught:
        read_voc_detections(tmp_path, dataset)
    found = {(Path(p.file).name, p.record, p.field) for p in caught.value.problems}
    assert found == {
        ("comp4_det_test_plant.txt", "line 2", ""),
        ("comp4_det_test_plant.txt", "line 3", "image"),
        ("comp4_det_test_plant.txt", "line 4", "score"),
        ("comp4_det_test_tree.txt", "", ""),
    }
    assert "000777" in str(caught.value.problems[1])


def test_missing_folder_is_named(dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(AnnotationParseError, match=r"no \.txt files"):
        read_voc_detections(tmp_path, dataset)
    with pytest.raises(AnnotationParseError, match="nowhere"):
        read_voc_detections(tmp_path / "nowhere", dataset)
