from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from detlab.core import Annotations, Category, Dataset, Images
from detlab.data.formats.yolo import read_yolo, write_yolo
from detlab.data.formats.yolo_layout import label_path_for
from detlab.data.problems import ProblemLog
from detlab.errors import AnnotationParseError, DetlabWarning, InvalidInputError
from tests.support import assert_datasets_equal

NAMES = ("cat", "dog", "bird")


def _image(path: Path, size: tuple[int, int], **save: Any) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size).save(path, **save)


def _text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def ds_root(tmp_path: Path) -> Path:
    """images/train with a.png (200x100) and b.png (640x480), their labels and classes.txt."""
    root = tmp_path / "ds"
    _image(root / "images/train/b.png", (640, 480))
    _image(root / "images/train/a.png", (200, 100))
    _text(root / "labels/train/a.txt", "1 0.25 0.75 0.5 0.5\n")
    _text(root / "labels/train/b.txt", "0 0.5 0.5 0.25 0.5\n2 0.1 0.2 0.1 0.2\n")
    _text(root / "classes.txt", "cat\ndog\nbird\n")
    return root


# Pixel xywh worked out by hand: x = (cx - w/2) * W, y = (cy - h/2) * H, w * W, h * H.
EXPECTED_BOXES = [[0.0, 50.0, 100.0, 50.0], [240.0, 120.0, 160.0, 240.0], [32.0, 48.0, 64.0, 96.0]]


def test_reads_folder_layout(ds_root: Path) -> None:
    ds = read_yolo(ds_root)
    assert ds.images.file_names == ("a.png", "b.png")
    assert ds.images.ids.tolist() == [1, 2]
    assert ds.images.widths.tolist() == [200, 640]
    assert ds.images.heights.tolist() == [100, 480]
    assert ds.category_names == NAMES
    assert ds.category_ids.tolist() == [1, 2, 3]  # class index + 1
    assert ds.annotations.ids.tolist() == [1, 2, 3]
    assert ds.annotations.image_index.tolist() == [0, 1, 1]
    assert ds.annotations.category_ids.tolist() == [2, 1, 3]
    np.testing.assert_allclose(ds.annotations.boxes, EXPECTED_BOXES, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ds.annotations.area, [5000.0, 38400.0, 6144.0])
    assert ds.source == str(ds_root)


def test_label_path_follows_ultralytics_rule() -> None:
    assert label_path_for(Path("/d/images/x/images/train/a.b.jpg")) == Path(
        "/d/images/x/labels/train/a.b.txt"
    )
    assert label_path_for(Path("/d/pics/a.jpg")) == Path("/d/pics/a.txt")
    assert label_path_for(Path("/d/pics/images.jpg")) == Path("/d/pics/images.txt")


def test_nested_image_folders_keep_their_path(ds_root: Path) -> None:
    _image(ds_root / "images/train/sub/c.jpg", (50, 40))
    _text(ds_root / "labels/train/sub/c.txt", "0 0.5 0.5 1 1\n")
    ds = read_yolo(ds_root)
    assert ds.images.file_names == ("a.png", "b.png", "sub/c.jpg")
    np.testing.assert_allclose(ds.annotations.boxes[-1], [0, 0, 50, 40])


def test_image_without_label_file_has_no_boxes(ds_root: Path) -> None:
    (ds_root / "labels/train/a.txt").unlink()
    ds = read_yolo(ds_root)
    assert ds.num_images == 2
    assert ds.counts_per_image().tolist() == [0, 2]


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "  \n\t\n"],
    ids=["empty-file", "blank-lines", "whitespace-lines"],
)
def test_blank_label_files_are_fine(ds_root: Path, text: str) -> None:
    _text(ds_root / "labels/train/a.txt", text)
    assert read_yolo(ds_root).counts_per_image().tolist() == [0, 2]


def test_blank_lines_between_boxes_keep_line_numbers(ds_root: Path) -> None:
    _text(ds_root / "labels/train/a.txt", "\n\n1 0.25 0.75 0.5 0.5\n\n7 0.5 0.5 0.1 0.1\n")
    log = ProblemLog("ds")
    ds = read_yolo(ds_root, log=log)
    assert ds.counts_per_image().tolist() == [1, 2]
    assert [p.record for p in log.problems] == ["labels/train/a.txt line 5"]


