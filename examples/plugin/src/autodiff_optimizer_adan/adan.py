"""Adan: adaptive Nesterov momentum (Xie et al., 2022, https://arxiv.org/abs/2208.06677)."""

from __future__ import annotations

import math

import autodiff
from optimizers import Optimizer


class Adan(Optimizer):
    r"""Adan: three exponential moving averages (gradient, gradient difference, squared Nesterov gradient).

    With :math:`g_t` the gradient, :math:`\Delta_t = g_t - g_{t-1}` (zero at the first step), bias-corrected
    zero-initialised moments (as in the authors' reference implementation of Algorithm 1):

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        v_t = \beta_2 v_{t-1} + (1-\beta_2) \Delta_t \\
        n_t = \beta_3 n_{t-1} + (1-\beta_3) (g_t + \beta_2 \Delta_t)^2 \\
        u_t = \frac{m_t}{1-\beta_1^t} + \beta_2 \frac{v_t}{1-\beta_2^t}, \qquad
        d_t = \frac{\sqrt{n_t}}{\sqrt{1-\beta_3^t}} + \epsilon \\
        \theta_t = \frac{\theta_{t-1} - \gamma\, u_t / d_t}{1 + \gamma\lambda}

    The last line is the paper's proximal weight decay; ``no_prox=True`` decays first instead,
    :math:`\theta \leftarrow (1 - \gamma\lambda)\theta - \gamma u_t / d_t` (AdamW's form).

    Args:
        params (iterable): parameters or dicts of parameter groups.
        lr (float): learning rate :math:`\gamma`. Default: 1e-3.
        betas (tuple of 3 floats): :math:`(\beta_1, \beta_2, \beta_3)`. Default: (0.98, 0.92, 0.99).
        eps (float): added to the denominator. Default: 1e-8.
        weight_decay (float): :math:`\lambda`. Default: 0.
        no_prox (bool): decoupled (AdamW-style) decay instead of the proximal one. Default: False.
        maximize (bool): maximise the objective. Default: False.

    State per parameter: ``step`` (int), ``exp_avg`` (:math:`m`), ``exp_avg_diff`` (:math:`v`),
    ``exp_avg_sq`` (:math:`n`), ``prev_grad`` (:math:`g_{t-1}`).

    Example:
        >>> optimizer = Adan(model_params, lr=1e-2, weight_decay=0.02)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.98, 0.92, 0.99),
        eps=1e-8,
        weight_decay=0.0,
        no_prox=False,
        *,
        maximize=False,
    ):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if len(betas) != 3:
            raise ValueError(f"Invalid betas: expected 3 values, got {len(betas)}")
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, no_prox=no_prox, maximize=maximize)
        super().__init__(params, defaults)

    @autodiff.no_grad()
    def step(self, closure=None):
        """Perform one Adan step; returns the closure's loss if one is given."""
        loss = None
        if closure is not None:
            with autodiff.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2, beta3 = group["betas"]
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = autodiff.zeros_like(p)
                    state["exp_avg_diff"] = autodiff.zeros_like(p)
                    state["exp_avg_sq"] = autodiff.zeros_like(p)
                    state["prev_grad"] = grad.clone()  # so that the first difference is zero
                state["step"] += 1
                step = state["step"]

                diff = grad - state["prev_grad"]
                nesterov_grad = grad + beta2 * diff
                state["exp_avg"].mul_(beta1).add_(grad, alpha=1 - beta1)
                state["exp_avg_diff"].mul_(beta2).add_(diff, alpha=1 - beta2)
                state["exp_avg_sq"].mul_(beta3).addcmul_(nesterov_grad, nesterov_grad, value=1 - beta3)
                state["prev_grad"].copy_(grad)

                denom = (state["exp_avg_sq"].sqrt() / math.sqrt(1 - beta3**step)).add_(eps)
                update = state["exp_avg"] / (1 - beta1**step)
                update.add_(state["exp_avg_diff"], alpha=beta2 / (1 - beta2**step))
                if group["no_prox"]:
                    p.mul_(1 - lr * weight_decay)
                    p.addcdiv_(update, denom, value=-lr)
                else:
                    p.addcdiv_(update, denom, value=-lr)
                    p.div_(1 + lr * weight_decay)
        return loss
