"""AdaBelief (Zhuang et al., 2020): Adam whose step adapts to the belief in the gradient."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._common import adam_scalars, effective_grad, lerp_


def adabelief_(param, grad, exp_avg, exp_avg_var, max_exp_avg_var, *, step, lr, beta1, beta2, eps,
               weight_decay, decoupled_weight_decay, amsgrad, maximize):
    r"""One AdaBelief update in place (Algorithm 2 of the paper).

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        s \leftarrow \beta_2 s + (1-\beta_2)(g - m)^2 + \epsilon,\quad
        \hat s = \max(\hat s, s) \text{ (amsgrad)},\\
        \theta \leftarrow \theta - \frac{\gamma}{1-\beta_1^t}\,
            \frac{m}{\sqrt{s}/\sqrt{1-\beta_2^t} + \epsilon}
    """
    run_blocked(_adabelief_block, (param, grad, exp_avg, exp_avg_var, max_exp_avg_var), 2,
                adam_scalars(step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                             decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))


def _adabelief_block(p, g, m, s, smax, t, u, decay, weight_decay, maximize, weight1, beta2,
                     one_minus_beta2, eps, step_size, bias_correction2_sqrt):
    if decay is not None:
        p *= decay
    g = effective_grad(g, p, weight_decay, maximize, u)
    lerp_(m, g, weight1, t)
    np.subtract(g, m, out=t)
    np.multiply(t, t, out=t)
    t *= one_minus_beta2
    s *= beta2
    s += t
    s += eps
    if smax is not None:
        np.maximum(smax, s, out=smax)
        s = smax
    np.sqrt(s, out=t)
    t /= bias_correction2_sqrt
    t += eps
    np.multiply(m, -step_size, out=u)
    u /= t
    p += u
