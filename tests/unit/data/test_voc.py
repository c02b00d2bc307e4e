"""Pascal VOC reader and writer: folders built in tmp_path from XML text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from detlab.core import Annotations, Category, Dataset, Images
from detlab.data.formats.coco import parse_coco
from detlab.data.formats.voc import VOC_CLASSES, read_voc, write_voc
from detlab.data.problems import ProblemLog
from detlab.errors import (
    AnnotationParseError,
    ConfigError,
    DetlabWarning,
    InvalidInputError,
    Problem,
)
from tests.support import assert_datasets_equal

# --------------------------------------------------------------------------- building folders


def voc_object(
    name: str = "dog",
    box: tuple[object, object, object, object] = (1, 1, 10, 10),
    *,
    difficult: object = 0,
    truncated: object = None,
    extra: str = "",
) -> str:
    xmin, ymin, xmax, ymax = box
    flags = f"<difficult>{difficult}</difficult>"
    if truncated is not None:
        flags += f"<truncated>{truncated}</truncated>"
    return (
        f"<object><name>{name}</name>{flags}{extra}"
        f"<bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax>"
        "</bndbox></object>"
    )


def voc_annotation(
    *objects: str,
    filename: str | None = "000001.jpg",
    size: tuple[object, object] = (500, 375),
    extra: str = "",
) -> str:
    name = "" if filename is None else f"<filename>{filename}</filename>"
    width, height = size
    return (
        f"<annotation><folder>VOC2007</folder>{name}{extra}"
        f"<size><width>{width}</width><height>{height}</height><depth>3</depth></size>"
        f"{''.join(objects)}</annotation>"
    )


def make_voc(root: Path, files: dict[str, str], *, splits: dict[str, str] | None = None) -> Path:
    """A VOC folder with ``Annotations/<stem>.xml`` for each entry and the given split files."""
    (root / "Annotations").mkdir(parents=True)
    for stem, text in files.items():
        (root / "Annotations" / f"{stem}.xml").write_text(text, encoding="utf-8")
    for split, text in (splits or {}).items():
        (root / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
        (root / "ImageSets" / "Main" / f"{split}.txt").write_text(text, encoding="utf-8")
    return root


def coco_dataset(*, annotations: list[dict[str, object]] | None = None) -> Dataset:
    """Three images (one without boxes), two categories with ids that VOC will renumber."""
    boxes = [
        {"id": 11, "image_id": 7, "category_id": 5, "bbox": [0, 0, 10, 20]},
        {"id": 12, "image_id": 7, "category_id": 2, "bbox": [10.5, 20.25, 30, 40.75]},
        {"id": 13, "image_id": 12, "category_id": 5, "bbox": [100, 50, 1, 1]},
    ]
    return parse_coco(
        {
            "images": [
                {"id": 7, "file_name": "b.jpg", "width": 640, "height": 480},
                {"id": 3, "file_name": "a.jpg", "width": 320, "height": 240},
                {"id": 12, "file_name": "sub/c.png", "width": 200, "height": 100},
            ],
            "annotations": boxes if annotations is None else annotations,
            "categories": [{"id": 5, "name": "zebra"}, {"id": 2, "name": "apple"}],
        }
    )


def find_problem(problems: Sequence[Problem], record: str, field: str) -> str:
    """The text of the problem at ``record`` and ``field``; fails listing all when absent."""
    texts = [str(p) for p in problems]
    wanted = [t for t in texts if f"{record}, field '{field}'" in t or (not field and record in t)]
    assert wanted, f"no problem at {record!r} / {field!r} in {texts}"
    return wanted[0]


# --------------------------------------------------------------------------- reading values


def test_pixel_convention_on_known_boxes(tmp_path: Path) -> None:
    # VOC2007 000001.xml's dog, and a box covering exactly pixels 1..10 x 1..20.
    text = voc_annotation(voc_object("dog", (48, 240, 195, 371)), voc_object("cat", (1, 1, 10, 20)))
    ds = read_voc(make_voc(tmp_path, {"000001": text}))
    np.testing.assert_array_equal(ds.annotations.boxes, [[47, 239, 148, 132], [0, 0, 10, 20]])
    np.testing.assert_array_equal(ds.annotations.area, [148 * 132, 200])


def test_float_coordinates(tmp_path: Path) -> None:
    text = voc_annotation(voc_object("dog", ("48.5", "240.25", "195.5", "371")))
    ds = read_voc(make_voc(tmp_path, {"000001": text}))
    np.testing.assert_allclose(ds.annotations.boxes, [[47.5, 239.25, 148.0, 131.75]])


def test_images_flags_and_ids(tmp_path: Path) -> None:
    files = {
        "000002": voc_annotation(
            voc_object("dog", difficult=1, truncated=1),
            voc_object("cat", truncated=0),
            filename="000002.jpg",
            size=(353, 500),
        ),
        "000001": voc_annotation(voc_object("person", difficult=0)),
    }
    ds = read_voc(make_voc(tmp_path, files))
    assert ds.images.file_names == ("000001.jpg", "000002.jpg")  # sorted by XML name
    np.testing.assert_array_equal(ds.images.ids, [1, 2])
    np.testing.assert_array_equal(ds.images.widths, [500, 353])
    np.testing.assert_array_equal(ds.images.heights, [375, 500])
    np.testing.assert_array_equal(ds.annotations.ids, [1, 2, 3])
    np.testing.assert_array_equal(ds.annotations.image_index, [0, 1, 1])
    np.testing.assert_array_equal(ds.annotations.difficult, [False, True, False])
    np.testing.assert_array_equal(ds.annotations.truncated, [False, True, False])
    assert not ds.annotations.iscrowd.any()
    assert ds.optional_flags == {"difficult", "truncated"}


def test_unknown_children_are_kept_as_strings(tmp_path: Path) -> None:
    text = voc_annotation(
        voc_object("dog", extra="<pose>Left</pose><occluded>1</occluded>"),
        extra="<source><database>The VOC2007 Database</database></source><segmented>1</segmented>",
    )
    ds = read_voc(make_voc(tmp_path, {"000001": text}))
    assert ds.images.extra[0] == {
        "folder": "VOC2007",
        "source": "<source><database>The VOC2007 Database</database></source>",
        "segmented": "1",
        "depth": "3",
    }
    assert ds.annotations.extra[0] == {"pose": "Left", "occluded": "1"}


def test_missing_filename_falls_back_to_stem_with_a_warning(tmp_path: Path) -> None:
    root = make_voc(tmp_path, {"000001": voc_annotation(filename=None)})
    with pytest.warns(DetlabWarning, match=r"000001\.xml, field 'filename'"):
        ds = read_voc(root)
    assert ds.images.file_names == ("000001.jpg",)


def test_stem_kept_only_when_it_differs_from_the_file_name(tmp_path: Path) -> None:
    files = {
        "000001": voc_annotation(filename="000001.jpg"),
        "000002": voc_annotation(filename="frame_0002.png"),
    }
    ds = read_voc(make_voc(tmp_path, files))
    assert ds.images.extra[0] is not None
    assert "stem" not in ds.images.extra[0]
    assert ds.images.extra[1] is not None
    assert ds.images.extra[1]["stem"] == "000002"


def test_box_outside_the_image_is_a_warning(tmp_path: Path) -> None:
    root = make_voc(tmp_path, {"000001": voc_annotation(voc_object("dog", (400, 1, 600, 10)))})
    with pytest.warns(DetlabWarning, match=r"000001\.xml object\[0\], field 'bbox'.*outside"):
        ds = read_voc(root)
    assert ds.num_annotations == 1


def test_box_touching_the_far_edge_is_inside(tmp_path: Path) -> None:
    ds = read_voc(
        make_voc(tmp_path, {"000001": voc_annotation(voc_object("dog", (1, 1, 500, 375)))})
    )
    np.testing.assert_array_equal(ds.annotations.boxes, [[0, 0, 500, 375]])


# --------------------------------------------------------------------------- folders and splits


@pytest.mark.parametrize(
    ("layout", "given"),
    [
        pytest.param("VOC2007", "VOC2007", id="voc-folder"),
        pytest.param("VOC2007", "VOC2007/Annotations", id="annotations-folder"),
        pytest.param("VOCdevkit/VOC2012", "VOCdevkit", id="devkit-with-one-year"),
    ],
)
def test_root_forms(tmp_path: Path, layout: str, given: str) -> None:
    make_voc(
        tmp_path / layout, {"000001": voc_annotation(voc_object())}, splits={"val": "000001\n"}
    )
    ds = read_voc(tmp_path / given, split="val")
    assert ds.images.file_names == ("000001.jpg",)
    assert ds.num_annotations == 1


def test_devkit_with_two_years_asks_for_one(tmp_path: Path) -> None:
    for year in ("VOC2007", "VOC2012"):
        make_voc(tmp_path / year, {"000001": voc_annotation()})
    with pytest.raises(AnnotationParseError, match="VOC2007, VOC2012"):
        read_voc(tmp_path)


@pytest.mark.parametrize(
    "given",
    [pytest.param("missing", id="no-such-folder"), pytest.param("", id="no-annotations")],
)
def test_folder_without_annotations(tmp_path: Path, given: str) -> None:
    with pytest.raises(AnnotationParseError, match="Annotations"):
        read_voc(tmp_path / given)


def test_empty_annotations_folder(tmp_path: Path) -> None:
    (tmp_path / "Annotations").mkdir()
    with pytest.raises(AnnotationParseError, match=r"no \.xml files"):
        read_voc(tmp_path)


def test_split_reads_listed_stems_in_order(tmp_path: Path) -> None:
    files = {
        stem: voc_annotation(filename=f"{stem}.jpg") for stem in ("000001", "000002", "000003")
    }
    root = make_voc(tmp_path, files, splits={"train": "000003\n\n000001\n"})
    ds = read_voc(root, split="train")
    assert ds.images.file_names == ("000003.jpg", "000001.jpg")


def test_missing_split_file_lists_the_splits_there(tmp_path: Path) -> None:
    splits = {"train": "000001\n", "val": "000001\n", "aeroplane_train": "000001  1\n"}
    root = make_voc(tmp_path, {"000001": voc_annotation()}, splits=splits)
    with pytest.raises(AnnotationParseError) as info:
        read_voc(root, split="test")
    message = str(info.value)
    assert str(root / "ImageSets/Main/test.txt") in message
    assert "train, val" in message
    assert "aeroplane_train" not in message


def test_split_listing_a_stem_without_xml(tmp_path: Path) -> None:
    root = make_voc(tmp_path, {"000001": voc_annotation()}, splits={"val": "000001\n000009\n"})
    with pytest.raises(AnnotationParseError) as info:
        read_voc(root, split="val")
    text = find_problem(info.value.problems, "ImageSets/Main/val.txt line 2", "")
    assert "Annotations/000009.xml" in text


def test_split_listing_a_stem_twice_reads_it_once(tmp_path: Path) -> None:
    root = make_voc(tmp_path, {"000001": voc_annotation()}, splits={"val": "000001\n000001\n"})
    with pytest.warns(DetlabWarning, match="val.txt line 2.*already listed on line 1"):
        ds = read_voc(root, split="val")
    assert ds.num_images == 1


# --------------------------------------------------------------------------- categories


def test_standard_classes_in_standard_order(tmp_path: Path) -> None:
    text = voc_annotation(voc_object("tvmonitor"), voc_object("aeroplane"), voc_object("dog"))
    ds = read_voc(make_voc(tmp_path, {"000001": text}))
    assert ds.category_names == VOC_CLASSES
    assert len(VOC_CLASSES) == 20
    np.testing.assert_array_equal(ds.category_ids, np.arange(1, 21))
    np.testing.assert_array_equal(ds.annotations.category_ids, [20, 1, 12])


def test_other_classes_sorted(tmp_path: Path) -> None:
    text = voc_annotation(voc_object("zebra"), voc_object("dog"), voc_object("apple"))
    ds = read_voc(make_voc(tmp_path, {"000001": text}))
    assert ds.category_names == ("apple", "dog", "zebra")
    np.testing.assert_array_equal(ds.annotations.category_ids, [3, 2, 1])


def test_explicit_classes_give_order_and_ids(tmp_path: Path) -> None:
    text = voc_annotation(voc_object("dog"), voc_object("cat"))
    ds = read_voc(make_voc(tmp_path, {"000001": text}), classes=["dog", "bird", "cat"])
    assert ds.category_names == ("dog", "bird", "cat")
    np.testing.assert_array_equal(ds.annotations.category_ids, [1, 3])


@pytest.mark.parametrize("file_name", ["labels.txt", "classes.txt"])
def test_class_file(tmp_path: Path, file_name: str) -> None:
    root = make_voc(tmp_path, {"000001": voc_annotation(voc_object("dog"), voc_object("cat"))})
    (root / file_name).write_text("cat\n\ndog\nfish\n", encoding="utf-8")
    ds = read_voc(root)
    assert ds.category_names == ("cat", "dog", "fish")
    np.testing.assert_array_equal(ds.annotations.category_ids, [2, 1])


def test_explicit_classes_win_over_class_file(tmp_path: Path) -> None:
    root = make_voc(tmp_path, {"000001": voc_annotation(voc_object("dog"))})
    (root / "labels.txt").write_text("cat\ndog\n", encoding="utf-8")
    assert read_voc(root, classes=["dog"]).category_names == ("dog",)


@pytest.mark.parametrize(
    ("origin", "expected"),
    [pytest.param("argument", "the classes argument", id="classes-argument"),
     pytest.param("labels.txt", "labels.txt", id="labels-file")],
)  # fmt: skip
def test_class_not_in_the_list_is_an_error(tmp_path: Path, origin: str, expected: str) -> None:
    root = make_voc(tmp_path, {"000001": voc_annotation(voc_object("dog"), voc_object("cow"))})
    classes = ["dog"] if origin == "argument" else None
    if origin == "labels.txt":
        (root / "labels.txt").write_text("dog\n", encoding="utf-8")
    with pytest.raises(AnnotationParseError) as info:
        read_voc(root, classes=classes)
    text = find_problem(info.value.problems, "Annotations/000001.xml object[1]", "name")
    assert "'cow'" in text
    assert expected in text


def test_duplicate_explicit_classes(tmp_path: Path) -> None:
    root = make_voc(tmp_path, {"000001": voc_annotation()})
    with pytest.raises(ConfigError, match="'dog'"):
        read_voc(root, classes=["dog", "cat", "dog"])


# --------------------------------------------------------------------------- problems

GOOD = voc_object("dog", (1, 1, 10, 10))
IMAGE = "Annotations/000001.xml"
OBJECT = "Annotations/000001.xml object[1]"


@pytest.mark.parametrize(
    ("text", "record", "field", "fragment"),
    [
        pytest.param(
            "<annotation><filename>a.jpg</filename><size><width>5</size></annotation>",
            f"{IMAGE} line 1, column 55", "", "broken XML: mismatched tag",
            id="broken-xml",
        ),
        pytest.param("<image/>", IMAGE, "", "<annotation>", id="wrong-root"),
        pytest.param(
            "<annotation><filename>a.jpg</filename></annotation>",
            IMAGE, "size/width", "missing", id="missing-size",
        ),
        pytest.param(
            voc_annotation(GOOD, size=("", 375)), IMAGE, "size/width", "expected a number",
            id="empty-width",
        ),
        pytest.param(
            voc_annotation(GOOD, size=(500, "tall")), IMAGE, "size/height", "'tall'",
            id="non-numeric-height",
        ),
        pytest.param(
            voc_annotation(GOOD, size=(0, 375)), f"{IMAGE} size", "width", "must be > 0",
            id="zero-width",
        ),
        pytest.param(
            voc_annotation(GOOD, size=(500, -3)), f"{IMAGE} size", "height", "must be > 0",
            id="negative-height",
        ),
        pytest.param(
            voc_annotation(GOOD, voc_object("")), OBJECT, "name", "missing", id="missing-name",
        ),
        pytest.param(
            voc_annotation(GOOD, "<object><name>dog</name></object>"),
            OBJECT, "bndbox", "missing", id="missing-bndbox",
        ),
        pytest.param(
            voc_annotation(GOOD, GOOD.replace("<xmax>10</xmax>", "")),
            OBJECT, "bndbox/xmax", "missing", id="missing-xmax",
        ),
        pytest.param(
            voc_annotation(GOOD, voc_object("dog", (1, "12px", 10, 20))),
            OBJECT, "bndbox/ymin", "'12px'", id="non-numeric-ymin",
        ),
        pytest.param(
            voc_annotation(GOOD, voc_object("dog", (1, 1, "nan", 20))),
            OBJECT, "bndbox/xmax", "finite", id="nan-xmax",
        ),
        pytest.param(
            voc_annotation(GOOD, voc_object("dog", (20, 1, 10, 20))),
            OBJECT, "bndbox/xmax", "xmax 10 is less than xmin 20", id="xmax-below-xmin",
        ),
        pytest.param(
            voc_annotation(GOOD, voc_object("dog", (1, 30.5, 10, 20))),
            OBJECT, "bndbox/ymax", "ymax 20 is less than ymin 30.5", id="ymax-below-ymin",
        ),
        pytest.param(
            voc_annotation(GOOD, voc_object("dog", difficult="yes")),
            OBJECT, "difficult", "expected 0 or 1", id="bad-difficult",
        ),
        pytest.param(
            voc_annotation(GOOD, voc_object("dog", truncated=2)),
            OBJECT, "truncated", "expected 0 or 1", id="bad-truncated",
        ),
    ],
)  # fmt: skip
def test_problem_names_file_record_and_field(
    tmp_path: Path, text: str, record: str, field: str, fragment: str
) -> None:
    root = make_voc(tmp_path, {"000001": text, "000002": voc_annotation(GOOD)})
    with pytest.raises(AnnotationParseError) as info:
        read_voc(root)
    problem = find_problem(info.value.problems, record, field)
    assert problem.startswith(f"error: {root}: ")
    assert "000001.xml" in problem
    assert fragment in problem


def test_every_problem_is_collected(tmp_path: Path) -> None:
    files = {
        "000001": voc_annotation(voc_object("dog", (20, 1, 10, 10))),
        "000002": "<annotation>",
        "000003": voc_annotation(voc_object("dog", (1, 1, "x", 10)), size=(0, 10)),
    }
    with pytest.raises(AnnotationParseError) as info:
        read_voc(make_voc(tmp_path, files))
    errors = [p for p in info.value.problems if p.is_error]
    assert [(p.record, p.field) for p in errors] == [
        ("Annotations/000001.xml object[0]", "bndbox/xmax"),
        ("Annotations/000002.xml line 1, column 13", ""),
        ("Annotations/000003.xml object[0]", "bndbox/xmax"),
        ("Annotations/000003.xml size", "width"),
    ]


def test_with_a_log_returns_what_could_be_read(tmp_path: Path) -> None:
    files = {
        "000001": voc_annotation(GOOD, voc_object("dog", (20, 1, 10, 10))),
        "000002": "<annotation>",
        "000003": voc_annotation(
            voc_object("cat"), voc_object("dog", (1, 1, 600, 10)), filename="000003.jpg"
        ),
    }
    log = ProblemLog("my-voc")
    ds = read_voc(make_voc(tmp_path, files), log=log)
    assert len(log.errors) == 2
    assert len(log.warnings) == 1
    assert ds.images.file_names == ("000001.jpg", "000003.jpg")
    np.testing.assert_array_equal(ds.annotations.image_index, [0, 1, 1])
    assert all(str(p).startswith(f"{p.severity}: my-voc: ") for p in log.problems)


def test_warn_false_keeps_quiet(tmp_path: Path) -> None:
    root = make_voc(tmp_path, {"000001": voc_annotation(voc_object("dog", (1, 1, 600, 10)))})
    assert read_voc(root, warn=False).num_annotations == 1


# --------------------------------------------------------------------------- writing


def read_xml(path: Path) -> ET.Element:
    return ET.fromstring(path.read_text(encoding="utf-8"))


def test_round_trip_from_coco(tmp_path: Path) -> None:
    ds = coco_dataset()
    write_voc(ds, tmp_path / "out")
    back = read_voc(tmp_path / "out", split="trainval")
    assert_datasets_equal(ds, back, ids=False)
    assert (tmp_path / "out" / "ImageSets/Main/trainval.txt").read_text() == "b\na\nc\n"
    assert (tmp_path / "out" / "labels.txt").read_text() == "zebra\napple\n"


def test_written_xml_inverts_the_pixel_convention(tmp_path: Path) -> None:
    write_voc(coco_dataset(), tmp_path)
    root = read_xml(tmp_path / "Annotations/b.xml")
    boxes = [
        [obj.findtext(f"bndbox/{tag}") for tag in ("xmin", "ymin", "xmax", "ymax")]
        for obj in root.findall("object")
    ]
    # [0, 0, 10, 20] covers pixels 1..10 x 1..20; [10.5, 20.25, 30, 40.75] keeps its fractions.
    assert boxes == [["1", "1", "10", "20"], ["11.5", "21.25", "40.5", "61"]]
    assert root.findtext("filename") == "b.jpg"
    assert [root.findtext(f"size/{tag}") for tag in ("width", "height", "depth")] == [
        "640",
        "480",
        "3",
    ]
    assert root.findtext("segmented") == "0"
    first = root.findall("object")[0]
    assert [child.tag for child in first] == ["name", "pose", "truncated", "difficult", "bndbox"]
    assert first.findtext("pose") == "Unspecified"


def test_written_xml_is_pretty_printed(tmp_path: Path) -> None:
    write_voc(coco_dataset(), tmp_path)
    lines = (tmp_path / "Annotations/b.xml").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "<annotation>"
    assert "\t<filename>b.jpg</filename>" in lines
    assert "\t\t\t<xmin>1</xmin>" in lines


def test_image_without_boxes_is_written(tmp_path: Path) -> None:
    write_voc(coco_dataset(), tmp_path)
    root = read_xml(tmp_path / "Annotations/a.xml")
    assert root.findall("object") == []
    assert root.findtext("size/width") == "320"


def test_split_none_writes_no_split_file(tmp_path: Path) -> None:
    write_voc(coco_dataset(), tmp_path, split=None)
    assert not (tmp_path / "ImageSets").exists()
    assert read_voc(tmp_path).images.file_names == ("a.jpg", "b.jpg", "sub/c.png")


def test_round_trip_from_voc_keeps_everything(tmp_path: Path) -> None:
    part = "<part><name>head</name><bndbox><xmin>2</xmin></bndbox></part>"
    files = {
        "000001": voc_annotation(
            voc_object(
                "dog", (5.5, 1, 10, 10), difficult=1, truncated=1, extra="<pose>Left</pose>"
            ),
            voc_object("person", extra=f"<occluded>0</occluded>{part}{part}"),
            extra="<source><database>VOC</database></source><segmented>1</segmented>",
        ),
        "000002": voc_annotation(filename="other.png"),
    }
    first = read_voc(make_voc(tmp_path / "in", files))
    write_voc(first, tmp_path / "out", split="val")
    second = read_voc(tmp_path / "out", split="val")
    assert_datasets_equal(first, second)
    assert second.category_names == VOC_CLASSES
    assert second.images.extra[0] == first.images.extra[0]
    # The writer adds the elements every VOC file has (here <segmented>0</segmented>).
    assert first.images.extra[1] is not None
    assert second.images.extra[1] == {**first.images.extra[1], "segmented": "0"}
    assert second.annotations.extra[0] == first.annotations.extra[0]
    assert first.annotations.extra[1] is not None
    assert second.annotations.extra[1] == {**first.annotations.extra[1], "pose": "Unspecified"}
    np.testing.assert_array_equal(second.annotations.truncated, first.annotations.truncated)
    assert (tmp_path / "out/Annotations/000002.xml").is_file()


@pytest.mark.parametrize("flag", ["iscrowd", "ignore"])
def test_crowd_and_ignore_become_difficult(tmp_path: Path, flag: str) -> None:
    annotations: list[dict[str, object]] = [
        {"id": 1, "image_id": 7, "category_id": 5, "bbox": [0, 0, 10, 20], flag: 1},
        {"id": 2, "image_id": 7, "category_id": 5, "bbox": [0, 0, 5, 5], flag: 1},
        {"id": 3, "image_id": 3, "category_id": 2, "bbox": [0, 0, 5, 5]},
    ]
    with pytest.warns(DetlabWarning, match="2 crowd or ignore box"):
        write_voc(coco_dataset(annotations=annotations), tmp_path)
    back = read_voc(tmp_path)
    np.testing.assert_array_equal(back.annotations.difficult, [False, True, True])


def test_colliding_stems_are_an_error_before_writing(tmp_path: Path) -> None:
    ds = Dataset(
        images=Images.build([1, 2], ["train/a.jpg", "val/a.png"], [10, 10], [10, 10]),
        categories=(Category(1, "dog"),),
        annotations=Annotations.empty(),
    )
    with pytest.raises(InvalidInputError) as info:
        write_voc(ds, tmp_path / "out")
    text = find_problem(info.value.problems, "images[1] (id=2)", "file_name")
    assert "Annotations/a.xml" in text
    assert not (tmp_path / "out").exists()


def test_unknown_category_is_an_error(tmp_path: Path) -> None:
    ds = Dataset(
        images=Images.build([1], ["a.jpg"], [10], [10]),
        categories=(Category(1, "dog"),),
        annotations=Annotations.build(
            ids=[4], image_index=[0], category_ids=[9], boxes=[[0, 0, 1, 1]]
        ),
    )
    with pytest.raises(InvalidInputError, match="unknown category id 9"):
        write_voc(ds, tmp_path)


def test_kept_stem_names_the_xml(tmp_path: Path) -> None:
    root = make_voc(tmp_path / "in", {"000007": voc_annotation(filename="frame.png")})
    write_voc(read_voc(root), tmp_path / "out")
    assert (tmp_path / "out/Annotations/000007.xml").is_file()
    assert read_voc(tmp_path / "out").images.file_names == ("frame.png",)


def test_dataset_built_without_extras(tmp_path: Path) -> None:
    ds = Dataset(
        images=Images(
            ids=np.array([1]),
            file_names=("a.jpg",),
            widths=np.array([8]),
            heights=np.array([6]),
            sequence=np.array([-1]),
            frame_index=np.array([-1]),
        ),
        categories=(Category(1, "dog"),),
        annotations=Annotations.build(
            ids=[1], image_index=[0], category_ids=[1], boxes=[[1, 1, 2, 2]]
        ),
    )
    write_voc(ds, tmp_path)
    assert_datasets_equal(ds, read_voc(tmp_path), ids=False)
