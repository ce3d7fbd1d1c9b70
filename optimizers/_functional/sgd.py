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
    ``dampening`` may be a :class:`~optimizers._functional._scalars.TensorScalar` (a 0-d tensor's
    value): ``1 - dampening`` is then computed in the tensor's dtype, as torch does.
    """
    # torch adds the gradient with alpha=1 - dampening, a 0-d tensor's arithmetic for a tensor
    one_minus_dampening = float(1 - dampening) if momentum != 0 and dampening != 0 else None
    run_blocked(_sgd_block, (param, grad, momentum_buffer), 2,
                (lr, momentum, one_minus_dampening, weight_decay, nesterov, maximize, first_step))


def _sgd_block(p, g, buf, t, u, lr, momentum, one_minus_dampening, weight_decay, nesterov,
               maximize, first_step):
    # the usual case (no decay, minimizing) without the call: a small step notices it
    d = effective_grad(g, p, weight_decay, maximize, u) if weight_decay != 0 or maximize else g
    if momentum != 0:
        if first_step:
            np.copyto(buf, d)
        else:
            buf *= momentum
            if one_minus_dampening is None:
                buf += d
            else:
                np.multiply(d, one_minus_dampening, out=t)
                buf += t
        if nesterov:
            np.multiply(buf, momentum, out=t)
            t += d
            d = t
        else:
            d = buf
    np.multiply(d, -lr, out=t)
    p += t
