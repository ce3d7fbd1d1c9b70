"""RAdam: Adam with the variance of the adaptive learning rate rectified (Liu et al., 2020)."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._common import addcmul_, effective_grad, lerp_


def radam_(param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
           decoupled_weight_decay, maximize, foreach=False):
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
    decay = float(1 - lr * weight_decay) if weight_decay != 0 and decoupled_weight_decay else None
    run_blocked(_radam_block, (param, grad, exp_avg, exp_avg_sq), 2,
                (decay, 0.0 if decoupled_weight_decay else float(weight_decay), maximize,
                 float(1 - beta1), float(beta2), float(1 - beta2), eps, float(step_lr),
                 float(bias_correction1), float(bias_correction2_sqrt),
                 None if rect is None else float(rect)))


def _radam_block(p, g, m, v, t, u, decay, weight_decay, maximize, weight1, beta2,
                 one_minus_beta2, eps, lr, bias_correction1, bias_correction2_sqrt, rect):
    if decay is not None:
        p *= decay
    g = effective_grad(g, p, weight_decay, maximize, u)
    lerp_(m, g, weight1, t)
    v *= beta2
    addcmul_(v, g, g, one_minus_beta2, t)
    np.divide(m, bias_correction1, out=t)
    t *= lr
    if rect is not None:
        np.sqrt(v, out=u)
        u += eps
        np.divide(bias_correction2_sqrt, u, out=u)
        t *= u
        t *= rect
    p -= t