def test_label_file_without_image_warns(ds_root: Path) -> None:
    _text(ds_root / "labels/train/zzz.txt", "0 0.5 0.5 0.1 0.1\n")
    with pytest.warns(DetlabWarning, match=r"labels/train/zzz\.txt: label file without an image"):
        ds = read_yolo(ds_root)
    assert ds.num_images == 2


def test_exif_rotation_swaps_width_and_height(ds_root: Path) -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    _image(ds_root / "images/train/c.jpg", (300, 200), exif=exif)
    ds = read_yolo(ds_root)
    assert (ds.images.widths[2], ds.images.heights[2]) == (200, 300)


# --------------------------------------------------------------------------- layouts


@pytest.mark.parametrize(
    "where",
    ["classes.txt", "labels/classes.txt", "labels/train/classes.txt"],
    ids=["root", "labels", "labels-split"],
)
def test_classes_txt_locations(ds_root: Path, where: str) -> None:
    (ds_root / "classes.txt").unlink()
    _text(ds_root / where, "x\ny\nz\n")
    assert read_yolo(ds_root).category_names == ("x", "y", "z")


def test_names_precedence(ds_root: Path) -> None:
    _text(ds_root / "data.yaml", yaml.safe_dump({"names": ["y0", "y1", "y2"]}))
    assert read_yolo(ds_root).category_names == ("y0", "y1", "y2")
    assert read_yolo(ds_root, names=["e0", "e1", "e2"]).category_names == ("e0", "e1", "e2")


def test_missing_names_say_where_they_were_looked_for(ds_root: Path) -> None:
    (ds_root / "classes.txt").unlink()
    with pytest.raises(AnnotationParseError, match="no class names") as info:
        read_yolo(ds_root)
    assert str(ds_root / "labels" / "train" / "classes.txt") in str(info.value)


def test_blank_class_name_inside_classes_txt_is_an_error(ds_root: Path) -> None:
    _text(ds_root / "classes.txt", "cat\n\nbird\n")
    with pytest.raises(AnnotationParseError, match=r"classes\.txt: line 2: empty class name"):
        read_yolo(ds_root)


def _two_splits(root: Path) -> None:
    _image(root / "images/train/a.png", (20, 10))
    _image(root / "images/val/v.png", (30, 10))
    _text(root / "classes.txt", "cat\n")


def test_several_splits_need_a_choice(tmp_path: Path) -> None:
    _two_splits(tmp_path)
    with pytest.raises(AnnotationParseError, match=r"several splits \(train, val\)"):
        read_yolo(tmp_path)
    assert read_yolo(tmp_path, split="val").images.file_names == ("v.png",)


def test_unknown_split_lists_the_splits(tmp_path: Path) -> None:
    _two_splits(tmp_path)
    with pytest.raises(AnnotationParseError, match=r"no split 'test'.*train, val"):
        read_yolo(tmp_path, split="test")


def test_single_split_is_taken(ds_root: Path) -> None:
    assert read_yolo(ds_root, split=None).num_images == 2


def test_flat_layout(tmp_path: Path) -> None:
    _image(tmp_path / "images/a.png", (20, 10))
    _text(tmp_path / "labels/a.txt", "0 0.5 0.5 0.5 0.5\n")
    _text(tmp_path / "labels/classes.txt", "cat\n")
    ds = read_yolo(tmp_path)
    assert ds.images.file_names == ("a.png",)
    np.testing.assert_allclose(ds.annotations.boxes, [[5, 2.5, 10, 5]])


@pytest.mark.parametrize(
    "root",
    ["missing", "empty"],
    ids=["no-such-folder", "folder-without-images"],
)
def test_not_a_dataset(tmp_path: Path, root: str) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(AnnotationParseError, match=root):
        read_yolo(tmp_path / root)


# --------------------------------------------------------------------------- data.yaml


@pytest.mark.parametrize(
    "names",
    [list(NAMES), dict(enumerate(NAMES)), {"2": "bird", "0": "cat", "1": "dog"}],
    ids=["list", "dict", "dict-string-keys-unordered"],
)
def test_data_yaml_names(ds_root: Path, names: Any) -> None:
    (ds_root / "classes.txt").unlink()
    _text(
        ds_root / "data.yaml",
        yaml.safe_dump({"path": ".", "train": "images/train", "names": names}),
    )
    ds = read_yolo(ds_root / "data.yaml")
    assert ds.category_names == NAMES
    np.testing.assert_allclose(ds.annotations.boxes, EXPECTED_BOXES, rtol=0, atol=1e-9)


