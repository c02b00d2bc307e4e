"""The demo detector: a single-stage grid detector (YOLO v1 style) in NumPy.

Every grid cell's colour patch (:mod:`detlab.demo.features`) goes through one small MLP shared
by all cells (a 1x1 convolution over patch features, in effect): ``patch -> ReLU(hidden) ->
[objectness, class logits, tx, ty, tw, th]``. The loss is YOLO's sum over cells, divided by the
number of images: objectness binary cross-entropy weighted ``lambda_obj`` on cells holding a box
centre and ``lambda_noobj`` elsewhere (crowd cells left out), class cross-entropy and squared
box error on the responsible cells. Gradients are written out by hand (checked against finite
differences in the tests). Decoding turns scores ``sigmoid(obj) * softmax(cls)`` into boxes and
keeps the best per class with greedy NMS.

>>> rng = np.random.default_rng(0)
>>> params = init_params(12, 3, hidden=8, rng=rng)
>>> out, _ = forward(params, rng.normal(size=(5, 12)).astype(np.float32))
>>> out.shape
(5, 8)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from detlab.demo.features import GridSpec

__all__ = [
    "Cache",
    "Decoded",
    "LossWeights",
    "Params",
    "backward",
    "decode",
    "forward",
    "init_params",
    "loss_and_grad",
    "nms",
]

Params = dict[str, np.ndarray]
#: Cells' outputs: objectness, then the class logits, then four box numbers.
BOX = 4


@dataclass(frozen=True)
class LossWeights:
    """The seed logs' loss weights: ``lambda_obj``, ``lambda_noobj``, ``lambda_class``, ..."""

    obj: float = 1.0
    noobj: float = 1.0
    cls: float = 1.0
    coord: float = 1.0


@dataclass(frozen=True)
class Cache:
    """What the backward pass needs from the forward pass."""

    x: np.ndarray
    pre: np.ndarray
    hidden: np.ndarray


@dataclass(frozen=True)
class Decoded:
    """Detections of a batch: image position, class position, ``xywh`` box, score."""

    image: np.ndarray
    cls: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray


def init_params(
    num_features: int,
    num_classes: int,
    *,
    hidden: int,
    rng: np.random.Generator,
    prior: float = 0.01,
    dtype: type[np.floating] = np.float32,
) -> Params:
    """He-initialised weights; the objectness bias starts at ``logit(prior)`` (RetinaNet's
    trick, so that the many empty cells do not swamp the first steps)."""
    outputs = 1 + num_classes + BOX
    w1 = rng.normal(0.0, math.sqrt(2.0 / num_features), (num_features, hidden))
    w2 = rng.normal(0.0, 0.01, (hidden, outputs))
    b2 = np.zeros(outputs)
    b2[0] = math.log(prior / (1.0 - prior))
    params = {"w1": w1, "b1": np.zeros(hidden), "w2": w2, "b2": b2}
    return {k: v.astype(dtype) for k, v in params.items()}


