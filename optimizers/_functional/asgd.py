"""ASGD: averaged stochastic gradient descent (Polyak and Juditsky, 1992)."""

from __future__ import annotations

import numpy as np

from ._common import effective_grad
from ._scalars import tensor_scalar


def asgd_(param, grad, ax, eta, mu, *, step, lr, lambd, alpha, t0, weight_decay, maximize,
          foreach_step=None):
    r"""One ASGD update in place; ``eta`` and ``mu`` are the 0-d state arrays, updated too.

    .. math::
        \theta \leftarrow \theta(1-\lambda\eta_t) - \eta_t g,\quad
        \bar\theta \leftarrow \bar\theta + \mu_t(\theta - \bar\theta)
            \text{ (a copy of } \theta \text{ while } \mu_t = 1),\\
        \eta_{t+1} = \frac{\gamma}{(1+\lambda\gamma t)^\alpha},\quad
        \mu_{t+1} = \frac{1}{\max(1, t - t_0)}

    With :class:`~optimizers._functional._scalars.TensorScalar` hyperparameters (0-d tensor
    values) the scalars are computed in the tensor's dtype, as torch does. With ``foreach_step``
    (the 0-d ``state["step"]`` array), :math:`\eta_{t+1}` is computed as torch's multi-tensor
    kernel does, with the count as that tensor: in float32 even for float hyperparameters.
    """
    t = np.empty_like(param)
    g = effective_grad(grad, param, weight_decay, maximize, t)
    eta_value = float(eta)
    if foreach_step is None:
        param *= float(1 - lambd * eta_value)
        np.multiply(g, -eta_value, out=t)
    else:  # torch's multi-tensor form, theta - eta (g + lambda theta): the same up to rounding
        u = np.multiply(param, float(lambd))
        u += g
        np.multiply(u, -eta_value, out=t)
    param += t
    mu_value = float(mu)
    if mu_value != 1:
        np.subtract(param, ax, out=t)
        t *= mu_value
        ax += t
    else:
        np.copyto(ax, param)
    step_count = step if foreach_step is None else tensor_scalar(foreach_step)
    eta[...] = float(lr / ((1 + lambd * lr * step_count) ** alpha))
    mu[...] = float(1 / max(1, step - t0))
