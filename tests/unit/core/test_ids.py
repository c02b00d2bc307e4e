from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from detlab.core import IdIndex
from detlab.core import ids as ids_module


def _reference(ids: list[int], query: list[int]) -> list[int]:
    first: dict[int, int] = {}
    for pos, i in enumerate(ids):
        first.setdefault(i, pos)
    return [first.get(q, -1) for q in query]


@given(st.lists(st.integers(-50, 500)), st.lists(st.integers(-100, 600)))
def test_dense_lookup_matches_a_dict(ids, query) -> None:
    assert IdIndex(np.array(ids, dtype=np.int64)).positions(query).tolist() == _reference(
        ids, query
    )


@given(
    st.lists(st.integers(-(2**60), 2**60), max_size=30),
    st.lists(st.integers(-(2**60), 2**60), max_size=30),
)
def test_sparse_ids_fall_back_to_sorted_search(ids, query) -> None:
    index = IdIndex(np.array(ids, dtype=np.int64))
    assert index.positions(query + ids).tolist() == _reference(ids, query + ids)


def test_dense_table_is_used_for_coco_like_ids() -> None:
    index = IdIndex(np.array([139, 285, 581929]))
    assert index._dense is not None
    assert index.position(581929) == 2
    assert 285 in index
    assert 286 not in index
    assert "285" not in index


def test_huge_span_uses_binary_search() -> None:
    index = IdIndex(np.array([0, ids_module._DENSE_SPAN_FLOOR * 100]))
    assert index._dense is None
    assert index.positions([ids_module._DENSE_SPAN_FLOOR * 100, 5]).tolist() == [1, -1]


def test_empty_index() -> None:
    assert IdIndex(np.array([], dtype=np.int64)).positions([1, 2]).tolist() == [-1, -1]
