"""AdaBelief (Zhuang et al., 2020): Adam whose step adapts to the belief in the gradient."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._moments import adam_moment_scalars, bias_corrections, first_moment_


def adabelief_(param, grad, exp_avg, exp_avg_var, max_exp_avg_var, *, step, lr, beta1, beta2, eps,
               weight_decay, decoupled_weight_decay, amsgrad, maximize, moments=None):
    r"""One AdaBelief update in place (Algorithm 2 of the paper).

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        s \leftarrow \beta_2 s + (1-\beta_2)(g - m)^2 + \epsilon,\quad
        \hat s = \max(\hat s, s) \text{ (amsgrad)},\\
        \theta \leftarrow \theta - \frac{\gamma}{1-\beta_1^t}\,
            \frac{m}{\sqrt{s}/\sqrt{1-\beta_2^t} + \epsilon}

    ``moments``: as for :func:`~optimizers._functional.adam_`.
    """
    if moments is None:
        moments = adam_moment_scalars(lr, beta1, beta2, weight_decay, decoupled_weight_decay,
                                      maximize)
    apply_adabelief_(param, grad, exp_avg, exp_avg_var, max_exp_avg_var, moments, step, lr, beta1,
                     beta2, eps)


def apply_adabelief_(param, grad, exp_avg, exp_avg_var, max_exp_avg_var, moments, step, lr, beta1,
                     beta2, eps) -> None:
    """:func:`adabelief_` with its moment scalars made (:func:`adam_moment_scalars`), positionally:
    the form an optimizer calls for each parameter, the moments made once per group."""
    run_blocked(_adabelief_block, (param, grad, exp_avg, exp_avg_var, max_exp_avg_var), 2,
                (moments, bias_corrections(step, lr, beta1, beta2), eps))


def _adabelief_block(p, g, m, s, smax, denom, delta, moments, bias, eps):
    # delta holds the effective gradient, then the parameter's change; denom holds the squared
    # surprise (g - m)^2, then the denominator
    g = first_moment_(p, g, m, moments, denom, delta)
    np.subtract(g, m, out=denom)
    np.multiply(denom, denom, out=denom)
    denom *= moments.one_minus_beta2
    s *= moments.beta2
    s += denom
    s += eps
    if smax is not None:
        np.maximum(smax, s, out=smax)
        s = smax
    np.sqrt(s, out=denom)
    denom /= bias.bias_correction2_sqrt
    denom += eps
    np.multiply(m, -bias.step_size, out=delta)
    delta /= denom
    p += delta
