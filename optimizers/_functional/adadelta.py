"""Adadelta (Zeiler, 2012)."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._common import addcmul_, effective_grad


def adadelta_(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    r"""One Adadelta update in place.

    .. math::
        v \leftarrow \rho v + (1-\rho) g^2,\quad
        \Delta = \frac{\sqrt{u+\epsilon}}{\sqrt{v+\epsilon}}\, g,\quad
        u \leftarrow \rho u + (1-\rho)\Delta^2,\quad \theta \leftarrow \theta - \gamma\Delta
    """
    run_blocked(_adadelta_block, (param, grad, square_avg, acc_delta), 3,
                (lr, rho, eps, weight_decay, maximize))


def _adadelta_block(p, g, v, acc, t, u, delta, lr, rho, eps, weight_decay, maximize):
    g = effective_grad(g, p, weight_decay, maximize, u)
    v *= rho
    addcmul_(v, g, g, 1 - rho, t)
    np.add(v, eps, out=t)
    np.sqrt(t, out=t)
    np.add(acc, eps, out=delta)
    np.sqrt(delta, out=delta)
    delta /= t
    delta *= g
    acc *= rho
    addcmul_(acc, delta, delta, 1 - rho, t)
    delta *= -lr
    p += delta
