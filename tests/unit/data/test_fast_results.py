"""The compiled results reader: the same columns as the full reader, or a clean decline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detlab.data.formats import fast_results
from detlab.data.formats.coco_results import parse_coco_results, read_coco_results
from detlab.errors import AnnotationParseError

pytestmark = pytest.mark.skipif(
    not fast_results.available(), reason="the C extension is not built (no compiler)"
)

numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=3, max_value=10**6, min_value=-(10**6)
    ).map(float),
)
records = st.lists(
    st.fixed_dictionaries(
        {
            "image_id": st.integers(min_value=-(10**17), max_value=10**17),
            "category_id": st.integers(min_value=0, max_value=10**6),
            "bbox": st.lists(numbers.map(abs), min_size=4, max_size=4),  # valid boxes
            "score": numbers,
        }
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(records, st.booleans())
def test_columns_equal_the_full_reader(recs: list[dict[str, object]], indent: bool) -> None:
    data = json.dumps(recs, indent=2 if indent else None).encode()
    columns = fast_results.parse_results_bytes(data)
    assert columns is not None
    expected = parse_coco_results(json.loads(data), warn=False)
    image_ids, category_ids, scores, boxes = columns
    assert np.array_equal(image_ids, expected.image_ids)
    assert np.array_equal(category_ids, expected.category_ids)
    assert np.array_equal(scores, expected.scores)
    assert np.array_equal(boxes, expected.boxes)
    assert boxes.shape == (len(recs), 4)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"image_id": 1}', id="not-a-list"),
        pytest.param('[{"image_id": 1, "category_id": 2, "score": 0.5}]', id="no-bbox"),
        pytest.param('[{"image_id": 1.0, "category_id": 2, "score": 0.5, "bbox": [1, 2, 3, 4]}]',
                     id="float-id"),
        pytest.param('[{"image_id": 1, "category_id": 2, "score": NaN, "bbox": [1, 2, 3, 4]}]',
                     id="nan"),
        pytest.param('[{"image_id": 1, "category_id": 2, "score": 0.5, "bbox": [1, 2, 3]}]',
                     id="three-numbers"),
        pytest.param('[{"image_id": 1, "category_id": 2, "score": 0.5, "bbox": [1, 2, 3, 4],'
                     ' "segmentation": {"size": [2, 2], "counts": "04"}}]', id="mask"),
        pytest.param('[{"image_id": 1, "image_id": 2, "category_id": 2, "score": 0.5,'
                     ' "bbox": [1, 2, 3, 4]}]', id="repeated-key"),
        pytest.param('[{"image_id": "1", "category_id": 2, "score": 0.5, "bbox": [1, 2, 3, 4]}]',
                     id="string-id"),
        pytest.param('[{"image_id": 01, "category_id": 2, "score": 0.5, "bbox": [1, 2, 3, 4]}]',
                     id="leading-zero"),
        pytest.param('[{"image_id": 1, "category_id": 2, "score": 0.5, "bbox": [1, 2, 3, 4]},]',
                     id="trailing-comma"),
        pytest.param('[{"image_id": 1, "category_id": 2, "score": 0.5, "bbox": [1, 2, 3, 4]}] x',
                     id="trailing-text"),
        pytest.param('[{"image_id": 1234567890123456789, "category_id": 2, "score": 0.5,'
                     ' "bbox": [1, 2, 3, 4]}]', id="id-over-18-digits"),
    ],
)  # fmt: skip
def test_anything_else_is_declined(text: str) -> None:
    assert fast_results.parse_results_bytes(text.encode()) is None


def test_faults_are_still_named_by_record_and_field(tmp_path: Path) -> None:
    path = tmp_path / "dt.json"
    recs = [
        {"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.9},
        {"image_id": 2, "category_id": 1, "bbox": [0, 0, -4, 5], "score": 0.8},
    ]
    path.write_text(json.dumps(recs))
    assert fast_results.parse_results_bytes(path.read_bytes()) is not None
    with pytest.raises(AnnotationParseError, match=r"predictions\[1\].*'bbox'.*negative"):
        read_coco_results(path)
