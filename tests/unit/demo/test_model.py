"""The demo detector: gradients against finite differences, decoding and NMS, learning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detlab.demo.features import GridSpec, cell_patches, prepare_data
from detlab.demo.model import (
    LossWeights,
    Params,
    backward,
    decode,
    forward,
    init_params,
    loss_and_grad,
    nms,
)
from detlab.demo.optim import learning_rate, sgd_step

WEIGHTS = LossWeights(obj=5.0, noobj=1.0, cls=1.5, coord=2.0)


def _tiny_problem(rng: np.random.Generator) -> tuple[Params, np.ndarray, tuple[np.ndarray, ...]]:
    """18 cells (2 images x 3 x 3) of 6 features, 3 classes, float64."""
    params = init_params(6, 3, hidden=5, rng=rng, dtype=np.float64)
    params = {k: v + rng.normal(0, 0.3, v.shape) for k, v in params.items()}  # off the init
    x = rng.normal(size=(18, 6))
    obj = (rng.random(18) < 0.3).astype(np.float64)
    obj[0] = 1.0
    cls = np.where(obj > 0, rng.integers(0, 3, 18), 0)
    box = np.where(obj[:, None] > 0, rng.normal(size=(18, 4)), 0.0)
    ignore = (rng.random(18) < 0.2) & (obj == 0)
    return params, x, (obj, cls, box, ignore)


def _loss(params: Params, x: np.ndarray, targets: tuple[np.ndarray, ...]) -> float:
    out, _ = forward(params, x)
    return loss_and_grad(out, *targets, weights=WEIGHTS, images=2)[0]


def test_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(7)
    params, x, targets = _tiny_problem(rng)
    out, cache = forward(params, x)
    _, _, dout = loss_and_grad(out, *targets, weights=WEIGHTS, images=2)
    grads = backward(params, cache, dout)
    eps = 1e-6
    for key, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + eps
            up = _loss(params, x, targets)
            value[index] = saved - eps
            down = _loss(params, x, targets)
            value[index] = saved
            numeric[index] = (up - down) / (2 * eps)
        scale = np.abs(numeric).max() + 1e-12
        assert np.abs(grads[key] - numeric).max() / scale < 1e-6, key


def test_loss_parts_and_ignored_cells() -> None:
    out = np.zeros((3, 1 + 2 + 4))
    obj = np.array([1.0, 0.0, 0.0])
    cls = np.array([1, 0, 0])
    box = np.array([[0.5, 0.5, 0.0, 0.0], [0, 0, 0, 0], [0, 0, 0, 0]])
    ignore = np.array([False, False, True])
    weights = LossWeights(obj=2.0, noobj=1.0, cls=1.0, coord=1.0)
    total, parts, dout = loss_and_grad(out, obj, cls, box, ignore, weights=weights, images=1)
    assert parts["obj"] == pytest.approx(3 * np.log(2.0))  # 2 x log 2 + 1 x log 2; one ignored
    assert parts["cls"] == pytest.approx(np.log(2.0))
    assert parts["box"] == pytest.approx(0.25)
    assert total == pytest.approx(sum(parts.values()))
    assert dout[2].tolist() == [0.0] * 7  # the crowd cell gets no gradient


def _cell_outputs(spec: GridSpec, cells: list[tuple[int, int, int, float]]) -> np.ndarray:
    """One 2 x 3 image; each ``(gy, gx, class, objectness logit)`` predicts a centred box."""
    out = np.full((1, 2, 3, 1 + 2 + 4), 0.0)
    out[..., 0] = -20.0
    for gy, gx, c, logit in cells:
        out[0, gy, gx, 0] = logit
        out[0, gy, gx, 1 + c] = 10.0
        out[0, gy, gx, 3:5] = 0.5
    return out


def test_decode_places_boxes_and_suppresses_duplicates() -> None:
    spec = GridSpec(factor=4, cell=4, context=2, anchor=32.0)
    out = _cell_outputs(spec, [(1, 1, 0, 5.0), (1, 2, 0, 4.0), (0, 0, 1, 3.0)])
    out[0, 1, 2, 3] = 0.0  # the second box sits half a cell left: IoU 0.6 with the first
    found = decode(out, spec, conf=0.05, iou=0.5)
    assert found.cls.tolist() == [0, 1]
    assert found.image.tolist() == [0, 0]
    np.testing.assert_allclose(found.boxes[0], [24 - 16, 24 - 16, 32, 32])
    np.testing.assert_allclose(found.boxes[1], [8 - 16, 8 - 16, 32, 32])
    assert found.scores[0] > found.scores[1]


def test_nms_is_per_class() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 10, 10]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7])
    assert nms(boxes, scores, np.array([0, 0, 0]), iou=0.5).tolist() == [0, 2]
    assert nms(boxes, scores, np.array([0, 1, 0]), iou=0.5).tolist() == [0, 1, 2]
    assert nms(boxes[:0], scores[:0], np.zeros(0, int), iou=0.5).tolist() == []


def test_loss_decreases_on_a_fixed_batch(tiny_data: tuple[Path, Path]) -> None:
    spec = GridSpec()
    data = prepare_data(*tiny_data, spec)
    index = data.train[:4]
    x = cell_patches(data.normalise(data.images[index]), spec).reshape(-1, 432)
    t = data.targets.take(index)
    flat = (t.obj.reshape(-1), t.cls.reshape(-1), t.box.reshape(-1, 4), t.ignore.reshape(-1))
    params = init_params(432, 5, hidden=16, rng=np.random.default_rng(0))
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses = []
    for _ in range(40):
        out, cache = forward(params, x)
        loss, _, dout = loss_and_grad(out, *flat, weights=WEIGHTS, images=4)
        losses.append(loss)
        sgd_step(params, backward(params, cache, dout), velocity, lr=5e-4, momentum=0.9,
                 weight_decay=5e-4)  # fmt: skip
    assert losses[-1] < 0.3 * losses[0]


def test_schedule_warms_up_then_anneals() -> None:
    lrs = [learning_rate(t / 10, peak=0.1, epochs=10, warmup_epochs=2) for t in range(100)]
    assert lrs[0] == 0.0
    assert lrs[:20] == sorted(lrs[:20])
    assert lrs[25:] == sorted(lrs[25:], reverse=True)
    assert learning_rate(10, peak=0.1, epochs=10) == pytest.approx(0.002)
    again = learning_rate(5.5, peak=0.1, epochs=10, warmup_epochs=1, warmup_start=5)
    assert again == pytest.approx(0.5 * learning_rate(5.5, peak=0.1, epochs=10))


def test_sgd_decays_weights_not_biases_and_clips() -> None:
    params = {"w1": np.ones(2), "b1": np.ones(2)}
    velocity = {k: np.zeros(2) for k in params}
    zero = {k: np.zeros(2) for k in params}
    sgd_step(params, zero, velocity, lr=0.1, momentum=0.9, weight_decay=0.5)
    assert params["w1"].tolist() == [0.95, 0.95]
    assert params["b1"].tolist() == [1.0, 1.0]
    big = {"w1": np.array([30.0, 40.0]), "b1": np.zeros(2)}
    velocity = {k: np.zeros(2) for k in params}
    norm = sgd_step(params, big, velocity, lr=1.0, momentum=0.0, weight_decay=0.0,
                    clip_max_norm=5.0)  # fmt: skip
    assert norm == 50.0
    np.testing.assert_allclose(params["w1"], [0.95 - 3.0, 0.95 - 4.0])
