from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from detlab.core import BOX_FORMATS, box_area, convert_boxes
from detlab.core.boxes import as_boxes
from detlab.errors import BoxFormatError, InvalidInputError

finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)
box_arrays = arrays(np.float64, st.tuples(st.integers(0, 20), st.just(4)), elements=finite)


def test_known_values() -> None:
    xywh = np.array([[10.0, 20.0, 30.0, 40.0]])
    np.testing.assert_array_equal(convert_boxes(xywh, "xywh", "xyxy"), [[10, 20, 40, 60]])
    np.testing.assert_array_equal(convert_boxes(xywh, "xywh", "cxcywh"), [[25, 40, 30, 40]])
    np.testing.assert_array_equal(
        convert_boxes([[25, 40, 30, 40]], "cxcywh", "xyxy"), [[10, 20, 40, 60]]
    )
    np.testing.assert_array_equal(box_area([[0, 0, 4, 5]], "xyxy"), [20.0])


@given(box_arrays, st.sampled_from(BOX_FORMATS), st.sampled_from(BOX_FORMATS))
def test_round_trip_between_any_two_formats(boxes, src, dst) -> None:
    back = convert_boxes(convert_boxes(boxes, src, dst), dst, src)
    np.testing.assert_allclose(back, boxes, rtol=1e-12, atol=1e-8)


@given(box_arrays, st.sampled_from(BOX_FORMATS))
def test_area_does_not_depend_on_format(boxes, fmt) -> None:
    np.testing.assert_allclose(
        box_area(convert_boxes(boxes, "xywh", fmt), fmt), boxes[:, 2] * boxes[:, 3], atol=1e-6
    )


def test_conversion_never_aliases_its_input() -> None:
    boxes = np.ones((3, 4))
    out = convert_boxes(boxes, "xywh", "xywh")
    out[0, 0] = 5
    assert boxes[0, 0] == 1


def test_empty_input_gives_zero_rows() -> None:
    assert as_boxes([]).shape == (0, 4)
    assert convert_boxes(np.zeros((0, 4)), "xyxy", "cxcywh").shape == (0, 4)


@pytest.mark.parametrize(
    ("boxes", "match"),
    [
        pytest.param([[1, 2, 3]], r"shape \(N, 4\)", id="three-columns"),
        pytest.param([["a", 1, 2, 3]], "cannot read as numbers", id="strings"),
    ],
)
def test_bad_arrays_are_box_format_errors(boxes, match) -> None:
    with pytest.raises(BoxFormatError, match=match) as info:
        as_boxes(boxes)
    assert isinstance(info.value, InvalidInputError)


def test_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(BoxFormatError, match="xyxy, xywh, cxcywh"):
        convert_boxes([[0, 0, 1, 1]], "xywh", "ltrb")  # type: ignore[arg-type]
