from __future__ import annotations

from pathlib import Path

import pytest

from detlab.data.formats import write_voc
from detlab.data.io import detect_format, read_dataset, write_dataset
from detlab.data.synthetic import make_sequential_dataset
from detlab.errors import InvalidInputError
from tests.support import assert_datasets_equal


def test_detects_each_format(tmp_path: Path) -> None:
    ds = make_sequential_dataset(num_sequences=1, frames_per_sequence=2)
    write_voc(ds, tmp_path / "VOC2007")
    (tmp_path / "yolo" / "labels").mkdir(parents=True)
    assert detect_format(tmp_path / "x.json") == "coco"
    assert detect_format(tmp_path / "data.yaml") == "yolo"
    assert detect_format(tmp_path / "VOC2007") == "voc"
    assert detect_format(tmp_path) == "voc"  # a VOCdevkit-like folder holding VOC2007
    assert detect_format(tmp_path / "yolo") == "yolo"


def test_unknown_folder_lists_what_detlab_reads(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"cannot tell the dataset format.*Pascal VOC"):
        detect_format(tmp_path)
    with pytest.raises(InvalidInputError, match="no such file"):
        detect_format(tmp_path / "missing")


def test_coco_folder_output_is_named_after_the_split(tmp_path: Path) -> None:
    ds = make_sequential_dataset(num_sequences=1, frames_per_sequence=2)
    out = write_dataset(ds, tmp_path, "coco", split="val")
    assert out == tmp_path / "val.json"
    assert_datasets_equal(ds, read_dataset(out))
