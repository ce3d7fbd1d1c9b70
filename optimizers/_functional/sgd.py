"""Stochastic gradient descent with momentum, dampening and Nesterov momentum."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._common import effective_grad


def sgd_(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov,
                 maximize, first_step):
    r"""One SGD update of ``param`` in place (torch.optim.SGD's rule).

    .. math::
        g \leftarrow \pm\nabla + \lambda\theta,\quad
        b \leftarrow \mu b + (1-\tau) g \;(b_1 = g),\quad
        g \leftarrow g + \mu b \text{ (nesterov) or } b,\quad
        \theta \leftarrow \theta - \gamma g

    ``momentum_buffer`` is ignored when ``momentum == 0``; ``first_step`` makes it a copy of ``g``.
    """
    run_blocked(_sgd_block, (param, grad, momentum_buffer), 2,
                (lr, momentum, dampening, weight_decay, nesterov, maximize, first_step))


def _sgd_block(p, g, buf, t, u, lr, momentum, dampening, weight_decay, nesterov, maximize,
               first_step):
    d = effective_grad(g, p, weight_decay, maximize, u)
    if momentum != 0:
        if first_step:
            np.copyto(buf, d)
        else:
            buf *= momentum
            if dampening == 0:
                buf += d
            else:
                np.multiply(d, 1 - dampening, out=t)
                buf += t
        if nesterov:
            np.multiply(buf, momentum, out=t)
            t += d
            d = t
        else:
            d = buf
    np.multiply(d, -lr, out=t)
    p += t
