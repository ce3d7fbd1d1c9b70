"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._common import addcmul_, effective_grad, lerp_


def rmsprop_(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay,
             momentum, centered, maximize):
    r"""One RMSprop update in place (``grad_avg`` only if centered, ``momentum_buffer`` only if
    ``momentum > 0``).

    .. math::
        v \leftarrow \alpha v + (1-\alpha) g^2,\quad
        \bar g \leftarrow \alpha\bar g + (1-\alpha) g,\quad
        a = \sqrt{v - \bar g^2} \text{ (centered) or } \sqrt v,\\
        b \leftarrow \mu b + g/(a+\epsilon),\; \theta \leftarrow \theta - \gamma b
        \quad\text{or}\quad \theta \leftarrow \theta - \gamma g/(a+\epsilon)

    With a :class:`~optimizers._functional._scalars.TensorScalar` ``alpha`` (a 0-d tensor's
    value), ``1 - alpha`` is computed in the tensor's dtype, as torch does.
    """
    run_blocked(_rmsprop_block, (param, grad, square_avg, grad_avg, momentum_buffer), 3,
                (lr, float(alpha), float(1 - alpha), eps, weight_decay, momentum, maximize))


def _rmsprop_block(p, g, v, gbar, buf, t, u, avg, lr, alpha, one_minus_alpha, eps, weight_decay,
                   momentum, maximize):
    g = effective_grad(g, p, weight_decay, maximize, u)
    v *= alpha
    addcmul_(v, g, g, one_minus_alpha, t)
    if gbar is not None:
        lerp_(gbar, g, one_minus_alpha, t)
        np.multiply(gbar, -1, out=t)
        t *= gbar
        np.add(v, t, out=avg)
        np.sqrt(avg, out=avg)
    else:
        np.sqrt(v, out=avg)
    avg += eps
    if momentum > 0:
        buf *= momentum
        np.divide(g, avg, out=t)
        buf += t
        np.multiply(buf, -lr, out=t)
        p += t
    else:
        np.multiply(g, -lr, out=t)
        t /= avg
        p += t
