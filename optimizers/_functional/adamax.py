"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._common import effective_grad, lerp_


def adamax_(param, grad, exp_avg, exp_inf, *, step, lr, beta1, beta2, eps, weight_decay, maximize):
    r"""One Adamax update in place.

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad u \leftarrow \max(\beta_2 u, |g| + \epsilon),\quad
        \theta \leftarrow \theta - \frac{\gamma}{1-\beta_1^t}\frac{m}{u}

    With :class:`~optimizers._functional._scalars.TensorScalar` values (of 0-d tensors) for
    ``lr`` and the betas, ``1 - beta1``, the bias correction and the step size are computed in
    the tensor's dtype, as torch does.
    """
    clr = lr / (1 - beta1**step)
    run_blocked(_adamax_block, (param, grad, exp_avg, exp_inf), 2,
                (float(1 - beta1), float(beta2), eps, weight_decay, maximize, float(clr)))


def _adamax_block(p, g, m, u_inf, t, u, weight1, beta2, eps, weight_decay, maximize, clr):
    g = effective_grad(g, p, weight_decay, maximize, u)
    lerp_(m, g, weight1, t)
    u_inf *= beta2
    np.abs(g, out=t)
    t += eps
    np.maximum(u_inf, t, out=u_inf)
    np.multiply(m, -clr, out=t)
    t /= u_inf
    p += t
