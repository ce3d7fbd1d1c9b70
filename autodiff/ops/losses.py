"""Losses that torch computes as ops of their own (so that their create_graph gradients carry torch's names, such
as ``MseLossBackwardBackward0``): the mean squared error. The other losses of ``autodiff.nn.functional`` are
compositions of table ops."""
from __future__ import annotations

import numpy as np

from ._helpers import broadcast_error, fix_dtype
from .declare import defop
from .reductions import mean, sum

REDUCTIONS = ("none", "mean", "sum")


def _reduced(values, reduction):
    if reduction == "none":
        return values
    return mean(values) if reduction == "mean" else sum(values)


def _mse_forward(x, target, reduction="mean"):
    try:
        diff = fix_dtype(np.subtract(x, target), x, target)
    except ValueError:
        raise broadcast_error(x, target) from None
    squared = diff * diff
    if reduction == "none":
        return squared
    return np.mean(squared) if reduction == "mean" else np.sum(squared)


def _numel(x):
    return x.size if isinstance(x, np.ndarray) else x.numel()


def _mse_vjp(i):
    def rule(g, ans, x, target, reduction="mean"):
        # d/dx (x - t)² = 2 (x - t), d/dt = -2 (x - t); the mean divides by the number of (broadcast) elements
        diff = x - target
        scale = 2.0 / _numel(diff) if reduction == "mean" else 2.0
        return g * (diff * (scale if i == 0 else -scale))
    return rule


def _mse_jvp(i):
    def rule(t, ans, x, target, reduction="mean"):
        diff = x - target
        return _reduced(t * (diff * (2.0 if i == 0 else -2.0)), reduction)
    return rule


MSE_LOSS = defop("MseLossBackward0", _mse_forward, (_mse_vjp(0), _mse_vjp(1)), (_mse_jvp(0), _mse_jvp(1)),
                 saves=((0, 1), (0, 1)), grad_names=("MseLossBackwardBackward0", "MseLossBackwardBackward0"))