def test_data_yaml_elsewhere_with_relative_path(ds_root: Path, tmp_path: Path) -> None:
    config = {"path": "ds", "train": "images/train", "val": "images/val", "names": list(NAMES)}
    _text(tmp_path / "cfg.yaml", yaml.safe_dump(config))
    assert read_yolo(tmp_path / "cfg.yaml", split="train").images.file_names == ("a.png", "b.png")
    with pytest.raises(AnnotationParseError, match=r"choose a split.*train, val"):
        read_yolo(tmp_path / "cfg.yaml")


def test_folder_with_only_data_yaml(ds_root: Path, tmp_path: Path) -> None:
    config = {"path": "../ds", "train": "images/train", "names": list(NAMES)}
    _text(tmp_path / "cfg/data.yaml", yaml.safe_dump(config))
    assert read_yolo(tmp_path / "cfg").num_annotations == 3


def test_data_yaml_image_list(ds_root: Path) -> None:
    _text(ds_root / "train.txt", "./images/train/b.png\n\nimages/train/a.png\n")
    _text(ds_root / "data.yaml", yaml.safe_dump({"train": "train.txt", "names": list(NAMES)}))
    ds = read_yolo(ds_root / "data.yaml")
    assert ds.images.file_names == ("images/train/a.png", "images/train/b.png")
    np.testing.assert_allclose(ds.annotations.boxes, EXPECTED_BOXES, rtol=0, atol=1e-9)


def test_image_list_names_missing_images(ds_root: Path) -> None:
    _text(ds_root / "train.txt", "images/train/a.png\nimages/train/gone.png\n")
    _text(ds_root / "data.yaml", yaml.safe_dump({"train": "train.txt", "names": list(NAMES)}))
    with pytest.raises(AnnotationParseError, match=r"train\.txt line 2: image not found"):
        read_yolo(ds_root / "data.yaml")


def test_image_list_skips_non_images_and_repeats(ds_root: Path) -> None:
    _text(ds_root / "train.txt", "images/train/a.png\nnotes.md\nimages/train/a.png\n")
    _text(ds_root / "data.yaml", yaml.safe_dump({"train": "train.txt", "names": list(NAMES)}))
    log = ProblemLog("data.yaml")
    ds = read_yolo(ds_root / "data.yaml", log=log)
    assert ds.images.file_names == ("images/train/a.png",)
    assert [str(p).split(": ", 2)[2] for p in log.problems] == [
        "train.txt line 2: 'notes.md' is not an image file name; skipped",
        "train.txt line 3: 'images/train/a.png' is listed twice; read once",
    ]


def test_split_listing_several_sources(ds_root: Path) -> None:
    _image(ds_root / "images/extra/e.png", (10, 10))
    config = {"train": ["images/train", "images/extra"], "names": list(NAMES)}
    _text(ds_root / "data.yaml", yaml.safe_dump(config))
    ds = read_yolo(ds_root / "data.yaml")
    assert ds.images.file_names == (
        "images/extra/e.png",
        "images/train/a.png",
        "images/train/b.png",
    )
    assert ds.num_annotations == 3


def test_roboflow_style_parent_paths(tmp_path: Path) -> None:
    # Roboflow writes '../train/images' although train/ sits beside data.yaml.
    _image(tmp_path / "train/images/a.jpg", (40, 20))
    _text(tmp_path / "train/labels/a.txt", "0 0.5 0.5 0.5 0.5\n")
    config = {"train": "../train/images", "nc": 1, "names": ["cat"]}
    _text(tmp_path / "data.yaml", yaml.safe_dump(config))
    ds = read_yolo(tmp_path / "data.yaml")
    np.testing.assert_allclose(ds.annotations.boxes, [[10, 5, 20, 10]])


def test_stale_absolute_path_falls_back_to_the_yaml_folder(ds_root: Path) -> None:
    config = {"path": "/nowhere/ds", "train": "images/train", "names": list(NAMES)}
    _text(ds_root / "data.yaml", yaml.safe_dump(config))
    with pytest.warns(DetlabWarning, match="field 'path': folder /nowhere/ds does not exist"):
        ds = read_yolo(ds_root / "data.yaml")
    assert ds.num_annotations == 3


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"train": "images/train", "names": {0: "a", 2: "b"}}, "field 'names'.*0..1"),
        ({"train": "images/train", "names": ["a"], "nc": 2}, "field 'nc'"),
        ({"train": "images/train", "names": "cat"}, "field 'names'"),
        ({"train": "nowhere", "names": ["a"]}, "field 'train'.*does not exist"),
        ({"val": "images/train", "names": ["a"]}, "no split 'train'; splits listed: val"),
        (["not", "a", "mapping"], "expected a mapping"),
    ],
    ids=["names-gap", "nc-mismatch", "names-string", "missing-folder", "split-absent", "list"],
)
def test_bad_data_yaml(ds_root: Path, config: Any, message: str) -> None:
    _text(ds_root / "data.yaml", yaml.safe_dump(config))
    with pytest.raises(AnnotationParseError, match=message) as info:
        read_yolo(ds_root / "data.yaml", split="train")
    assert "data.yaml" in str(info.value)


