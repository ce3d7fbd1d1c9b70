"""Lion (Chen et al., 2023), beyond torch.optim."""

from __future__ import annotations

from autodiff.tensor import storage

from ._functional import lion_
from .optimizer import Optimizer, check_betas, check_lr, check_nonnegative, hyperparameter_reader


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "betas", "weight_decay", tuples=("betas",))


class Lion(Optimizer):
    r"""Lion: EvoLved Sign Momentum (Chen et al., 2023, "Symbolic Discovery of Optimization
    Algorithms", Algorithm 2).

    .. math::
        c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
        \theta_t = \theta_{t-1} - \gamma\big(\operatorname{sign}(c_t) + \lambda\theta_{t-1}\big),\quad
        m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t

    The update has the same magnitude :math:`\gamma` in every coordinate, so the paper advises a
    learning rate 3-10x smaller than AdamW's and a weight decay 3-10x larger.

    Args: lr (1e-4), betas ((0.9, 0.99)), weight_decay (0.0, decoupled as above), maximize.
    Example: ``Lion([w], lr=1e-4, weight_decay=1.0)``. State: ``exp_avg`` (:math:`m`).
    """

    _zero_buffers = ("exp_avg",)
    _counts_steps = False  # the rule has no bias correction: no step count to keep

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False):
        check_lr(lr)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _read_group(self, group):
        lr, (beta1, beta2), weight_decay = _read_hyperparameters(group)
        return lr, beta1, beta2, weight_decay, group["maximize"]

    def _update(self, param, grad, state, step, hyper):
        lr, beta1, beta2, weight_decay, maximize = hyper
        lion_(storage(param), storage(grad), storage(state["exp_avg"]),
              lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, maximize=maximize)
