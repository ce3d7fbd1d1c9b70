r"""The Adam family's shared moment updates (Adam, AdamW, NAdam, RAdam, AdaBelief, Adamax).

Each member's block kernel is these steps followed by its own use of the moments, as optax builds
``adam`` from ``scale_by_adam``: weight decay (decoupled, or L2 added to the gradient), the first
moment :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, and for Adam, NAdam and RAdam the second,
:math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`. Their scalars travel named
(:class:`MomentScalars`, :class:`BiasCorrections`), computed once per call from the
hyperparameters, 0-d tensor ones (:class:`~optimizers._functional._scalars.TensorScalar`) in
their dtype as torch computes them, and given to the ufuncs as floats.
"""

from __future__ import annotations

from typing import NamedTuple

from ._common import addcmul_, effective_grad, lerp_


class MomentScalars(NamedTuple):
    """What the shared moment updates read, as floats."""

    #: :math:`1-\gamma\lambda`, multiplying the parameter first (decoupled weight decay), or None
    decay: float | None
    #: :math:`\lambda` of the L2 term added to the gradient (0.0 with decoupled weight decay)
    weight_decay: float
    maximize: bool
    #: the first moment's weight :math:`1-\beta_1`
    one_minus_beta1: float
    beta2: float
    one_minus_beta2: float


class BiasCorrections(NamedTuple):
    """Adam's and AdaBelief's bias corrections at step :math:`t`, as floats."""

    #: :math:`\gamma/(1-\beta_1^t)`
    step_size: float
    #: :math:`\sqrt{1-\beta_2^t}`
    bias_correction2_sqrt: float


# NamedTuple's own constructor is a Python function; tuple.__new__ builds the same object at a
# third of the cost, which a step of small tensors notices (these are made on every step).
_new = tuple.__new__


def _moment_scalars(lr, one_minus_beta1, beta2, weight_decay, decoupled_weight_decay, maximize):
    decay = float(1 - lr * weight_decay) if weight_decay != 0 and decoupled_weight_decay else None
    return _new(MomentScalars, (decay, 0.0 if decoupled_weight_decay else float(weight_decay),
                                maximize, one_minus_beta1, float(beta2), float(1 - beta2)))


def moment_scalars(lr, beta1, beta2, weight_decay, decoupled_weight_decay,
                   maximize) -> MomentScalars:
    """The :class:`MomentScalars` of NAdam, RAdam and Adamax: ``1 - beta1`` computed as torch's
    do, in a 0-d tensor's dtype. They depend on no step: an optimizer computes them once per
    parameter group and step, and passes them to each parameter's kernel (``moments=``)."""
    return _moment_scalars(lr, float(1 - beta1), beta2, weight_decay, decoupled_weight_decay,
                           maximize)


def adam_moment_scalars(lr, beta1, beta2, weight_decay, decoupled_weight_decay,
                        maximize) -> MomentScalars:
    """The :class:`MomentScalars` of Adam, AdamW and AdaBelief: ``1 - beta1`` in double from
    ``float(beta1)``, as torch's Adam casts a tensor ``beta1`` to the parameter's dtype."""
    return _moment_scalars(lr, 1 - float(beta1), beta2, weight_decay, decoupled_weight_decay,
                           maximize)


def bias_corrections(step, lr, beta1, beta2) -> BiasCorrections:
    """:class:`BiasCorrections` at step ``step`` (the count including this update)."""
    return _new(BiasCorrections, (float(lr / (1 - beta1**step)), float((1 - beta2**step) ** 0.5)))


def first_moment_(param, grad, exp_avg, moments: MomentScalars, scratch, grad_buffer):
    """Decay ``param`` (decoupled), form the effective gradient (negated to maximize, plus the L2
    term) and move ``exp_avg`` toward it; returns the effective gradient (``grad`` itself, or
    ``grad_buffer`` holding it). ``scratch`` is overwritten."""
    if moments.decay is not None:
        param *= moments.decay
    if moments.weight_decay != 0 or moments.maximize:
        grad = effective_grad(grad, param, moments.weight_decay, moments.maximize, grad_buffer)
    lerp_(exp_avg, grad, moments.one_minus_beta1, scratch)
    return grad


def second_moment_(exp_avg_sq, grad, moments: MomentScalars, scratch) -> None:
    """:math:`v \\leftarrow \\beta_2 v + (1-\\beta_2) g^2` in torch's order; ``scratch`` is overwritten."""
    exp_avg_sq *= moments.beta2
    addcmul_(exp_avg_sq, grad, grad, moments.one_minus_beta2, scratch)
