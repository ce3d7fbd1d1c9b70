"""torch.optim.RMSprop on autodiff tensors."""

from __future__ import annotations

from autodiff.tensor import storage

from ._functional import rmsprop_
from .optimizer import Optimizer, check_lr, check_nonnegative, hyperparameter_reader, zeros_state


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "alpha", "eps", "weight_decay", "momentum",
                                              numbers=("lr", "eps", "weight_decay", "momentum"))


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, lecture 6e; centered form from Graves, 2013; torch.optim.RMSprop).

    .. math::
        v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\quad
        \bar g_t = \alpha\bar g_{t-1} + (1-\alpha) g_t,\quad
        a_t = \sqrt{v_t - \bar g_t^2} \text{ (centered) or } \sqrt{v_t},\\
        b_t = \mu b_{t-1} + g_t/(a_t+\epsilon),\ \theta_t = \theta_{t-1} - \gamma b_t
        \quad\text{or, without momentum,}\quad \theta_t = \theta_{t-1} - \gamma g_t/(a_t+\epsilon)

    Args: lr (1e-2), alpha (0.99), eps (1e-8), weight_decay (0), momentum (0), centered (False),
    capturable/differentiable (fail at ``step``), foreach (accepted), maximize.
    Example: ``RMSprop([w], lr=1e-2, momentum=0.9, centered=True)``.

    State: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0), ``grad_avg`` (centered).
    """

    _flag_defaults = dict(momentum=0, centered=False, foreach=None, maximize=False,
                          differentiable=False, capturable=False)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_lr(lr)
        check_nonnegative(eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, state, param, group):
        state["square_avg"] = zeros_state(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(param)
        if group["centered"]:
            state["grad_avg"] = zeros_state(param)

    def _read_group(self, group):
        lr, alpha, eps, weight_decay, momentum = _read_hyperparameters(group)
        return lr, alpha, eps, weight_decay, momentum, group["centered"], group["maximize"]

    def _update(self, param, grad, state, step, hyper):
        lr, alpha, eps, weight_decay, momentum, centered, maximize = hyper
        grad_avg = storage(state["grad_avg"]) if centered else None
        momentum_buffer = storage(state["momentum_buffer"]) if momentum > 0 else None
        rmsprop_(storage(param), storage(grad),
                 storage(state["square_avg"]), grad_avg, momentum_buffer, lr=lr,
                 alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                 centered=centered, maximize=maximize)
