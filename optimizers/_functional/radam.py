"""RAdam: Adam with the variance of the adaptive learning rate rectified (Liu et al., 2020)."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._moments import first_moment_, moment_scalars, second_moment_


def radam_(param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
           decoupled_weight_decay, maximize, foreach=False, moments=None):
    r"""One RAdam update in place.

    .. math::
        \rho_\infty = \tfrac{2}{1-\beta_2} - 1,\quad
        \rho_t = \rho_\infty - \tfrac{2t\beta_2^t}{1-\beta_2^t},\quad
        \hat m = m/(1-\beta_1^t),\\
        \theta \leftarrow \theta - \gamma\hat m\, r_t\,\frac{\sqrt{1-\beta_2^t}}{\sqrt v+\epsilon}
        \text{ if } \rho_t > 5, \text{ else } \theta - \gamma\hat m,\quad
        r_t = \sqrt{\tfrac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}

    With :class:`~optimizers._functional._scalars.TensorScalar` hyperparameters (0-d tensor
    values) the scalars are computed in the tensor's dtype, as torch does. ``foreach`` computes
    them as torch's multi-tensor kernel does: :math:`\gamma r_t\sqrt{1-\beta_2^t}/(1-\beta_1^t)`
    (or :math:`\gamma/(1-\beta_1^t)`) as one scalar, which a tensor ``lr`` rounds to its dtype.
    """
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
    rect = None
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    if foreach:
        # torch's multi-tensor form: one coefficient per parameter, m times it over the denominator
        # (rectified) or m times it (not); the kernel below computes the same with these.
        if rect is not None:
            coefficient = (bias_correction2**0.5) * (lr * rect / bias_correction1)
        else:
            coefficient = lr * 1.0 / bias_correction1
        step_lr, bias_correction1, bias_correction2_sqrt = coefficient, 1.0, 1.0
        rect = None if rect is None else 1.0
    else:
        step_lr, bias_correction2_sqrt = lr, bias_correction2**0.5
    if moments is None:
        moments = moment_scalars(lr, beta1, beta2, weight_decay, decoupled_weight_decay, maximize)
    run_blocked(_radam_block, (param, grad, exp_avg, exp_avg_sq), 2,
                (moments, eps, float(step_lr), float(bias_correction1),
                 float(bias_correction2_sqrt), None if rect is None else float(rect)))


def _radam_block(p, g, m, v, delta, grad_buffer, moments, eps, lr, bias_correction1,
                 bias_correction2_sqrt, rect):
    # delta is the moments' scratch, then the parameter's change; grad_buffer holds the effective
    # gradient, then the adaptive factor
    g = first_moment_(p, g, m, moments, delta, grad_buffer)
    second_moment_(v, g, moments, delta)
    np.divide(m, bias_correction1, out=delta)
    delta *= lr
    if rect is not None:
        adaptive = grad_buffer
        np.sqrt(v, out=adaptive)
        adaptive += eps
        np.divide(bias_correction2_sqrt, adaptive, out=adaptive)
        delta *= adaptive
        delta *= rect
    p -= delta
