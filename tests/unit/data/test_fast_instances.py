"""The compiled instances reader: the same dataset and problems as the full reader, or a decline."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detlab.core.dataset import Dataset
from detlab.data.formats import fast_results
from detlab.data.formats.coco import parse_coco, parse_coco_bytes
from detlab.errors import AnnotationParseError

pytestmark = pytest.mark.skipif(
    not fast_results.available(), reason="the C extension is not built (no compiler)"
)

ANNOTATION_COLUMNS = ("ids", "image_index", "category_ids", "boxes", "area", "iscrowd")
FLAG_COLUMNS = ("ignore", "difficult", "truncated")

numbers = st.one_of(
    st.floats(min_value=0, max_value=1e6, allow_nan=False, width=64),
    st.integers(min_value=0, max_value=10**15),
    st.decimals(min_value=0, max_value=10**4, places=2, allow_nan=False).map(float),
)
segmentations = st.one_of(
    st.lists(st.lists(numbers, min_size=6, max_size=8), min_size=1, max_size=2),
    st.fixed_dictionaries(
        {"size": st.just([10, 10]), "counts": st.text('0123456789abc[]\\"', max_size=8)}
    ),
    st.just([]),
)


@st.composite
def instances(draw: st.DrawFn) -> dict[str, Any]:
    n_images = draw(st.integers(1, 4))
    images = [
        {"id": i + 1, "file_name": f"{i}.jpg", "width": 100, "height": 80} for i in range(n_images)
    ]
    if draw(st.booleans()):
        images[0]["video_id"] = 3
        images[0]["note"] = "x"
    cats = [{"id": 1, "name": "fish", "supercategory": "animal"}, {"id": 7, "name": "crab"}]
    anns = []
    optional = draw(st.sets(st.sampled_from(["area", "iscrowd", "segmentation"])))
    first_id = draw(st.integers(0, 10**17))
    for k in range(draw(st.integers(0, 8))):
        record: dict[str, Any] = {
            "id": first_id + k,
            "image_id": draw(st.integers(1, n_images)),
            "category_id": draw(st.sampled_from([1, 7])),
            "bbox": draw(st.lists(numbers, min_size=4, max_size=4)),
        }
        for key in sorted(optional):
            if draw(st.booleans()) or k == 0:
                if key == "area":
                    record[key] = draw(numbers)
                elif key == "iscrowd":
                    record[key] = draw(st.integers(0, 1))
                else:
                    record[key] = draw(segmentations)
        order = draw(st.permutations(sorted(record)))
        anns.append({key: record[key] for key in order})
    top: dict[str, Any] = {"images": images, "annotations": anns, "categories": cats}
    if draw(st.booleans()):
        top = {"info": {"year": 2017, "text": 'a "quoted" [bracket]'}, **top, "licenses": []}
    return top


def assert_same_dataset(a: Dataset, b: Dataset) -> None:
    for name in ANNOTATION_COLUMNS + FLAG_COLUMNS:
        x, y = getattr(a.annotations, name), getattr(b.annotations, name)
        assert x.dtype == y.dtype, name
        assert x.shape == y.shape, name
        assert np.array_equal(x.view(np.uint8), y.view(np.uint8)), name  # bit for bit
    assert a.annotations.segmentation == b.annotations.segmentation
    assert a.annotations.extra == b.annotations.extra
    for name in ("ids", "widths", "heights", "sequence", "frame_index"):
        assert np.array_equal(getattr(a.images, name), getattr(b.images, name)), name
    assert a.images.file_names == b.images.file_names
    assert a.images.extra == b.images.extra
    assert a.images.sequence_values == b.images.sequence_values
    assert a.categories == b.categories
    assert a.optional_flags == b.optional_flags
    assert a.extra == b.extra


@settings(max_examples=150, deadline=None)
@given(instances(), st.booleans())
def test_the_compiled_reader_gives_the_full_readers_dataset(
    obj: dict[str, Any], indent: bool
) -> None:
    data = json.dumps(obj, indent=2 if indent else None).encode()
    assert fast_results.parse_instances_bytes(data) is not None
    compiled = parse_coco_bytes(data, warn=False)
    assert_same_dataset(compiled, parse_coco(json.loads(data), warn=False))


def test_negative_zero_integers_are_python_zero() -> None:
    text = (
        '{"images": [{"id": 1, "width": 9, "height": 9}], "categories": [{"id": 1, "name": "a"}],'
        ' "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [-0, -0.0, 2, 3],'
        ' "area": -0}]}'
    )
    compiled = parse_coco_bytes(text.encode(), warn=False)
    assert_same_dataset(compiled, parse_coco(json.loads(text), warn=False))
    assert np.signbit(compiled.annotations.boxes[0]).tolist() == [False, True, False, False]


BASE = '{"images": [{"id": 1, "width": 9, "height": 9}], "categories": [{"id": 1, "name": "a"}], '


REC = '"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]'


@pytest.mark.parametrize(
    "annotations",
    [
        pytest.param("[{" + REC + ', "ignore": 1}]', id="ignore-flag"),
        pytest.param("[{" + REC + ', "note": 1}]', id="other-key"),
        pytest.param("[{" + REC.replace('"id": 1', '"id": "1"') + "}]", id="string-id"),
        pytest.param("[{" + REC.replace('"id": 1', '"id": 1.0') + "}]", id="float-id"),
        pytest.param("[{" + REC + ', "iscrowd": true}]', id="bool-crowd"),
        pytest.param("[{" + REC.replace("3, 4", "NaN, 4") + "}]", id="nan"),
        pytest.param("[{" + REC.replace("3, 4", "3") + "}]", id="three-numbers"),
        pytest.param('[{"id": 1, "image_id": 1, "category_id": 1}]', id="no-bbox"),
        pytest.param(
            "[{" + REC.replace('"id": 1', '"id": 1234567890123456789') + "}]",
            id="id-over-18-digits",
        ),
        pytest.param(
            "[{" + REC.replace("4]", "12345678901234567890]") + "}]",
            id="huge-integer-coordinate",
        ),
        pytest.param('[{"id": 2, ' + REC + "}]", id="repeated-key"),
        pytest.param("[{" + REC.replace('"id"', '"i\\u0064"') + "}]", id="escaped-key"),
        pytest.param('{"id": 1}', id="not-a-list"),
    ],
)
def test_anything_else_is_declined(annotations: str) -> None:
    data = (BASE + f'"annotations": {annotations}}}').encode()
    assert fast_results.parse_instances_bytes(data) is None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"images": [], "categories": []}', id="no-annotations"),
        pytest.param(BASE + '"annotations": [], "annotations": []}', id="annotations-twice"),
        pytest.param(BASE + '"annotations": []} x', id="trailing-text"),
        pytest.param("[]", id="not-an-object"),
    ],
)
def test_files_of_another_shape_are_declined(text: str) -> None:
    assert fast_results.parse_instances_bytes(text.encode()) is None


def test_a_broken_rest_falls_back_to_the_full_reader() -> None:
    data = (BASE + '"annotations": [], "info": {"a": [1, 2}]}').encode()
    assert fast_results.parse_instances_bytes(data) is not None  # spans found, JSON broken
    with pytest.raises(AnnotationParseError, match="broken JSON"):
        parse_coco_bytes(data, source="gt.json")


def test_faults_are_named_as_the_full_reader_names_them() -> None:
    data = (
        BASE + '"annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2]},'
        ' {"id": 2, "image_id": 5, "category_id": 1, "bbox": [0, 0, -4, 2]}]}'
    ).encode()
    assert fast_results.parse_instances_bytes(data) is not None
    with pytest.raises(AnnotationParseError) as compiled:
        parse_coco_bytes(data, source="gt.json")
    with pytest.raises(AnnotationParseError) as full:
        parse_coco(json.loads(data), source="gt.json")
    assert str(compiled.value) == str(full.value)
    assert "annotations[1] (id=2, image_id=5)" in str(compiled.value)
