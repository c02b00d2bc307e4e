"""Split files naming images by path, file name, stem or id."""

from __future__ import annotations

from pathlib import Path

import pytest

from detlab.core import Annotations, Category, Dataset, Images
from detlab.data.image_lists import match_image_list, read_image_list
from detlab.errors import InvalidInputError


@pytest.fixture
def ds() -> Dataset:
    images = Images.build(
        [11, 12, 13, 14, 15],
        ["train/a.jpg", "train/b.jpg", "val/a.jpg", "000005.jpg", "odd_name.png"],
        [10] * 5,
        [10] * 5,
        extra=[None, None, None, None, {"stem": "2008_000123"}],
    )
    return Dataset(images, (Category(1, "x"),), Annotations.empty(), source="ds.json")


@pytest.mark.parametrize(
    ("entry", "image_id"),
    [
        pytest.param("train/a.jpg", 11, id="file-name"),
        pytest.param("/data/set/images/train/a.jpg", 11, id="absolute-yolo-path"),
        pytest.param("./images/val/a.jpg", 13, id="relative-yolo-path"),
        pytest.param("b.jpg", 12, id="unique-base-name"),
        pytest.param("000005", 14, id="voc-stem"),
        pytest.param("train/b", 12, id="path-without-extension"),
        pytest.param("b.png", 12, id="other-extension"),
        pytest.param("2008_000123", 15, id="kept-voc-stem"),
        pytest.param("15", 15, id="image-id"),
        pytest.param("C:\\data\\train\\b.jpg", 12, id="windows-path"),
    ],
)
def test_entry_spellings(ds: Dataset, entry: str, image_id: int) -> None:
    assert match_image_list(ds, [entry]).tolist() == [image_id]


def test_names_win_over_ids(ds: Dataset) -> None:
    # "000005" is the stem of image 14, not image id 5 (which does not exist anyway)
    assert match_image_list(ds, ["000005", "11", "11"]).tolist() == [11, 14]


def test_read_skips_blanks_and_comments(tmp_path: Path, ds: Dataset) -> None:
    path = tmp_path / "train.txt"
    path.write_text("# train split\n\ntrain/a.jpg\n  val/a.jpg  \r\n", encoding="utf-8")
    entries = read_image_list(path)
    assert entries == [(3, "train/a.jpg"), (4, "val/a.jpg")]
    assert match_image_list(ds, entries).tolist() == [11, 13]


def test_unmatched_and_ambiguous_lines_are_named(ds: Dataset) -> None:
    entries = [(1, "train/a.jpg"), (2, "missing.jpg"), (5, "a.jpg"), (6, "99")]
    with pytest.raises(InvalidInputError) as info:
        match_image_list(ds, entries, source="split.txt")
    message = str(info.value)
    assert "split.txt: line 2: 'missing.jpg' matches no image file name, stem or id in ds.json" in (
        message
    )
    assert "split.txt: line 5: 'a.jpg' matches several images in ds.json" in message
    assert "line 6: '99' matches no image" in message
    assert len(info.value.problems) == 3


def test_unreadable_list(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read the image list"):
        read_image_list(tmp_path / "nope.txt")
