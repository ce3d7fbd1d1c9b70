"""Adafactor (Shazeer and Stern, 2018) in torch's form: factored second moments for matrices."""

from __future__ import annotations

import numpy as np


def adafactor_(param, grad, row_var, col_var, variance, *, step, lr, beta2_decay, eps1, eps2, d,
               weight_decay, maximize):
    r"""One Adafactor update in place. A tensor with ``ndim > 1`` keeps ``row_var`` and
    ``col_var`` (its last two dimensions factored); a vector or scalar keeps ``variance``.

    .. math::
        \hat\beta_{2,t} = 1 - t^{c},\quad \rho_t = \min(\gamma, 1/\sqrt t),\quad
        \alpha_t = \max(\epsilon_2, \mathrm{RMS}(\theta))\,\rho_t,\\
        R \leftarrow \mathrm{lerp}(R, \overline{G^2}_{\text{rows}}, 1-\hat\beta_{2,t}),\;
        C \leftarrow \mathrm{lerp}(C, \overline{G^2}_{\text{cols}}, 1-\hat\beta_{2,t}),\;
        \hat V = \frac{R C}{\max(\bar R, \epsilon_1)},\\
        U = G/\sqrt{\max(\hat V, \epsilon_1^2)},\quad
        \theta \leftarrow \theta(1-\gamma\lambda) - \frac{\alpha_t}{\max(1, \mathrm{RMS}(U)/d)} U

    With :class:`~optimizers._functional._scalars.TensorScalar` hyperparameters (0-d tensor
    values) the scalars are computed in the tensor's dtype, as torch does.
    """
    g = -grad if maximize else grad
    one_minus_beta2_t = float(step**beta2_decay)
    rho_t = min(lr, 1 / (step**0.5))
    alpha = max(eps2, float(np.sqrt(np.vdot(param, param))) / (param.size**0.5)) * rho_t
    if weight_decay != 0:
        param *= float(1 - lr * weight_decay)
    if g.ndim > 1:
        row_mean = np.sqrt(np.sum(g * g, axis=-1, keepdims=True))
        row_mean *= row_mean
        row_mean /= g.shape[-1]
        _lerp(row_var, row_mean, one_minus_beta2_t)
        col_mean = np.sqrt(np.sum(g * g, axis=-2, keepdims=True))
        col_mean *= col_mean
        col_mean /= g.shape[-2]
        _lerp(col_var, col_mean, one_minus_beta2_t)
        var_estimate = row_var @ col_var
        var_estimate /= np.maximum(row_var.mean(axis=-2, keepdims=True), float(eps1))
    else:
        _lerp(variance, g * g, one_minus_beta2_t)
        var_estimate = variance.copy()
    np.maximum(var_estimate, float(eps1 * eps1), out=var_estimate)
    update = np.sqrt(var_estimate, out=var_estimate)
    np.divide(1, update, out=update)
    update *= g
    denom = max(1.0, float(np.sqrt(np.vdot(update, update))) / ((update.size**0.5) * d))
    update *= float(-alpha / denom)
    param += update


def _lerp(a, end, weight):
    if abs(weight) < 0.5:
        a += weight * (end - a)
    else:
        a[...] = end - (end - a) * (1 - weight)
