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
    # 0-d tensor hyperparameters (TensorScalar) compute these in their dtype, as torch's would
    decay = float(1 - lr * weight_decay) if weight_decay != 0 else None
    run_blocked(_lion_block, (param, grad, exp_avg), 3,
                (float(lr), float(1 - beta1), float(1 - beta2), decay, maximize))


def _lion_block(p, g, m, c, u, tmp, lr, weight1, weight2, decay, maximize):
    if maximize:
        g = np.negative(g, out=u)
    if decay is not None:
        p *= decay
    np.copyto(c, m)
    lerp_(c, g, weight1, tmp)
    np.sign(c, out=c)
    c *= -lr
    p += c
    lerp_(m, g, weight2, tmp)
