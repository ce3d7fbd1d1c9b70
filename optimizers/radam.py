"""torch.optim.RAdam on autodiff tensors."""

from __future__ import annotations

from autodiff.tensor import storage

from ._functional import radam_
from ._functional._moments import moment_scalars
from .adam import check_adam_hyperparameters
from .optimizer import (Optimizer, foreach_scalar_tensor_error, hyperparameter_reader,
                        is_tensor_value, takes_foreach_path)


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "betas", "eps", "weight_decay",
                                              tuples=("betas",), numbers=("eps",))


class RAdam(Optimizer):
    r"""RAdam: rectified Adam (Liu et al., 2020; torch.optim.RAdam).

    .. math::
        \rho_\infty = \tfrac{2}{1-\beta_2} - 1,\quad \rho_t = \rho_\infty - \tfrac{2t\beta_2^t}{1-\beta_2^t},\quad
        \hat m_t = \frac{m_t}{1-\beta_1^t},\\
        \theta_t = \theta_{t-1} - \gamma\,\hat m_t\, r_t\,\frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon}
        \ \text{if } \rho_t > 5 \text{ else } \theta_{t-1} - \gamma\hat m_t,\quad
        r_t = \sqrt{\tfrac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}

    Args: lr (1e-3), betas ((0.9, 0.999)), eps (1e-8), weight_decay (0), decoupled_weight_decay
    (False), maximize; foreach accepted; capturable/differentiable fail at ``step``.
    Example: ``RAdam([w], lr=1e-3)``. State: ``step``, ``exp_avg``, ``exp_avg_sq``.
    """

    _zero_buffers = ("exp_avg", "exp_avg_sq")

    _flag_defaults = dict(foreach=None, maximize=False, differentiable=False,
                          decoupled_weight_decay=False, capturable=False)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_adam_hyperparameters(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable)
        super().__init__(params, defaults)

    def _read_group(self, group):
        lr, (beta1, beta2), eps, weight_decay = _read_hyperparameters(group)
        foreach = takes_foreach_path(group)
        if foreach and is_tensor_value(beta2):
            # torch's multi-tensor RAdam adds 1 - beta2 with a positional scalar, which a
            # tensor fails
            raise foreach_scalar_tensor_error()
        maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
        moments = moment_scalars(lr, beta1, beta2, weight_decay, decoupled, maximize)
        return lr, beta1, beta2, eps, weight_decay, maximize, decoupled, foreach, moments

    def _update(self, param, grad, state, step, hyper):
        lr, beta1, beta2, eps, weight_decay, maximize, decoupled, foreach, moments = hyper
        radam_(storage(param), storage(grad), storage(state["exp_avg"]),
               storage(state["exp_avg_sq"]), step=step, lr=lr, beta1=beta1, beta2=beta2,
               eps=eps, weight_decay=weight_decay, decoupled_weight_decay=decoupled,
               maximize=maximize, foreach=foreach, moments=moments)
