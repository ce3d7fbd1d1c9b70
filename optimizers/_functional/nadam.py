"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule (Dozat, 2016)."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._moments import first_moment_, moment_scalars, second_moment_
from ._scalars import TensorScalar, tensor_scalar


def nadam_(param, grad, exp_avg, exp_avg_sq, mu_product, *, step, lr, beta1, beta2, eps,
           weight_decay, momentum_decay, decoupled_weight_decay, maximize, foreach=False,
           moments=None):
    r"""One NAdam update in place; ``mu_product`` is the 0-d state array :math:`\prod_i \mu_i`.

    .. math::
        \mu_t = \beta_1(1 - \tfrac12 0.96^{t\psi}),\quad
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\\
        \theta \leftarrow \theta - \gamma\Big(\frac{(1-\mu_t) g}{1-\prod_{i\le t}\mu_i}
            + \frac{\mu_{t+1} m}{1-\prod_{i\le t+1}\mu_i}\Big) \Big/ \big(\sqrt{v/(1-\beta_2^t)}+\epsilon\big)

    With :class:`~optimizers._functional._scalars.TensorScalar` hyperparameters (0-d tensor
    values) the scalars are computed in the tensor's dtype, as torch does; ``foreach`` computes
    them as torch's multi-tensor kernel does, which reads a tensor ``lr`` as a float for the
    two step sizes (the same numbers when the hyperparameters are numbers).
    """
    bias_correction2 = 1 - beta2**step
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    # The product lives in the state's precision (float32 by default), as torch keeps it; a
    # tensor mu multiplies as a 0-d tensor (in the promoted dtype), a float in the state's.
    if isinstance(mu, TensorScalar):
        mu_product[...] = tensor_scalar(mu_product) * mu
    else:
        mu_product *= mu
    product = float(mu_product)
    step_lr = float(lr) if foreach else lr
    grad_coef = -step_lr * (1.0 - mu) / (1.0 - product)
    avg_coef = (-step_lr * mu_next) / (1.0 - product * mu_next)
    if moments is None:
        moments = moment_scalars(lr, beta1, beta2, weight_decay, decoupled_weight_decay, maximize)
    run_blocked(_nadam_block, (param, grad, exp_avg, exp_avg_sq), 3,
                (moments, eps, float(bias_correction2), float(grad_coef), float(avg_coef)))


def _nadam_block(p, g, m, v, delta, grad_buffer, denom, moments, eps, bias_correction2, grad_coef,
                 avg_coef):
    # delta is the moments' scratch, then each of the parameter's two changes
    g = first_moment_(p, g, m, moments, delta, grad_buffer)
    second_moment_(v, g, moments, delta)
    np.divide(v, bias_correction2, out=denom)
    np.sqrt(denom, out=denom)
    denom += eps
    np.multiply(g, grad_coef, out=delta)
    delta /= denom
    p += delta
    np.multiply(m, avg_coef, out=delta)
    delta /= denom
    p += delta
