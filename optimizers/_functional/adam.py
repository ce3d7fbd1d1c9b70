"""Adam, with AMSGrad and coupled (L2) or decoupled (AdamW) weight decay."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._moments import adam_moment_scalars, bias_corrections, first_moment_, second_moment_


def adam_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps,
          weight_decay, amsgrad, maximize, decoupled_weight_decay, moments=None):
    r"""One Adam update in place; ``step`` is the count including this update (1, 2, ...).

    .. math::
        \theta \leftarrow \theta(1-\gamma\lambda) \text{ (decoupled) or } g \leftarrow g + \lambda\theta,\\
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \hat v = \max(\hat v, v) \text{ (amsgrad)},\\
        \theta \leftarrow \theta - \frac{\gamma}{1-\beta_1^t}\,
            \frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}

    ``lr``, the betas and ``weight_decay`` may be
    :class:`~optimizers._functional._scalars.TensorScalar` values (of 0-d tensors): the bias
    corrections, the step size and ``1 - lr * weight_decay`` are then computed in the tensor's
    dtype, as torch does (the first moment's ``1 - beta1`` in the parameter's, as torch casts
    ``beta1`` to it). ``moments``: the step's :class:`~optimizers._functional._moments.MomentScalars`
    if already computed from these hyperparameters (:func:`adam_moment_scalars`), as the class
    does once per group.
    """
    if moments is None:
        moments = adam_moment_scalars(lr, beta1, beta2, weight_decay, decoupled_weight_decay,
                                      maximize)
    apply_adam_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, moments, step, lr, beta1, beta2,
                eps)


def apply_adam_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, moments, step, lr, beta1, beta2,
                eps) -> None:
    """:func:`adam_` with its moment scalars made (:func:`adam_moment_scalars`), positionally: the
    form an optimizer calls for each parameter, the moments made once per group."""
    run_blocked(_adam_block, (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq), 2,
                (moments, bias_corrections(step, lr, beta1, beta2), eps))


def _adam_block(p, g, m, v, vmax, denom, delta, moments, bias, eps):
    # delta holds the effective gradient, then the parameter's change; denom is the moments'
    # scratch, then the denominator
    g = first_moment_(p, g, m, moments, denom, delta)
    second_moment_(v, g, moments, denom)
    if vmax is not None:
        np.maximum(vmax, v, out=vmax)
        v = vmax
    # m / (sqrt(v)/c + eps) = c m / (sqrt(v) + c eps), with c = sqrt(1 - beta2^t): one pass fewer
    # than torch's order, a difference of rounding only.
    c = bias.bias_correction2_sqrt
    np.sqrt(v, out=denom)
    denom += eps * c
    np.divide(m, denom, out=delta)
    delta *= -bias.step_size * c
    p += delta
