"""SGD with momentum and weight decay, gradient clipping, and the warm-up + cosine schedule.

>>> lr = [learning_rate(e, peak=0.1, epochs=10, warmup_epochs=2) for e in (0.0, 1.0, 2.0, 9.0)]
>>> [round(x, 4) for x in lr]
[0.0, 0.0488, 0.0906, 0.0044]
"""

from __future__ import annotations

import math

import numpy as np

from detlab.demo.model import Params

__all__ = ["learning_rate", "sgd_step"]


def learning_rate(
    t: float,
    *,
    peak: float,
    epochs: int,
    warmup_epochs: float = 0.0,
    warmup_start: float = 0.0,
    floor: float = 0.02,
) -> float:
    """The rate at fractional epoch ``t``: a linear warm-up from ``warmup_start`` times a cosine
    annealing from ``peak`` down to ``floor * peak`` at ``epochs``.

    A resumed run may warm up again (``warmup_start`` = the epoch it resumed at).
    """
    progress = min(max(t / max(epochs, 1), 0.0), 1.0)
    cosine = floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    warm = 1.0 if warmup_epochs <= 0 else min(1.0, max(t - warmup_start, 0.0) / warmup_epochs)
    return peak * cosine * warm


def sgd_step(
    params: Params,
    grads: Params,
    velocity: Params,
    *,
    lr: float,
    momentum: float,
    weight_decay: float,
    clip_max_norm: float | None = None,
) -> float:
    """Update ``params`` and ``velocity`` in place (PyTorch's SGD: ``v = m v + g``, ``p -= lr v``);
    weight decay on weights, not biases. Returns the gradient norm before clipping."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    scale = 1.0
    if clip_max_norm is not None and norm > clip_max_norm:
        scale = clip_max_norm / norm
    for key, grad in grads.items():
        step = grad * scale
        if key.startswith("w") and weight_decay:
            step = step + weight_decay * params[key]
        velocity[key] *= momentum
        velocity[key] += step
        params[key] -= lr * velocity[key]
    return norm
