"""Muon: momentum orthogonalized by a Newton-Schulz iteration (Jordan et al., 2024)."""

from __future__ import annotations

import math

import numpy as np

from ._common import lerp_


def zeropower_via_newtonschulz(matrix, ns_coefficients, ns_steps, eps):
    r"""Approximately orthogonalize a 2-D array: :math:`X \approx U V^T` for :math:`G = U S V^T`.

    Quintic iteration :math:`X \leftarrow aX + (bA + cA^2)X` with :math:`A = XX^T`, started from
    :math:`X = G/\max(\|G\|_F, \epsilon)` (on the transpose when the matrix is tall). Computed in the
    input's precision; torch does the same iteration in bfloat16 (see docs/optimizers.md, "Muon's tolerance").
    """
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if matrix.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (float(k) for k in ns_coefficients)
    tall = matrix.shape[0] > matrix.shape[1]
    x = matrix.T.copy() if tall else matrix.copy()
    x /= max(float(np.sqrt(np.vdot(x, x))), float(eps))
    for _ in range(ns_steps):
        gram = x @ x.T
        gram_update = b * gram + c * (gram @ gram)
        x = a * x + gram_update @ x
    return x.T if tall else x


def adjusted_lr(lr, adjust_lr_fn, shape):
    """Muon's shape-dependent learning rate: "original" sqrt(max(1, A/B)), or "match_rms_adamw"
    0.2 sqrt(max(A, B)) so the update's RMS matches AdamW's."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


def muon_(param, grad, momentum_buffer, *, lr, weight_decay, momentum, nesterov, ns_coefficients,
          ns_steps, eps, adjust_lr_fn):
    r"""One Muon update of a 2-D ``param`` in place.

    .. math::
        B \leftarrow \mu B + (1-\mu) G,\quad
        \tilde B = G + \mu(B - G) \text{ (nesterov) or } B,\quad
        \theta \leftarrow \theta(1-\gamma\lambda) - \tilde\gamma\,\mathrm{NS}(\tilde B)
    """
    if grad.ndim != 2:
        raise ValueError("Param gradient must be a 2D matrix")
    # 0-d tensor hyperparameters (TensorScalar): 1 - momentum, the adjusted lr and the decay in
    # the tensor's dtype, as torch computes them
    lerp_(momentum_buffer, grad, float(1 - momentum), np.empty_like(grad))
    if nesterov:
        update = grad.copy()
        lerp_(update, momentum_buffer, float(momentum), np.empty_like(grad))
    else:
        update = momentum_buffer
    update = zeropower_via_newtonschulz(update, ns_coefficients, ns_steps, eps)
    step_lr = adjusted_lr(lr, adjust_lr_fn, param.shape)
    param *= float(1 - lr * weight_decay)
    update *= -float(step_lr)
    param += update.astype(param.dtype, copy=False)
