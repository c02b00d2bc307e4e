"""Assigning items to splits by their class counts: the search behind :mod:`detlab.data.splits`.

Two problems, both on plain arrays (no dataset model here):

- :func:`stratify_iteratively` puts single images into splits of exact sizes so that every
  class keeps its share of boxes: iterative stratification (Sechidis, Tsoumakas and Vlahavas,
  "On the stratification of multi-label data", ECML PKDD 2011), driven by box counts rather
  than 0/1 labels and with the split sizes as hard capacities; then, when affordable, swaps of
  two images between splits while they bring the class shares closer.
- :func:`assign_groups` puts whole groups (sequences) into splits, which cannot hit sizes
  exactly: largest group first into the split that lacks the most, then single moves and
  pairwise swaps while they lower the cost (size error plus class-share error).

``counts`` is ``(G, K) int64``: per item (image or group), boxes per class. ``sizes`` is
``(S,) int64``: images wanted per split. Both functions return ``(G,) int64`` split codes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from detlab.core.ids import IntArray

__all__ = ["assign_groups", "stratify_iteratively"]

FloatArray = npt.NDArray[np.float64]

#: Improvements smaller than this are rounding noise, not progress.
_TOLERANCE = 1e-12
#: Swap evaluation builds ``(rows, Gb, K)`` arrays; keep each block below this many floats.
_BLOCK_FLOATS = 1 << 21
#: Local search stops after this many improving steps, or when none is left.
_MAX_STEPS = 500
#: Restarts: up to this many, fewer when ``groups**2`` (the cost of one swap pass) is large.
_MAX_RESTARTS = 16
_RESTART_BUDGET = 4_000_000
#: Pairwise swaps cost ``O(G^2 K)`` per step; above this budget only moves are tried.
_SWAP_BUDGET = 20_000_000


# --------------------------------------------------------------------------- images


def stratify_iteratively(counts: IntArray, sizes: IntArray, rng: np.random.Generator) -> IntArray:
    """Split codes for ``N`` images, ``sizes[s]`` of them in split ``s``, class shares kept.

    The class with the fewest unassigned images is handled first (its images are the hardest
    to spread); each of its images goes to the open split that still wants the most boxes of
    it, ties to the split that wants the most images, then at random. A split is open while it
    has room, so the sizes come out exact. Images without boxes fill the remaining room.
    Randomness (ties, the order within a class) comes from ``rng`` only.
    """
    n = counts.shape[0]
    codes = np.full(n, -1, dtype=np.int64)
    room = sizes.astype(np.int64).copy()
    wanted = (sizes / max(n, 1))[:, None] * counts.sum(axis=0)[None, :].astype(np.float64)
    presence = counts > 0
    left = presence.sum(axis=0)
    while (left > 0).any():
        label = _rarest(left, rng)
        for i in rng.permutation(np.flatnonzero(presence[:, label] & (codes < 0))):
            s = _best_split(room, wanted[:, label], rng)
            codes[i] = s
            room[s] -= 1
            wanted[s] -= counts[i]
            left -= presence[i]
    for i in rng.permutation(np.flatnonzero(codes < 0)):
        s = _best_split(room, room.astype(np.float64), rng)
        codes[i] = s
        room[s] -= 1
    return _polish_by_swaps(codes, counts, sizes)


def _polish_by_swaps(codes: IntArray, counts: IntArray, sizes: IntArray) -> IntArray:
    """Swap images between splits while that brings the class shares closer (sizes stay).

    The greedy pass places the last images wherever there is room left; on small datasets
    that can cost a few percentage points, which a handful of swaps wins back.
    """
    if not _swaps_affordable(*counts.shape):
        return codes
    ones = np.ones(codes.size, dtype=np.int64)
    state = _State.of(codes.copy(), ones, counts, sizes.size)
    cost = _Cost(counts.sum(axis=0), sizes)
    for _ in range(_MAX_STEPS):
        if not _best_swap(state, cost):
            break
    return state.codes


def _rarest(left: IntArray, rng: np.random.Generator) -> int:
    live = np.flatnonzero(left > 0)
    fewest = live[left[live] == left[live].min()]
    return int(rng.choice(fewest))


def _best_split(room: IntArray, want: FloatArray, rng: np.random.Generator) -> int:
    """The open split wanting the most, ties to the one with the most room, then at random."""
    open_ = np.flatnonzero(room > 0)
    top = open_[want[open_] >= want[open_].max() - 1e-9]
    if top.size > 1:
        top = top[room[top] == room[top].max()]
    return int(top[0] if top.size == 1 else rng.choice(top))


# --------------------------------------------------------------------------- groups


def assign_groups(
    group_sizes: IntArray, counts: IntArray, sizes: IntArray, rng: np.random.Generator
) -> IntArray:
    """Split codes for ``G`` groups of ``group_sizes`` images, aiming at ``sizes`` images.

    Every split gets at least one group (the caller makes sure there are enough). The cost
    of a split is ``|images - wanted| / wanted`` plus the L1 distance between its class shares
    of boxes and the whole dataset's; the search lowers the sum over splits.
    """
    cost = _Cost(counts.sum(axis=0), sizes)
    best, best_cost = np.empty(0, dtype=np.int64), np.inf
    for _ in range(_restarts(group_sizes.size)):
        state = _State.of(_greedy(group_sizes, sizes, rng), group_sizes, counts, sizes.size)
        for _ in range(_MAX_STEPS):
            if not (_best_move(state, cost) or _best_swap(state, cost)):
                break
        total = sum(state.split_cost(cost, s) for s in range(sizes.size))
        if best.size == 0 or total < best_cost - _TOLERANCE:
            best, best_cost = state.codes, total
    return best


def _swaps_affordable(groups: int, classes: int) -> bool:
    return groups * groups * max(classes, 1) <= _SWAP_BUDGET


def _restarts(groups: int) -> int:
    """Local search from several random starts: more of them when each one is cheap."""
    return int(np.clip(_RESTART_BUDGET // max(groups, 1) ** 2, 1, _MAX_RESTARTS))


def _greedy(group_sizes: IntArray, sizes: IntArray, rng: np.random.Generator) -> IntArray:
    """Largest group first into the split lacking the largest share of its size."""
    order = rng.permutation(group_sizes.size)
    order = order[np.argsort(-group_sizes[order], kind="stable")]
    filled = np.zeros(sizes.size, dtype=np.int64)
    codes = np.full(group_sizes.size, -1, dtype=np.int64)
    for rank, g in enumerate(order):
        empty = np.flatnonzero(filled == 0)
        if empty.size and group_sizes.size - rank <= empty.size:
            s = int(empty[0])  # as many groups left as empty splits: one each
        else:
            lack = (sizes - filled) / sizes
            s = int(np.argmax(lack))
        codes[g] = s
        filled[s] += group_sizes[g]
    return codes


class _Cost:
    """The cost of one split from its image count and box counts per class."""

    def __init__(self, totals: IntArray, sizes: IntArray) -> None:
        all_boxes = int(totals.sum())
        self.shares = totals / all_boxes if all_boxes else np.zeros(totals.size)
        self.sizes = sizes.astype(np.float64)

    def __call__(self, split: int, images: npt.ArrayLike, boxes: FloatArray) -> FloatArray:
        """``images`` shaped ``(...)``, ``boxes`` shaped ``(..., K)``; empty splits cost inf."""
        images = np.asarray(images, dtype=np.float64)
        total = boxes.sum(axis=-1, keepdims=True)
        shares = np.divide(boxes, total, out=np.zeros_like(boxes), where=total > 0)
        cost = np.abs(images - self.sizes[split]) / self.sizes[split]
        cost = cost + np.abs(shares - self.shares).sum(axis=-1)
        return np.where(images > 0, cost, np.inf)


class _State:
    """Codes per group and, per split, the images and boxes per class it holds."""

    def __init__(
        self, codes: IntArray, group_sizes: IntArray, counts: FloatArray, images: FloatArray
    ) -> None:
        self.codes = codes
        self.group_sizes = group_sizes
        self.counts = counts
        self.images = images
        self.boxes = np.stack([counts[codes == s].sum(axis=0) for s in range(images.size)])

    @classmethod
    def of(cls, codes: IntArray, group_sizes: IntArray, counts: IntArray, splits: int) -> _State:
        images = np.bincount(codes, weights=group_sizes, minlength=splits).astype(np.float64)
        return cls(codes, group_sizes, counts.astype(np.float64), images)

    def move(self, group: int, to: int) -> None:
        frm = int(self.codes[group])
        self.images[frm] -= self.group_sizes[group]
        self.images[to] += self.group_sizes[group]
        self.boxes[frm] -= self.counts[group]
        self.boxes[to] += self.counts[group]
        self.codes[group] = to

    def split_cost(self, cost: _Cost, split: int) -> float:
        return float(cost(split, self.images[split], self.boxes[split]))


def _best_move(state: _State, cost: _Cost) -> bool:
    """Apply the single group move that lowers the cost most; False when none does."""
    codes, sizes, counts = state.codes, state.group_sizes, state.counts
    splits = state.images.size
    old = np.array([state.split_cost(cost, s) for s in range(splits)])
    leave = np.empty(codes.size)
    for s in range(splits):
        mine = codes == s
        leave[mine] = cost(s, state.images[s] - sizes[mine], state.boxes[s] - counts[mine])
    best, choice = -_TOLERANCE, (-1, -1)
    for to in range(splits):
        join = cost(to, state.images[to] + sizes, state.boxes[to] + counts)
        delta = np.where(codes == to, np.inf, leave + join - old[codes] - old[to])
        g = int(np.argmin(delta))
        if delta[g] < best:
            best, choice = float(delta[g]), (g, to)
    if choice[0] < 0:
        return False
    state.move(*choice)
    return True


def _best_swap(state: _State, cost: _Cost) -> bool:
    """Apply the swap of two groups in different splits that lowers the cost most."""
    if not _swaps_affordable(state.counts.shape[0], state.counts.shape[1]):
        return False
    best, choice = -_TOLERANCE, (-1, -1)
    splits = state.images.size
    for a in range(splits):
        for b in range(a + 1, splits):
            delta, pair = _best_swap_between(state, cost, a, b)
            if delta < best:
                best, choice = delta, pair
    if choice[0] < 0:
        return False
    g, h = choice
    to_b, to_a = int(state.codes[h]), int(state.codes[g])
    state.move(g, to_b)
    state.move(h, to_a)
    return True


def _best_swap_between(state: _State, cost: _Cost, a: int, b: int) -> tuple[float, tuple[int, int]]:
    in_a, in_b = np.flatnonzero(state.codes == a), np.flatnonzero(state.codes == b)
    if not (in_a.size and in_b.size):
        return np.inf, (-1, -1)
    old = state.split_cost(cost, a) + state.split_cost(cost, b)
    size_b, count_b = state.group_sizes[in_b], state.counts[in_b]
    rows = max(1, _BLOCK_FLOATS // max(1, in_b.size * count_b.shape[1]))
    best, pair = np.inf, (-1, -1)
    for start in range(0, in_a.size, rows):
        block = in_a[start : start + rows]
        images_shift = size_b[None, :] - state.group_sizes[block][:, None]
        boxes_shift = count_b[None, :, :] - state.counts[block][:, None, :]
        new_a = cost(a, state.images[a] + images_shift, state.boxes[a] + boxes_shift)
        new_b = cost(b, state.images[b] - images_shift, state.boxes[b] - boxes_shift)
        delta = new_a + new_b - old
        i, j = np.unravel_index(int(np.argmin(delta)), delta.shape)
        if delta[i, j] < best:
            best, pair = float(delta[i, j]), (int(block[i]), int(in_b[j]))
    return best, pair
