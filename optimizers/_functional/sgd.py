"""Stochastic gradient descent with momentum, dampening and Nesterov momentum."""

from __future__ import annotations

import numpy as np

from typing import NamedTuple

from ._blocks import run_blocked
from ._common import effective_grad


class SGDScalars(NamedTuple):
    """What an SGD update reads besides its arrays, as the blocks compute with them."""

    lr: float
    momentum: float
    #: ``1 - dampening``, or None for an undamped buffer (``buf += g``, no multiplication)
    one_minus_dampening: float | None
    weight_decay: float
    nesterov: bool
    maximize: bool


def sgd_scalars(lr, momentum, dampening, weight_decay, nesterov, maximize) -> SGDScalars:
    """:class:`SGDScalars` from the hyperparameters; they depend on no step, so an optimizer makes
    them once per group and step and calls :func:`apply_sgd_` for each parameter."""
    # torch adds the gradient with alpha=1 - dampening, a 0-d tensor's arithmetic for a tensor
    one_minus_dampening = float(1 - dampening) if momentum != 0 and dampening != 0 else None
    return tuple.__new__(SGDScalars, (lr, momentum, one_minus_dampening, weight_decay, nesterov,
                                      maximize))


def apply_sgd_(param, grad, momentum_buffer, scalars: SGDScalars, first_step: bool) -> None:
    """:func:`sgd_` with its scalars made (:func:`sgd_scalars`)."""
    run_blocked(_sgd_block, (param, grad, momentum_buffer), 2, (scalars, first_step))


def sgd_(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov,
                 maximize, first_step):
    r"""One SGD update of ``param`` in place (torch.optim.SGD's rule).

    .. math::
        g \leftarrow \pm\nabla + \lambda\theta,\quad
        b \leftarrow \mu b + (1-\tau) g \;(b_1 = g),\quad
        g \leftarrow g + \mu b \text{ (nesterov) or } b,\quad
        \theta \leftarrow \theta - \gamma g

    ``momentum_buffer`` is ignored when ``momentum == 0``; ``first_step`` makes it a copy of ``g``.
    ``dampening`` may be a :class:`~optimizers._functional._scalars.TensorScalar` (a 0-d tensor's
    value): ``1 - dampening`` is then computed in the tensor's dtype, as torch does.
    """
    apply_sgd_(param, grad, momentum_buffer,
               sgd_scalars(lr, momentum, dampening, weight_decay, nesterov, maximize), first_step)


def _sgd_block(p, g, buf, delta, grad_buffer, scalars, first_step):
    # grad_buffer holds the effective gradient; delta is the Nesterov or damped term's scratch,
    # then the parameter's change
    lr, momentum, one_minus_dampening, weight_decay, nesterov, maximize = scalars
    # the usual case (no decay, minimizing) without the call: a small step notices it
    d = effective_grad(g, p, weight_decay, maximize, grad_buffer) if weight_decay != 0 or maximize else g
    if momentum != 0:
        if first_step:
            np.copyto(buf, d)
        else:
            buf *= momentum
            if one_minus_dampening is None:
                buf += d
            else:
                np.multiply(d, one_minus_dampening, out=delta)
                buf += delta
        if nesterov:
            np.multiply(buf, momentum, out=delta)
            delta += d
            d = delta
        else:
            d = buf
    np.multiply(d, -lr, out=delta)
    p += delta
