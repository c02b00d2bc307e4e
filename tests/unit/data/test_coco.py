from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detlab.data.formats import coco_to_dict, parse_coco, read_coco, write_coco
from detlab.data.synthetic import make_sequential_dataset
from detlab.errors import AnnotationParseError, DetlabWarning, InvalidInputError
from tests.support import assert_datasets_equal


def _coco() -> dict[str, Any]:
    return {
        "info": {"description": "tiny", "year": 2026},
        "licenses": [{"id": 1, "name": "CC"}],
        "images": [
            {"id": 5, "file_name": "a.jpg", "width": 100, "height": 80, "license": 1},
            {"id": 9, "file_name": "b.jpg", "width": 64, "height": 48},
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 5,
                "category_id": 2,
                "bbox": [10, 20, 30.5, 40],
                "area": 1000.25,
                "iscrowd": 0,
                "segmentation": [[10, 20, 40, 20, 40, 60]],
                "attributes": {"occluded": True},
            },
            {
                "id": 2,
                "image_id": 9,
                "category_id": 1,
                "bbox": [0, 0, 64, 48],
                "area": 3072,
                "iscrowd": 1,
                "segmentation": {"size": [48, 64], "counts": "abc"},
            },
        ],
        "categories": [
            {"id": 1, "name": "fish", "supercategory": "animal"},
            {"id": 2, "name": "weed", "keypoints": []},
        ],
    }


def test_reads_columns() -> None:
    ds = parse_coco(_coco())
    assert ds.images.ids.tolist() == [5, 9]
    assert ds.annotations.image_index.tolist() == [0, 1]
    np.testing.assert_array_equal(ds.annotations.boxes[0], [10, 20, 30.5, 40])
    assert ds.annotations.area.tolist() == [1000.25, 3072]
    assert ds.annotations.iscrowd.tolist() == [False, True]
    assert ds.category_names == ("fish", "weed")


def test_writing_back_keeps_every_field(tmp_path: Path) -> None:
    original = _coco()
    write_coco(parse_coco(copy.deepcopy(original)), tmp_path / "out.json")
    assert json.loads((tmp_path / "out.json").read_text()) == original


def test_synthetic_round_trip(tmp_path: Path) -> None:
    ds = make_sequential_dataset(num_sequences=2, frames_per_sequence=6)
    write_coco(ds, tmp_path / "s.json")
    back = read_coco(tmp_path / "s.json")
    assert_datasets_equal(ds, back)
    assert back.images.sequence_values == ds.images.sequence_values
    np.testing.assert_array_equal(back.images.frame_index, ds.images.frame_index)
    assert coco_to_dict(back) == coco_to_dict(ds)


def test_missing_area_is_width_times_height() -> None:
    obj = _coco()
    del obj["annotations"][0]["area"]
    assert parse_coco(obj).annotations.area[0] == pytest.approx(30.5 * 40)


def test_video_keys_become_sequence_columns() -> None:
    obj = _coco()
    for frame, image in enumerate(obj["images"]):
        image.update(video_id=3, frame_id=frame)
    ds = parse_coco(obj)
    assert ds.images.sequence_values == (3,)
    assert ds.images.frame_index.tolist() == [0, 1]
    assert coco_to_dict(ds)["images"][1]["video_id"] == 3


def test_optional_flags_are_written_only_when_present() -> None:
    obj = _coco()
    obj["annotations"][0]["ignore"] = 1
    ds = parse_coco(obj)
    assert ds.optional_flags == {"ignore"}
    assert ds.annotations.ignore.tolist() == [True, False]
    records = coco_to_dict(ds)["annotations"]
    assert records[0]["ignore"] == 1
    assert records[1]["ignore"] == 0
    assert "difficult" not in records[0]


def _break(edit) -> dict[str, Any]:
    obj = _coco()
    edit(obj)
    return obj


