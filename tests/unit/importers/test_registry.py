"""The list of sources and autodetection over a path."""

from __future__ import annotations

from pathlib import Path

import pytest

from detlab.errors import ConfigError, InvalidInputError
from detlab.importers.registry import SOURCES, discover, find_source, parse_path

FIXTURES = Path(__file__).parents[2] / "fixtures" / "importers"


def test_every_source_has_a_name_and_a_description() -> None:
    names = [s.name for s in SOURCES]
    assert len(names) == len(set(names))
    assert {"mmdet2", "mmengine", "detectron2", "pasted"} <= set(names)
    assert all(s.description for s in SOURCES)


@pytest.mark.parametrize(
    ("folder", "source"),
    [
        pytest.param("mmdet2", "mmdet2", id="mmdet2"),
        pytest.param("mmengine", "mmengine", id="mmengine"),
        pytest.param("detectron2", "detectron2", id="detectron2"),
    ],
)
def test_a_folder_of_runs_is_searched(folder: str, source: str) -> None:
    found = discover(FIXTURES / folder)
    assert found
    assert {s.name for s, _ in found} == {source}


def test_work_dirs_find_each_run_folder_once() -> None:
    found = {(s.name, p.name) for s, p in discover(FIXTURES / "mmdet2")}
    assert found == {
        ("mmdet2", "cascade_rcnn_r50_fpn_1x_urpc"),
        ("mmdet2", "faster_rcnn_r50_fpn_1x_voc0712"),
        ("mmdet2", "mmcv_runner_resumed"),
    }
    mm = {p.name for _, p in discover(FIXTURES / "mmengine")}
    assert mm == {"openmmlab_camp", "toy_coco_epochs", "toy_voc_iters"}  # not each launch


def test_a_pasted_file_given_directly() -> None:
    ((source, _),) = discover(FIXTURES / "pasted" / "soloassign_ml_3x_seed003.txt")
    assert source.name == "pasted"


def test_unknown_folder_lists_every_format(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("nothing here")
    with pytest.raises(InvalidInputError) as caught:
        discover(tmp_path)
    message = str(caught.value)
    assert str(tmp_path) in message
    for source in SOURCES:
        assert source.name in message
        assert source.description in message


def test_missing_path_and_unknown_source(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file or folder"):
        discover(tmp_path / "absent")
    with pytest.raises(ConfigError, match="unknown source 'caffe'"):
        find_source("caffe")


def test_source_option_restricts_detection() -> None:
    with pytest.raises(InvalidInputError, match="as detectron2 files"):
        discover(FIXTURES / "mmdet2", source="detectron2")
    runs = parse_path(FIXTURES / "mmdet2", source="mmdet2")
    assert [r.name for r in runs] == [
        "cascade_rcnn_r50_fpn_1x_urpc",
        "faster_rcnn_r50_fpn_1x_voc0712",
        "mmcv_runner_resumed",
    ]
