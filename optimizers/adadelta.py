"""torch.optim.Adadelta on autodiff tensors."""

from __future__ import annotations

from autodiff.tensor import storage

from ._functional import adadelta_
from .optimizer import Optimizer, check_lr, check_nonnegative, hyperparameter_reader


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "rho", "eps", "weight_decay",
                                              numbers=("lr", "eps", "weight_decay"))


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012; torch.optim.Adadelta).

    .. math::
        v_t = \rho v_{t-1} + (1-\rho) g_t^2,\quad
        \Delta_t = \frac{\sqrt{u_{t-1}+\epsilon}}{\sqrt{v_t+\epsilon}}\,g_t,\quad
        u_t = \rho u_{t-1} + (1-\rho)\Delta_t^2,\quad \theta_t = \theta_{t-1} - \gamma\Delta_t

    Args: lr (1.0), rho (0.9), eps (1e-6), weight_decay (0), foreach (accepted),
    capturable/differentiable (fail at ``step``), maximize. Example: ``Adadelta([w], rho=0.9)``.

    State: ``step``, ``square_avg``, ``acc_delta``.
    """

    _zero_buffers = ("square_avg", "acc_delta")

    _flag_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)
    _capturable_supports_xla = False

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonnegative(eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _read_group(self, group):
        lr, rho, eps, weight_decay = _read_hyperparameters(group)
        return lr, rho, eps, weight_decay, group["maximize"]

    def _update(self, param, grad, state, step, hyper):
        lr, rho, eps, weight_decay, maximize = hyper
        adadelta_(storage(param), storage(grad),
                  storage(state["square_avg"]), storage(state["acc_delta"]),
                  lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