BROKEN = [
    pytest.param(
        lambda o: o["annotations"][0]["bbox"].__setitem__(2, -3),
        "annotations[0] (id=1, image_id=5)",
        "bbox",
        "negative size",
        id="negative-width",
    ),
    pytest.param(
        lambda o: o["annotations"][1].update(image_id=77),
        "annotations[1] (id=2, image_id=77)",
        "image_id",
        "unknown image id 77",
        id="unknown-image",
    ),
    pytest.param(
        lambda o: o["annotations"][1].update(category_id=8),
        "annotations[1] (id=2, image_id=9)",
        "category_id",
        "unknown category id 8",
        id="unknown-category",
    ),
    pytest.param(
        lambda o: o["annotations"][0].pop("bbox"),
        "annotations[0] (id=1, image_id=5)",
        "bbox",
        "missing required key",
        id="missing-bbox",
    ),
    pytest.param(
        lambda o: o["annotations"][0].update(bbox=[1, 2, "3", 4]),
        "annotations[0] (id=1, image_id=5)",
        "bbox",
        "expected 4 numbers",
        id="string-coordinate",
    ),
    pytest.param(
        lambda o: o["annotations"][0].update(bbox=[1, 2, 3]),
        "annotations[0] (id=1, image_id=5)",
        "bbox",
        "expected 4 numbers",
        id="three-coordinates",
    ),
    pytest.param(
        lambda o: o["images"][1].update(id="b"),
        "images[1]",
        "id",
        "string id 'b'",
        id="string-image-id",
    ),
    pytest.param(
        lambda o: o["images"][0].update(width=0),
        "images[0] (id=5)",
        "width",
        "must be > 0",
        id="zero-width",
    ),
    pytest.param(
        lambda o: o["images"][1].pop("height"),
        "images[1] (id=9)",
        "height",
        "missing required key",
        id="missing-height",
    ),
    pytest.param(
        lambda o: o["images"][1].update(id=5),
        "images[1] (id=5)",
        "id",
        "duplicate image id 5",
        id="duplicate-image-id",
    ),
    pytest.param(
        lambda o: o["annotations"][1].update(id=1),
        "annotations[1] (id=1, image_id=9)",
        "id",
        "duplicate annotation id 1",
        id="duplicate-annotation-id",
    ),
    pytest.param(
        lambda o: o["categories"][0].update(name=None),
        "categories[0] (id=1)",
        "name",
        "expected a string",
        id="category-without-name",
    ),
    pytest.param(
        lambda o: o.pop("images"),
        "top level",
        "images",
        "missing required key",
        id="no-images",
    ),
    pytest.param(
        lambda o: o["annotations"][0]["bbox"].__setitem__(0, float("inf")),
        "annotations[0] (id=1, image_id=5)",
        "bbox",
        "non-finite",
        id="infinite-coordinate",
    ),
]


@pytest.mark.parametrize(("edit", "record", "field", "message"), BROKEN)
def test_malformed_input_names_file_record_and_field(
    tmp_path: Path, edit, record: str, field: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_break(edit)))
    with pytest.raises(AnnotationParseError) as info:
        read_coco(path)
    problem = next(p for p in info.value.problems if p.is_error)
    assert problem.file == str(path)
    assert problem.record == record
    assert problem.field == field
    assert message in problem.message
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_every_problem_is_reported_not_just_the_first() -> None:
    obj = _coco()
    obj["annotations"][0]["bbox"][2] = -1
    obj["annotations"][1]["image_id"] = 1234
    obj["images"][0]["width"] = -5
    with pytest.raises(InvalidInputError) as info:
        parse_coco(obj, source="x.json")
    fields = sorted(p.field for p in info.value.problems if p.is_error)
    assert fields == ["bbox", "image_id", "width"]
    assert "and 2 more error(s)" in str(info.value)


def test_broken_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"images": [\n  {"id": 1,, "width": 3}\n]}')
    with pytest.raises(AnnotationParseError) as info:
        read_coco(path)
    assert info.value.problems[0].record == "line 2, column 12"
    assert "broken JSON" in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnnotationParseError, match="cannot read the file"):
        read_coco(tmp_path / "nope.json")


def test_box_outside_the_image_is_only_a_warning() -> None:
    obj = _coco()
    obj["annotations"][0]["bbox"] = [90, 70, 30, 30]
    with pytest.warns(DetlabWarning, match="outside its 100x80 image"):
        ds = parse_coco(obj, source="w.json")
    assert ds.num_annotations == 2
