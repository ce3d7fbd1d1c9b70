"""ASGD: averaged stochastic gradient descent (Polyak and Juditsky, 1992)."""

from __future__ import annotations

import numpy as np

from ._common import effective_grad


def asgd_(param, grad, ax, eta, mu, *, step, lr, lambd, alpha, t0, weight_decay, maximize):
    r"""One ASGD update in place; ``eta`` and ``mu`` are the 0-d state arrays, updated too.

    .. math::
        \theta \leftarrow \theta(1-\lambda\eta_t) - \eta_t g,\quad
        \bar\theta \leftarrow \bar\theta + \mu_t(\theta - \bar\theta)
            \text{ (a copy of } \theta \text{ while } \mu_t = 1),\\
        \eta_{t+1} = \frac{\gamma}{(1+\lambda\gamma t)^\alpha},\quad
        \mu_{t+1} = \frac{1}{\max(1, t - t_0)}
    """
    t = np.empty_like(param)
    g = effective_grad(grad, param, weight_decay, maximize, t)
    eta_value = float(eta)
    param *= 1 - lambd * eta_value
    np.multiply(g, -eta_value, out=t)
    param += t
    mu_value = float(mu)
    if mu_value != 1:
        np.subtract(param, ax, out=t)
        t *= mu_value
        ax += t
    else:
        np.copyto(ax, param)
    eta[...] = lr / ((1 + lambd * lr * step) ** alpha)
    mu[...] = 1 / max(1, step - t0)
