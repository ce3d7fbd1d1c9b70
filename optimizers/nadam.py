"""torch.optim.NAdam on autodiff tensors."""

from __future__ import annotations

import numpy as np

from autodiff.tensor import storage

from ._functional import nadam_
from ._functional._moments import moment_scalars
from .adam import check_adam_hyperparameters
from .optimizer import (Optimizer, check_nonnegative, foreach_addcdiv_type_error,
                        foreach_scalar_tensor_error, hyperparameter_reader, is_tensor_value,
                        new_state_tensor, scalar_dtype, takes_foreach_path, zeros_state)


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "betas", "eps", "weight_decay",
                                              "momentum_decay", tuples=("betas",), numbers=("eps",))


class NAdam(Optimizer):
    r"""NAdam: Adam with Nesterov momentum (Dozat, 2016; torch.optim.NAdam).

    .. math::
        \mu_t = \beta_1\big(1 - \tfrac12 0.96^{t\psi}\big),\quad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\\
        \theta_t = \theta_{t-1} - \gamma\Big(\frac{(1-\mu_t)\,g_t}{1-\prod_{i\le t}\mu_i}
            + \frac{\mu_{t+1}\,m_t}{1-\prod_{i\le t+1}\mu_i}\Big)\Big/\Big(\sqrt{\tfrac{v_t}{1-\beta_2^t}}+\epsilon\Big)

    Args: lr (default 2e-3), betas ((0.9, 0.999)), eps (1e-8), weight_decay (0),
    momentum_decay :math:`\psi` (4e-3), decoupled_weight_decay (False, True gives NAdamW),
    maximize; foreach accepted; capturable/differentiable fail at ``step``.
    Example: ``NAdam([w], lr=2e-3, momentum_decay=4e-3)``.

    State: ``step``, ``mu_product`` (0-d, the running product of :math:`\mu_t`), ``exp_avg``,
    ``exp_avg_sq``.
    """

    _flag_defaults = dict(maximize=False, foreach=None, capturable=False, differentiable=False,
                          decoupled_weight_decay=False)

    _scalar_state_keys = ("step", "mu_product")
    _capturable_tensors = "params, mu_products and state_steps"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_adam_hyperparameters(lr, eps, betas, weight_decay)
        check_nonnegative(momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, state, param, group):
        state["mu_product"] = new_state_tensor(np.ones((), scalar_dtype()))
        state["exp_avg"] = zeros_state(param)
        state["exp_avg_sq"] = zeros_state(param)

    def _read_group(self, group):
        lr, (beta1, beta2), eps, weight_decay, momentum_decay = _read_hyperparameters(group)
        foreach = takes_foreach_path(group)
        if foreach:
            # torch's multi-tensor NAdam adds 1 - beta2 with a positional scalar, which a
            # tensor fails; a tensor beta1 or momentum_decay gives tensor step sizes, which
            # its _foreach_addcdiv_ refuses
            if is_tensor_value(beta2):
                raise foreach_scalar_tensor_error()
            if is_tensor_value(beta1) or is_tensor_value(momentum_decay):
                raise foreach_addcdiv_type_error(group, third="tuple")
        maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
        moments = moment_scalars(lr, beta1, beta2, weight_decay, decoupled, maximize)
        return (lr, beta1, beta2, eps, weight_decay, momentum_decay, maximize, decoupled, foreach,
                moments)

    def _update(self, param, grad, state, step, hyper):
        (lr, beta1, beta2, eps, weight_decay, momentum_decay, maximize, decoupled, foreach,
         moments) = hyper
        nadam_(storage(param), storage(grad), storage(state["exp_avg"]),
               storage(state["exp_avg_sq"]), storage(state["mu_product"]),
               step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
               momentum_decay=momentum_decay, decoupled_weight_decay=decoupled, maximize=maximize,
               foreach=foreach, moments=moments)