def forward(params: Params, x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """``x (M, F)`` -> outputs ``(M, 1 + C + 4)`` and the cache for :func:`backward`."""
    pre = x @ params["w1"] + params["b1"]
    hidden = np.maximum(pre, 0.0)
    return hidden @ params["w2"] + params["b2"], Cache(x, pre, hidden)


def backward(params: Params, cache: Cache, dout: np.ndarray) -> Params:
    """Gradients of the loss with respect to every parameter, given ``dL/dout``."""
    dhidden = dout @ params["w2"].T
    dpre = np.where(cache.pre > 0, dhidden, 0.0).astype(dout.dtype)
    return {
        "w1": cache.x.T @ dpre,
        "b1": dpre.sum(axis=0),
        "w2": cache.hidden.T @ dout,
        "b2": dout.sum(axis=0),
    }


def loss_and_grad(
    out: np.ndarray,
    obj: np.ndarray,
    cls: np.ndarray,
    box: np.ndarray,
    ignore: np.ndarray,
    *,
    weights: LossWeights,
    images: int,
) -> tuple[float, dict[str, float], np.ndarray]:
    """Loss of ``out (M, 1 + C + 4)`` against flat targets, its parts and ``dL/dout``.

    ``obj (M,)`` is 1 on responsible cells, ``cls (M,)`` their class position, ``box (M, 4)``
    their box targets, ``ignore (M,)`` cells left out of the objectness loss.
    """
    pos = obj > 0
    dout = np.zeros_like(out)
    logit = out[:, 0]
    cell_weight = np.where(pos, weights.obj, np.where(ignore, 0.0, weights.noobj))
    bce = np.logaddexp(0.0, logit) - obj * logit
    loss_obj = float((cell_weight * bce).sum()) / images
    dout[:, 0] = cell_weight * (_sigmoid(logit) - obj) / images
    logits = out[pos, 1:-BOX]
    log_p = logits - _logsumexp(logits)
    picked = cls[pos]
    rows = np.arange(picked.size)
    loss_cls = weights.cls * float(-log_p[rows, picked].sum()) / images
    dcls = np.exp(log_p)
    dcls[rows, picked] -= 1.0
    dout[pos, 1:-BOX] = weights.cls * dcls / images
    diff = out[pos, -BOX:] - box[pos]
    loss_box = weights.coord * 0.5 * float((diff * diff).sum()) / images
    dout[pos, -BOX:] = weights.coord * diff / images
    parts = {"obj": loss_obj, "cls": loss_cls, "box": loss_box}
    return loss_obj + loss_cls + loss_box, parts, dout


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.exp(-np.logaddexp(0.0, -x))
    return result


def _logsumexp(x: np.ndarray) -> np.ndarray:
    top = x.max(axis=1, keepdims=True) if x.size else np.zeros((0, 1), x.dtype)
    result: np.ndarray = top + np.log(np.exp(x - top).sum(axis=1, keepdims=True))
    return result


def decode(
    out: np.ndarray,
    spec: GridSpec,
    *,
    conf: float = 0.01,
    iou: float = 0.5,
    top_k: int = 100,
) -> Decoded:
    """Outputs ``(N, GH, GW, 1 + C + 4)`` -> detections after per-class NMS, ``top_k`` per
    image."""
    n = out.shape[0]
    logits = out[..., 1:-BOX]
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    cls = probs.argmax(axis=-1)
    scores = _sigmoid(out[..., 0]) * probs.max(axis=-1)
    boxes = _cell_boxes(out[..., -BOX:], spec)
    found = [_decode_image(i, scores[i], cls[i], boxes[i], conf, iou, top_k) for i in range(n)]
    parts = list(zip(*found, strict=True)) if found else [(), (), (), ()]
    cat = [np.concatenate(p) if p else np.zeros(0) for p in parts]
    return Decoded(cat[0].astype(np.int64), cat[1].astype(np.int64),
                   cat[2].reshape(-1, 4), cat[3])  # fmt: skip


def _cell_boxes(raw: np.ndarray, spec: GridSpec) -> np.ndarray:
    """``(N, GH, GW, 4)`` box numbers -> ``xywh`` in image pixels."""
    gh, gw = raw.shape[1:3]
    gx = np.arange(gw)[None, None, :]
    gy = np.arange(gh)[None, :, None]
    cx = (gx + np.clip(raw[..., 0], 0.0, 1.0)) * spec.stride
    cy = (gy + np.clip(raw[..., 1], 0.0, 1.0)) * spec.stride
    w = spec.anchor * np.exp(np.clip(raw[..., 2], -4.0, 4.0))
    h = spec.anchor * np.exp(np.clip(raw[..., 3], -4.0, 4.0))
    return np.stack([cx - w / 2, cy - h / 2, w, h], axis=-1)


def _decode_image(
    image: int,
    scores: np.ndarray,
    cls: np.ndarray,
    boxes: np.ndarray,
    conf: float,
    iou: float,
    top_k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    flat = scores.reshape(-1)
    keep = np.flatnonzero(flat > conf)
    keep = keep[np.argsort(-flat[keep], kind="stable")][: 4 * top_k]
    xywh = boxes.reshape(-1, 4)[keep]
    labels = cls.reshape(-1)[keep]
    kept = nms(xywh, flat[keep], labels, iou=iou)[:top_k]
    image_col = np.full(kept.size, image, dtype=np.int64)
    return image_col, labels[kept], xywh[kept], flat[keep][kept]


def nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, *, iou: float) -> np.ndarray:
    """Greedy per-class non-maximum suppression of ``xywh`` boxes; kept indices, best first."""
    order = np.argsort(-scores, kind="stable")
    xyxy = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1).astype(np.float64)
    xyxy += (labels.astype(np.float64) * 1e5)[:, None]  # classes never overlap each other
    area = boxes[:, 2].astype(np.float64) * boxes[:, 3]
    kept: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        kept.append(int(best))
        lt = np.maximum(xyxy[best, :2], xyxy[rest, :2])
        rb = np.minimum(xyxy[best, 2:], xyxy[rest, 2:])
        inter = np.prod(np.clip(rb - lt, 0.0, None), axis=1)
        overlap = inter / np.maximum(area[best] + area[rest] - inter, 1e-12)
        order = rest[overlap <= iou]
    return np.array(kept, dtype=np.int64)
