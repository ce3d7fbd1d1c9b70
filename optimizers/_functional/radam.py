"""RAdam: Adam with the variance of the adaptive learning rate rectified (Liu et al., 2020)."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._common import addcmul_, effective_grad, lerp_


def radam_(param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
           decoupled_weight_decay, maximize):
    r"""One RAdam update in place.

    .. math::
        \rho_\infty = \tfrac{2}{1-\beta_2} - 1,\quad
        \rho_t = \rho_\infty - \tfrac{2t\beta_2^t}{1-\beta_2^t},\quad
        \hat m = m/(1-\beta_1^t),\\
        \theta \leftarrow \theta - \gamma\hat m\, r_t\,\frac{\sqrt{1-\beta_2^t}}{\sqrt v+\epsilon}
        \text{ if } \rho_t > 5, \text{ else } \theta - \gamma\hat m,\quad
        r_t = \sqrt{\tfrac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}
    """
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
    rect = None
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    run_blocked(_radam_block, (param, grad, exp_avg, exp_avg_sq), 2,
                (lr, beta1, beta2, eps, weight_decay, maximize, decoupled_weight_decay,
                 bias_correction1, bias_correction2**0.5, rect))


def _radam_block(p, g, m, v, t, u, lr, beta1, beta2, eps, weight_decay, maximize, decoupled,
                 bias_correction1, bias_correction2_sqrt, rect):
    if weight_decay != 0 and decoupled:
        p *= 1 - lr * weight_decay
        weight_decay = 0
    g = effective_grad(g, p, weight_decay, maximize, u)
    lerp_(m, g, 1 - beta1, t)
    v *= beta2
    addcmul_(v, g, g, 1 - beta2, t)
    np.divide(m, bias_correction1, out=t)
    t *= lr
    if rect is not None:
        np.sqrt(v, out=u)
        u += eps
        np.divide(bias_correction2_sqrt, u, out=u)
        t *= u
        t *= rect
    p -= t
