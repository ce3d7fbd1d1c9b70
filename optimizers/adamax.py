"""torch.optim.Adamax on autodiff tensors."""

from __future__ import annotations

from autodiff.tensor import storage

from ._functional import adamax_
from ._functional._moments import moment_scalars
from .adam import check_adam_hyperparameters
from .optimizer import (Optimizer, foreach_addcdiv_type_error, hyperparameter_reader,
                        is_tensor_value, takes_foreach_path)


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "betas", "eps", "weight_decay",
                                              tuples=("betas",), numbers=("eps", "weight_decay"))


class Adamax(Optimizer):
    r"""Adamax, Adam's infinity-norm variant (Kingma and Ba, 2015, section 7.1; torch.optim.Adamax).

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon),\quad
        \theta_t = \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\frac{m_t}{u_t}

    Args: lr (default 2e-3), betas (default (0.9, 0.999)), eps (1e-8), weight_decay (0), maximize;
    foreach accepted (same numbers); capturable/differentiable fail at ``step`` as described in
    :func:`optimizers.optimizer.check_step_flags`. Example: ``Adamax([w], lr=2e-3)``.

    State: ``step``, ``exp_avg``, ``exp_inf``.
    """

    _zero_buffers = ("exp_avg", "exp_inf")

    _flag_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None,
                 *, maximize=False, differentiable=False, capturable=False):
        check_adam_hyperparameters(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _read_group(self, group):
        lr, (beta1, beta2), eps, weight_decay = _read_hyperparameters(group)
        if takes_foreach_path(group):
            # torch's multi-tensor Adamax reads lr as a float; its step sizes from a tensor
            # beta1 are tensors, which its _foreach_addcdiv_ refuses
            if is_tensor_value(beta1):
                raise foreach_addcdiv_type_error(group)
            lr = float(lr)
        maximize = group["maximize"]
        moments = moment_scalars(lr, beta1, beta2, weight_decay, False, maximize)
        return lr, beta1, beta2, eps, weight_decay, maximize, moments

    def _update(self, param, grad, state, step, hyper):
        lr, beta1, beta2, eps, weight_decay, maximize, moments = hyper
        adamax_(storage(param), storage(grad), storage(state["exp_avg"]),
                storage(state["exp_inf"]), step=step, lr=lr, beta1=beta1, beta2=beta2,
                eps=eps, weight_decay=weight_decay, maximize=maximize, moments=moments)
