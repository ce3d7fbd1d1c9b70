"""torch.optim.Adagrad on autodiff tensors."""

from __future__ import annotations

import numpy as np

from autodiff.tensor import storage

from ._functional import adagrad_
from .optimizer import (Optimizer, check_kernel_flags, check_lr, check_nonnegative, hyperparameter,
                        hyperparameter_reader, new_state_tensor)


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "lr_decay", "weight_decay", "eps",
                                              numbers=("weight_decay", "eps"))


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011; torch.optim.Adagrad).

    .. math::
        \tilde\gamma_t = \frac{\gamma}{1 + (t-1)\eta},\quad s_t = s_{t-1} + g_t^2,\quad
        \theta_t = \theta_{t-1} - \tilde\gamma_t\,\frac{g_t}{\sqrt{s_t} + \epsilon}

    Args: lr (1e-2), lr_decay :math:`\eta` (0), weight_decay (0), initial_accumulator_value
    (:math:`s_0`, 0), eps (1e-10), foreach/fused (accepted, same numbers), maximize,
    differentiable (fails at ``step``). Example: ``Adagrad([w], lr=0.1, lr_decay=0.01)``.

    State (made for every parameter at construction, as torch does): ``step``, ``sum``.
    """

    _flag_defaults = dict(foreach=None, maximize=False, differentiable=False, fused=None)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr(lr)
        check_nonnegative(lr_decay=lr_decay, weight_decay=weight_decay, initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        check_kernel_flags(fused, foreach, differentiable)
        for group in self.param_groups:  # torch makes the state here, not on the first step
            for param in group["params"]:
                self._fill_state(self.state[param], param, group)

    def _init_state(self, state, param, group):
        initial = hyperparameter(group["initial_accumulator_value"], "initial_accumulator_value")
        state["sum"] = new_state_tensor(np.full_like(storage(param), float(initial)))

    def _read_group(self, group):
        lr, lr_decay, weight_decay, eps = _read_hyperparameters(group)
        if group["fused"]:  # torch's fused kernel reads tensor hyperparameters as floats
            lr, lr_decay, weight_decay, eps = map(float, (lr, lr_decay, weight_decay, eps))
        return lr, lr_decay, weight_decay, eps, group["maximize"]

    def _update(self, param, grad, state, step, hyper):
        lr, lr_decay, weight_decay, eps, maximize = hyper
        adagrad_(storage(param), storage(grad), storage(state["sum"]),
                 step=step, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                 maximize=maximize)
