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

    With a :class:`~optimizers._functional._scalars.TensorScalar` ``rho`` (a 0-d tensor's
    value), ``1 - rho`` is computed in the tensor's dtype, as torch does.
    """
    run_blocked(_adadelta_block, (param, grad, square_avg, acc_delta), 3,
                (lr, float(rho), float(1 - rho), eps, weight_decay, maximize))


def _adadelta_block(p, g, v, acc, t, u, delta, lr, rho, one_minus_rho, eps, weight_decay,
                    maximize):
    g = effective_grad(g, p, weight_decay, maximize, u)
    v *= rho
    addcmul_(v, g, g, one_minus_rho, t)
    np.add(v, eps, out=t)
    np.sqrt(t, out=t)
    np.add(acc, eps, out=delta)
    np.sqrt(delta, out=delta)
    delta /= t
    delta *= g
    acc *= rho
    addcmul_(acc, delta, delta, one_minus_rho, t)
    delta *= -lr
    p += delta
