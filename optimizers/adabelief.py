"""AdaBelief (Zhuang et al., 2020), beyond torch.optim."""

from __future__ import annotations

from autodiff.tensor import storage

from ._functional.adabelief import apply_adabelief_
from ._functional._moments import adam_moment_scalars
from .adam import check_adam_hyperparameters
from .optimizer import Optimizer, hyperparameter_reader


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "betas", "eps", "weight_decay",
                                              tuples=("betas",), numbers=("eps",))


class AdaBelief(Optimizer):
    r"""AdaBelief (Zhuang et al., 2020, "AdaBelief Optimizer: Adapting Stepsizes by the Belief in
    Observed Gradients", Algorithm 2): Adam with :math:`v_t` replaced by the variance of the
    gradient around its running mean, so the step is large when the gradient is predictable.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
        s_t = \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \epsilon,\\
        \theta_t = \theta_{t-1} - \gamma\,\frac{m_t/(1-\beta_1^t)}{\sqrt{s_t/(1-\beta_2^t)} + \epsilon}

    Args: lr (1e-3), betas ((0.9, 0.999)), eps (1e-16, the authors' recommended default),
    weight_decay (0), decoupled_weight_decay (False: L2 added to the gradient; True: AdamW-style),
    amsgrad (use the running maximum of :math:`s_t`), maximize.
    Example: ``AdaBelief([w], lr=1e-3, eps=1e-16)``.

    State: ``step``, ``exp_avg``, ``exp_avg_var``, ``max_exp_avg_var`` (amsgrad).
    """

    _zero_buffers, _amsgrad_buffer = ("exp_avg", "exp_avg_var"), "max_exp_avg_var"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16, weight_decay=0,
                 amsgrad=False, *, decoupled_weight_decay=False, maximize=False):
        check_adam_hyperparameters(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _read_group(self, group):
        lr, (beta1, beta2), eps, weight_decay = _read_hyperparameters(group)
        maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
        moments = adam_moment_scalars(lr, beta1, beta2, weight_decay, decoupled, maximize)
        return lr, beta1, beta2, eps, weight_decay, group["amsgrad"], maximize, decoupled, moments

    def _update(self, param, grad, state, step, hyper):
        lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled, moments = hyper
        max_exp_avg_var = storage(state["max_exp_avg_var"]) if amsgrad else None
        apply_adabelief_(storage(param), storage(grad),
                         storage(state["exp_avg"]), storage(state["exp_avg_var"]),
                         max_exp_avg_var, moments, step, lr, beta1, beta2, eps)
