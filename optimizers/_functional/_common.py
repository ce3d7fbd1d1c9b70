"""Elementwise building blocks with torch's rounding order, all in place with ``out=``."""

from __future__ import annotations

import numpy as np


def effective_grad(grad, param, weight_decay, maximize, out):
    """The gradient an update uses: ``-g`` if maximizing, plus ``weight_decay * p`` (L2 penalty).

    Returns ``grad`` itself when neither applies (no copy), else ``out`` holding the result.
    """
    if weight_decay != 0:
        np.multiply(param, weight_decay, out=out)
        if maximize:
            np.subtract(out, grad, out=out)
        else:
            np.add(out, grad, out=out)
        return out
    if maximize:
        return np.negative(grad, out=out)
    return grad


def lerp_(a, end, weight, tmp):
    """``a += weight * (end - a)`` in place, with torch.lerp's two formulas for small/large weights."""
    np.subtract(end, a, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        a += tmp
    else:
        tmp *= 1 - weight
        np.subtract(end, tmp, out=a)


def addcmul_(a, t1, t2, value, tmp):
    """``a += value * t1 * t2`` in place (torch.addcmul_)."""
    np.multiply(t1, value, out=tmp)
    tmp *= t2
    a += tmp


def addcdiv_(a, t1, t2, value, tmp):
    """``a += value * t1 / t2`` in place (torch.addcdiv_); ``tmp`` may be ``t2``."""
    if tmp is t2:
        np.divide(t1, t2, out=tmp)
        tmp *= value
    else:
        np.multiply(t1, value, out=tmp)
        tmp /= t2
    a += tmp
