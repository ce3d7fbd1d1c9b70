"""torch.optim.Rprop on autodiff tensors."""

from __future__ import annotations

import numpy as np

from autodiff.tensor import storage

from ._functional import rprop_
from .optimizer import (Optimizer, check_lr, hyperparameter, hyperparameter_reader,
                        new_state_tensor, zeros_state)


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

    _flag_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, state, param, group):
        lr = hyperparameter(group["lr"], "lr", squeeze=True, number=True)
        state["prev"] = zeros_state(param)
        state["step_size"] = new_state_tensor(np.full_like(storage(param.grad), float(lr)))

    def _read_group(self, group):
        _, (etaminus, etaplus), (step_size_min, step_size_max) = _read_hyperparameters(group)
        return etaminus, etaplus, step_size_min, step_size_max, group["maximize"]

    def _update(self, param, grad, state, step, hyper):
        etaminus, etaplus, step_size_min, step_size_max, maximize = hyper
        rprop_(storage(param), storage(grad), storage(state["prev"]),
               storage(state["step_size"]), etaminus=etaminus, etaplus=etaplus,
               step_size_min=step_size_min, step_size_max=step_size_max, maximize=maximize)