def test_broken_yaml(ds_root: Path) -> None:
    _text(ds_root / "data.yaml", "names: [a, b\n")
    with pytest.raises(AnnotationParseError, match=r"data\.yaml: cannot read as YAML"):
        read_yolo(ds_root / "data.yaml")


# --------------------------------------------------------------------------- polygons


def test_polygon_labels(ds_root: Path) -> None:
    # a.png is 200x100: points (20, 20), (100, 20), (100, 80)
    _text(ds_root / "labels/train/a.txt", "2 0.1 0.2 0.5 0.2 0.5 0.8\n1 0.25 0.75 0.5 0.5\n")
    ds = read_yolo(ds_root)
    a = ds.annotations
    assert a.category_ids.tolist()[:2] == [3, 2]
    np.testing.assert_allclose(a.boxes[0], [20, 20, 80, 60])
    np.testing.assert_allclose(a.area[0], 0.5 * 80 * 60)
    np.testing.assert_allclose(a.segmentation[0], [[20, 20, 100, 20, 100, 80]])
    assert a.segmentation[1] is None
    np.testing.assert_allclose(a.boxes[1], EXPECTED_BOXES[0])


# --------------------------------------------------------------------------- problems

BAD_LINES = [
    ("0 0.5 abc 0.1 0.1", "error", "cy", "not a number: 'abc'"),
    ("0 0.5 0.5 0.1", "error", "values", "expected 5 values"),
    ("0 0.1 0.2 0.3 0.4 0.5", "error", "values", "got 6"),
    ("1.5 0.5 0.5 0.1 0.1", "error", "class", "must be an integer"),
    ("3 0.5 0.5 0.1 0.1", "error", "class", "out of range: there are 3 class names"),
    ("-1 0.5 0.5 0.1 0.1", "error", "class", "class index -1 is out of range"),
    ("0 0.5 0.5 nan 0.1", "error", "w", "must be a finite number"),
    ("0 inf 0.5 0.1 0.1", "error", "cx", "must be a finite number"),
    ("0 0.5 0.5 -0.1 0.1", "error", "w", "must not be negative"),
    ("0 0.5 0.5 0.1 0", "warning", "h", "is 0"),
    ("0 1.2 0.5 0.1 0.1", "warning", "cx", "1.2 is outside"),
    ("0 0.5 0.5 0.1 1.5", "warning", "h", "1.5 is outside"),
    ("0 0.95 0.5 0.2 0.2", "warning", "bbox", "extends outside its 200x100 image"),
    ("0 0.1 0.1 0.5 x 0.5 0.5", "error", "y2", "not a number: 'x'"),
    ("0 0.1 0.1 0.5 0.1 nan 0.5", "error", "x3", "must be a finite number"),
    ("0 0.1 0.1 1.5 0.1 0.5 0.5", "warning", "x2", "1.5 is outside"),
    ("0 0.1 0.1 0.5 0.1 0.9 0.1", "warning", "polygon", "zero width or height"),
    ("7 0.1 0.1 0.5 0.1 0.9 0.5", "error", "class", "out of range"),
]
BAD_IDS = [
    "non-numeric",
    "too-few-values",
    "six-values",
    "class-not-integer",
    "class-too-large",
    "class-negative",
    "nan-width",
    "inf-centre",
    "negative-width",
    "zero-height",
    "centre-outside",
    "height-over-one",
    "box-edge-outside-image",
    "polygon-non-numeric",
    "polygon-nan",
    "polygon-outside",
    "polygon-degenerate",
    "polygon-class-out-of-range",
]


