"""torch.optim.ASGD on autodiff tensors."""

from __future__ import annotations

import numpy as np

from autodiff.tensor import storage

from ._functional import asgd_
from .optimizer import (Optimizer, check_lr, check_nonnegative, hyperparameter,
                        hyperparameter_reader, new_state_tensor, scalar_dtype, takes_foreach_path,
                        zeros_state)


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "lambd", "alpha", "t0", "weight_decay",
                                              numbers=("weight_decay",))


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak and Juditsky, 1992; torch.optim.ASGD).

    .. math::
        \theta_t = \theta_{t-1}(1-\lambda\eta_t) - \eta_t g_t,\quad
        \bar\theta_t = \bar\theta_{t-1} + \mu_t(\theta_t - \bar\theta_{t-1}),\quad
        \eta_{t+1} = \frac{\gamma}{(1+\lambda\gamma t)^\alpha},\quad \mu_{t+1} = \frac{1}{\max(1, t-t_0)}

    Args: lr (1e-2), lambd (1e-4), alpha (0.75), t0 (1e6), weight_decay (0), foreach (accepted),
    maximize, differentiable/capturable (fail at ``step``). Example: ``ASGD([w], lr=0.01, t0=10)``.

    State: ``step``, ``eta``, ``mu`` (0-d), ``ax`` (the averaged parameters).
    """

    _flag_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    _scalar_state_keys = ("step", "eta", "mu")
    _capturable_tensors = "params, mus, etas, and state_steps"

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonnegative(weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, state, param, group):
        lr = hyperparameter(group["lr"], "lr", squeeze=True)
        state["eta"] = new_state_tensor(np.array(float(lr), scalar_dtype()))
        state["mu"] = new_state_tensor(np.ones((), scalar_dtype()))
        state["ax"] = zeros_state(param)

    def _read_group(self, group):
        lr, lambd, alpha, t0, weight_decay = _read_hyperparameters(group)
        return lr, lambd, alpha, t0, weight_decay, group["maximize"], takes_foreach_path(group)

    def _update(self, param, grad, state, step, hyper):
        lr, lambd, alpha, t0, weight_decay, maximize, foreach = hyper
        asgd_(storage(param), storage(grad), storage(state["ax"]),
              storage(state["eta"]), storage(state["mu"]), step=step, lr=lr,
              lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, maximize=maximize,
              foreach_step=storage(state["step"]) if foreach else None)
