"""torch.optim.Rprop on autodiff tensors."""

from __future__ import annotations

import numpy as np

from ._functional import rprop_
from .optimizer import (Optimizer, advance_step, check_lr, check_step_flags, hyperparameter_reader,
                        new_state_tensor, step_state, zeros_state)


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "etas", "step_sizes",
                                              tuples=("etas", "step_sizes"),
                                              numbers=("lr", "etas", "step_sizes"))


class Rprop(Optimizer):
    r"""Rprop: resilient backpropagation (Riedmiller and Braun, 1993; torch.optim.Rprop).

    Each weight has its own step size :math:`\eta`, grown by :math:`\eta_+` while the gradient
    keeps its sign, shrunk by :math:`\eta_-` when it flips (and that step skipped), clipped to
    ``step_sizes``; the weight moves by :math:`-\eta\,\operatorname{sign}(g)`.

    Args: lr (initial step size, 1e-2), etas ((0.5, 1.2) = (:math:`\eta_-`, :math:`\eta_+`)),
    step_sizes ((1e-6, 50) = (min, max)), capturable/differentiable (fail at ``step``), foreach
    (accepted), maximize. Example: ``Rprop([w], lr=0.01, etas=(0.5, 1.2))``.

    State: ``step``, ``prev`` (last gradient used), ``step_size``.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def step(self, closure=None):
        """Perform one Rprop step; returns the closure's loss if one is given."""
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            lr, (etaminus, etaplus), (step_size_min, step_size_max) = _read_hyperparameters(group)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = step_state()
                    state["prev"] = zeros_state(p)
                    state["step_size"] = new_state_tensor(
                        np.full_like(p.grad._data, float(lr)))
                check_step_flags(group)
                advance_step(state["step"])
                rprop_(p._data, p.grad._data, state["prev"]._data, state["step_size"]._data,
                       etaminus=etaminus, etaplus=etaplus, step_size_min=step_size_min,
                       step_size_max=step_size_max, maximize=group["maximize"])
        return loss
