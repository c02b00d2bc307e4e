"""O(1) lookup from integer ids (image ids, category ids) to row positions.

COCO ids are arbitrary integers (val2017's image ids go up to 581,929, category ids skip
numbers). A dense array indexed by ``id - min_id`` answers each lookup with one array read,
for a whole column at once. Ids spread so thinly that a dense array would waste memory fall
back to a binary search over the sorted ids, which is still vectorised.

>>> import numpy as np
>>> index = IdIndex(np.array([42, 7, 1000]))
>>> index.positions(np.array([7, 1000, 5]))
array([ 1,  2, -1])
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["IdIndex", "IntArray"]

IntArray = npt.NDArray[np.int64]

# A dense table costs 8 bytes per id in the span; allow it up to this many entries,
# or up to 8 entries per id, whichever is larger.
_DENSE_SPAN_FLOOR = 1 << 22
_DENSE_SPAN_PER_ID = 8


class IdIndex:
    """Positions of ids in a column. Duplicated ids resolve to their first occurrence."""

    __slots__ = ("_dense", "_lo", "_order", "_sorted", "ids")

    def __init__(self, ids: npt.ArrayLike) -> None:
        self.ids: IntArray = np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))
        self._dense: IntArray | None = None
        self._sorted: IntArray | None = None
        self._order: IntArray | None = None
        self._lo = 0
        if self.ids.size == 0:
            return
        lo, hi = int(self.ids.min()), int(self.ids.max())
        span = hi - lo + 1
        if span <= max(_DENSE_SPAN_FLOOR, _DENSE_SPAN_PER_ID * self.ids.size):
            dense = np.full(span, -1, dtype=np.int64)
            positions = np.arange(self.ids.size, dtype=np.int64)
            # Reverse so that the first occurrence of a duplicated id is written last and wins.
            dense[self.ids[::-1] - lo] = positions[::-1]
            self._dense, self._lo = dense, lo
        else:
            order = np.argsort(self.ids, kind="stable")
            self._order, self._sorted = order, self.ids[order]

    def __len__(self) -> int:
        return int(self.ids.size)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, (int, np.integer)) and self.position(int(item)) >= 0

    def position(self, id_: int) -> int:
        """The position of one id, or -1 when it is not in the column."""
        return int(self.positions(np.array([id_], dtype=np.int64))[0])

    def positions(self, ids: npt.ArrayLike) -> IntArray:
        """Positions of many ids at once, ``-1`` where an id is unknown."""
        query = np.asarray(ids, dtype=np.int64).reshape(-1)
        if self.ids.size == 0:
            return np.full(query.shape, -1, dtype=np.int64)
        if self._dense is not None:
            offset = query - self._lo
            inside = (offset >= 0) & (offset < self._dense.size)
            out = np.full(query.shape, -1, dtype=np.int64)
            out[inside] = self._dense[offset[inside]]
            return out
        assert self._sorted is not None  # set with _order in __init__ when not dense
        assert self._order is not None
        slot = np.searchsorted(self._sorted, query, side="left")
        slot_clipped = np.minimum(slot, self._sorted.size - 1)
        found = self._sorted[slot_clipped] == query
        return np.where(found, self._order[slot_clipped], -1).astype(np.int64)