@pytest.mark.parametrize(("line", "severity", "field", "message"), BAD_LINES, ids=BAD_IDS)
def test_problem_names_file_line_and_field(
    ds_root: Path, line: str, severity: str, field: str, message: str
) -> None:
    _text(ds_root / "labels/train/a.txt", f"1 0.25 0.75 0.5 0.5\n{line}\n")
    log = ProblemLog("ds")
    ds = read_yolo(ds_root, log=log)
    assert len(log.problems) == 1
    problem = log.problems[0]
    assert problem.severity == severity
    assert f"labels/train/a.txt line 2, field '{field}': " in str(problem)
    assert message in problem.message
    kept = 2 if severity == "warning" else 1  # lines with errors are left out
    assert ds.counts_per_image().tolist() == [kept, 2]


@pytest.mark.parametrize(
    ("line", "severity"),
    [("0 0.5 abc 0.1 0.1", "error"), ("0 1.2 0.5 0.1 0.1", "warning")],
    ids=["error-raises", "warning-warns"],
)
def test_without_a_log_errors_raise_and_warnings_warn(
    ds_root: Path, line: str, severity: str
) -> None:
    _text(ds_root / "labels/train/a.txt", f"{line}\n")
    where = r"labels/train/a\.txt line 1, field"
    if severity == "error":
        with pytest.raises(AnnotationParseError, match=where):
            read_yolo(ds_root)
    else:
        with pytest.warns(DetlabWarning, match=where):
            read_yolo(ds_root)
        read_yolo(ds_root, warn=False)  # silent: pytest turns any warning into an error


def test_every_problem_is_collected(ds_root: Path) -> None:
    _text(ds_root / "labels/train/a.txt", "x 0.5 0.5 0.1 0.1\n9 0.5 0.5 0.1 0.1\n0 1 2\n")
    with pytest.raises(AnnotationParseError, match="and 2 more error") as info:
        read_yolo(ds_root)
    assert [p.field for p in info.value.problems] == ["class", "values", "class"]


def test_unreadable_image_is_an_error_naming_it(ds_root: Path) -> None:
    _text(ds_root / "images/train/broken.jpg", "not an image")
    with pytest.raises(AnnotationParseError, match=r"images/train/broken\.jpg: cannot read"):
        read_yolo(ds_root)
    log = ProblemLog("ds")
    assert read_yolo(ds_root, log=log).images.file_names == ("a.png", "b.png")
    assert len(log.errors) == 1


def test_unreadable_label_file_is_an_error_naming_it(ds_root: Path) -> None:
    (ds_root / "labels/train/a.txt").write_bytes(b"\xff\xfe0 0.5")
    with pytest.raises(AnnotationParseError, match=r"labels/train/a\.txt: cannot read the label"):
        read_yolo(ds_root)


# --------------------------------------------------------------------------- writing


def _dataset(*, crowd: bool = False) -> Dataset:
    """Images sorted by name, boxes grouped by image: the order read_yolo gives back."""
    return Dataset(
        images=Images.build([4, 8, 9], ["a.png", "b.jpg", "c.png"], [200, 640, 33], [100, 480, 17]),
        categories=(Category(3, "cat"), Category(7, "dog"), Category(10, "bird")),
        annotations=Annotations.build(
            ids=[1, 2, 3, 4],
            image_index=[0, 0, 1, 1],
            category_ids=[7, 3, 10, 7],
            boxes=[
                [0, 50, 100, 50],
                [1.234567, 2.5, 10.1, 20.7],
                [3.3, 4.4, 600.1, 470.9],
                [0, 0, 1, 1],
            ],
            iscrowd=[False, False, False, crowd],
        ),
    )


def _images_for(ds: Dataset, folder: Path) -> None:
    for name, w, h in zip(ds.images.file_names, ds.images.widths, ds.images.heights, strict=True):
        _image(folder / name, (int(w), int(h)))


def _assert_round_trip(ds: Dataset, back: Dataset) -> None:
    np.testing.assert_allclose(back.annotations.boxes, ds.annotations.boxes, rtol=0, atol=1e-3)
    same_boxes = replace(back, annotations=replace(back.annotations, boxes=ds.annotations.boxes))
    assert_datasets_equal(ds, same_boxes, ids=False, flags=False)


@pytest.mark.parametrize("copy_images", [False, True], ids=["symlink", "copy"])
def test_round_trip(tmp_path: Path, copy_images: bool) -> None:
    ds = _dataset()
    _images_for(ds, tmp_path / "src")
    write_yolo(ds, tmp_path / "out", image_root=tmp_path / "src", copy_images=copy_images)
    assert (tmp_path / "out/images/train/a.png").is_symlink() is not copy_images
    _assert_round_trip(ds, read_yolo(tmp_path / "out"))
    _assert_round_trip(ds, read_yolo(tmp_path / "out/data.yaml"))


