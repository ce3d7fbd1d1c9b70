"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._moments import first_moment_, moment_scalars


def adamax_(param, grad, exp_avg, exp_inf, *, step, lr, beta1, beta2, eps, weight_decay, maximize,
            moments=None):
    r"""One Adamax update in place.

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad u \leftarrow \max(\beta_2 u, |g| + \epsilon),\quad
        \theta \leftarrow \theta - \frac{\gamma}{1-\beta_1^t}\frac{m}{u}

    With :class:`~optimizers._functional._scalars.TensorScalar` values (of 0-d tensors) for
    ``lr`` and the betas, ``1 - beta1``, the bias correction and the step size are computed in
    the tensor's dtype, as torch does.
    """
    clr = lr / (1 - beta1**step)
    if moments is None:
        moments = moment_scalars(lr, beta1, beta2, weight_decay, False, maximize)
    run_blocked(_adamax_block, (param, grad, exp_avg, exp_inf), 2, (moments, eps, float(clr)))


def _adamax_block(p, g, m, u_inf, delta, grad_buffer, moments, eps, clr):
    # delta is the first moment's scratch, then |g| + eps, then the parameter's change
    g = first_moment_(p, g, m, moments, delta, grad_buffer)
    u_inf *= moments.beta2
    np.abs(g, out=delta)
    delta += eps
    np.maximum(u_inf, delta, out=u_inf)
    np.multiply(m, -clr, out=delta)
    delta /= u_inf
    p += delta
