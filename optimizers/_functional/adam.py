"""Adam, with AMSGrad and coupled (L2) or decoupled (AdamW) weight decay."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._common import adam_scalars, addcmul_, effective_grad, lerp_


def adam_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps,
          weight_decay, amsgrad, maximize, decoupled_weight_decay):
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
    ``beta1`` to it).
    """
    run_blocked(_adam_block, (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq), 2,
                adam_scalars(step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                             decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))


def _adam_block(p, g, m, v, vmax, t, u, decay, weight_decay, maximize, weight1, beta2,
                one_minus_beta2, eps, step_size, bias_correction2_sqrt):
    if decay is not None:
        p *= decay
    g = effective_grad(g, p, weight_decay, maximize, u)
    lerp_(m, g, weight1, t)
    v *= beta2
    addcmul_(v, g, g, one_minus_beta2, t)
    if vmax is not None:
        np.maximum(vmax, v, out=vmax)
        v = vmax
    # m / (sqrt(v)/c + eps) = c m / (sqrt(v) + c eps), with c = sqrt(1 - beta2^t): one pass fewer
    # than torch's order, a difference of rounding only.
    np.sqrt(v, out=t)
    t += eps * bias_correction2_sqrt
    np.divide(m, t, out=u)
    u *= -step_size * bias_correction2_sqrt
    p += u
