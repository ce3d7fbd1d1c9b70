"""torch.optim.RMSprop on autodiff tensors."""

from __future__ import annotations

from ._functional import rmsprop_
from .optimizer import (Optimizer, advance_step, check_lr, check_step_flags, hyperparameter_reader,
                        step_state, zeros_state)


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

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def step(self, closure=None):
        """Perform one RMSprop step; returns the closure's loss if one is given."""
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps, weight_decay, momentum = _read_hyperparameters(group)
            centered = group["centered"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = step_state()
                    state["square_avg"] = zeros_state(p)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_state(p)
                    if centered:
                        state["grad_avg"] = zeros_state(p)
                check_step_flags(group)
                advance_step(state["step"])
                rmsprop_(p._data, p.grad._data, state["square_avg"]._data,
                         state["grad_avg"]._data if centered else None,
                         state["momentum_buffer"]._data if momentum > 0 else None,
                         lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                         centered=centered, maximize=group["maximize"])
        return loss