def test_written_files(tmp_path: Path) -> None:
    ds = _dataset()
    write_yolo(replace(ds, categories=ds.categories[::-1]), tmp_path, split="val")
    assert (tmp_path / "labels/val/a.txt").read_text() == (
        "1 0.250000 0.750000 0.500000 0.500000\n0 0.031423 0.128500 0.050500 0.207000\n"
    )
    assert (tmp_path / "labels/val/c.txt").read_text() == ""
    assert yaml.safe_load((tmp_path / "data.yaml").read_text()) == {
        "path": ".",
        "val": "images/val",
        "nc": 3,
        "names": {0: "cat", 1: "dog", 2: "bird"},
    }
    assert (tmp_path / "classes.txt").read_text() == "cat\ndog\nbird\n"


def test_crowd_boxes_are_skipped_with_one_warning(tmp_path: Path) -> None:
    with pytest.warns(DetlabWarning, match="1 crowd or ignore box"):
        write_yolo(_dataset(crowd=True), tmp_path)
    assert (tmp_path / "labels/train/b.txt").read_text().count("\n") == 1


def test_splits_written_one_after_another(tmp_path: Path) -> None:
    ds = _dataset()
    _images_for(ds, tmp_path / "src")
    write_yolo(ds.subset([0, 1]), tmp_path / "out", image_root=tmp_path / "src")
    write_yolo(ds.subset([2]), tmp_path / "out", split="val", image_root=tmp_path / "src")
    config = yaml.safe_load((tmp_path / "out/data.yaml").read_text())
    assert (config["train"], config["val"]) == ("images/train", "images/val")
    assert read_yolo(tmp_path / "out/data.yaml", split="val").images.file_names == ("c.png",)
    _assert_round_trip(ds.subset([0, 1]), read_yolo(tmp_path / "out", split="train"))


def test_other_names_in_existing_data_yaml_are_refused(tmp_path: Path) -> None:
    _text(tmp_path / "data.yaml", yaml.safe_dump({"train": "images/train", "names": ["x"]}))
    with pytest.raises(InvalidInputError, match=r"already names classes \['x'\]"):
        write_yolo(_dataset(), tmp_path)
    assert not (tmp_path / "labels").exists()


def test_writing_in_place_keeps_the_images(tmp_path: Path) -> None:
    ds = _dataset()
    _images_for(ds, tmp_path / "images/train")
    write_yolo(ds, tmp_path, image_root=tmp_path / "images/train", copy_images=True)
    assert (tmp_path / "images/train/a.png").is_file()
    _assert_round_trip(ds, read_yolo(tmp_path))


@pytest.mark.parametrize(
    ("file_names", "message"),
    [
        (["a.png", "sub/a.jpg", "c.png"], "share the label file a.txt"),
        (["a.png", "", "c"], "no stem"),
    ],
    ids=["same-stem", "empty-name"],
)
def test_file_names_that_cannot_name_labels(
    tmp_path: Path, file_names: list[str], message: str
) -> None:
    ds = _dataset()
    ds = replace(ds, images=replace(ds.images, file_names=tuple(file_names)))
    with pytest.raises(InvalidInputError, match=message):
        write_yolo(ds, tmp_path)


def test_missing_image_is_named(tmp_path: Path) -> None:
    ds = _dataset()
    _images_for(ds.subset([0, 2]), tmp_path / "src")
    with pytest.raises(InvalidInputError, match=r"1 image\(s\) not found: .*b\.jpg"):
        write_yolo(ds, tmp_path / "out", image_root=tmp_path / "src")
    assert not (tmp_path / "out").exists()


def test_polygons_are_written_as_boxes(ds_root: Path, tmp_path: Path) -> None:
    _text(ds_root / "labels/train/a.txt", "2 0.1 0.2 0.5 0.2 0.5 0.8\n")
    ds = read_yolo(ds_root)
    write_yolo(ds, tmp_path / "out", image_root=ds_root / "images/train")
    assert (tmp_path / "out/labels/train/a.txt").read_text() == (
        "2 0.300000 0.500000 0.400000 0.600000\n"
    )


def test_import_loads_neither_pillow_nor_yaml() -> None:
    code = (
        "import sys, detlab.data.formats.yolo\n"
        "print(sorted(m for m in ('PIL', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
