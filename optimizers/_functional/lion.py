"""Lion: EvoLved Sign Momentum (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms")."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._common import lerp_


def lion_(param, grad, exp_avg, *, lr, beta1, beta2, weight_decay, maximize):
    r"""One Lion update in place (Algorithm 2 of the paper, decoupled weight decay).

    .. math::
        c = \beta_1 m + (1-\beta_1) g,\quad
        \theta \leftarrow \theta - \gamma(\operatorname{sign}(c) + \lambda\theta),\quad
        m \leftarrow \beta_2 m + (1-\beta_2) g
    """
    run_blocked(_lion_block, (param, grad, exp_avg), 3, (lr, beta1, beta2, weight_decay, maximize))


def _lion_block(p, g, m, c, u, tmp, lr, beta1, beta2, weight_decay, maximize):
    if maximize:
        g = np.negative(g, out=u)
    if weight_decay != 0:
        p *= 1 - lr * weight_decay
    np.copyto(c, m)
    lerp_(c, g, 1 - beta1, tmp)
    np.sign(c, out=c)
    c *= -lr
    p += c
    lerp_(m, g, 1 - beta2, tmp)
