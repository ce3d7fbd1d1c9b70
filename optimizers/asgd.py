"""torch.optim.ASGD on autodiff tensors."""

from __future__ import annotations

import numpy as np

from ._functional import asgd_
from .optimizer import (Optimizer, advance_step, check_lr, check_step_flags, new_state_tensor,
                        hyperparameter_reader, scalar_dtype, step_state, takes_foreach_path,
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

    _scalar_state_keys = ("step", "eta", "mu")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def step(self, closure=None):
        """Perform one ASGD step; returns the closure's loss if one is given."""
        loss = self._evaluate_closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0, weight_decay = _read_hyperparameters(group)
            foreach = takes_foreach_path(group)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = step_state()
                    state["eta"] = new_state_tensor(np.array(float(lr), scalar_dtype()))
                    state["mu"] = new_state_tensor(np.ones((), scalar_dtype()))
                    state["ax"] = zeros_state(p)
                check_step_flags(group, "params, mus, etas, and state_steps")
                step_t = advance_step(state["step"])
                asgd_(p._data, p.grad._data, state["ax"]._data, state["eta"]._data,
                      state["mu"]._data, step=step_t, lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                      weight_decay=weight_decay, maximize=group["maximize"],
                      foreach_step=state["step"]._data if foreach else None)
        return loss
