"""torch.optim.Adam on autodiff tensors (AdamW is this class with decoupled weight decay)."""

from __future__ import annotations

import autodiff as ad
from autodiff.tensor import storage

from ._functional import adam_, fused
from ._functional._moments import adam_moment_scalars
from ._functional.adam import apply_adam_
from .optimizer import (Optimizer, check_betas, check_kernel_flags, check_nonnegative,
                        hyperparameter_reader, to_scalar)


def check_adam_hyperparameters(lr, eps, betas, weight_decay, foreach=None, capturable=False) -> None:
    """torch's checks, in torch's order, shared by the Adam family."""
    if hasattr(lr, "numel"):
        if foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= to_scalar(lr):
        raise ValueError(f"Invalid learning rate: {lr}")
    check_nonnegative(eps=eps)
    check_betas(betas)
    check_nonnegative(weight_decay=weight_decay)


def adam_fused(*args, moments=None, **kwargs):
    """The single-pass kernel when numba is installed (and the arrays contiguous), else numpy's."""
    if not (fused.available() and fused.adam_fused_(*args, **kwargs)):
        adam_(*args, moments=moments, **kwargs)


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "betas", "eps", "weight_decay",
                                              tuples=("betas",), squeezed=("lr", "betas"),
                                              numbers=("eps",))


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015), with AMSGrad and optional decoupled weight decay (torch.optim.Adam).

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\\
        \theta_t = \theta_{t-1} - \gamma\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}

    with :math:`v_t` replaced by its running maximum under ``amsgrad``; ``weight_decay`` adds
    :math:`\lambda\theta` to the gradient, or with ``decoupled_weight_decay`` multiplies
    :math:`\theta` by :math:`1-\gamma\lambda` first (AdamW, Loshchilov and Hutter, 2019).

    Args:
        params: tensors, ``(name, tensor)`` pairs or parameter-group dicts.
        lr (default 1e-3), betas (default (0.9, 0.999)), eps (default 1e-8),
        weight_decay (default 0), amsgrad, maximize, decoupled_weight_decay: as in torch.
        foreach: torch's multi-tensor kernel choice; accepted with torch's checks, same numbers.
        fused: with numba installed (``pip install numba``), a single-pass compiled kernel; without
            it the numpy kernel. The numbers are the same up to rounding either way.
        capturable: CUDA-graph option; ``step`` raises torch's CPU AssertionError.
        differentiable: refused at ``step`` (the update is not recorded by autograd here).

    Example:
        >>> opt = Adam([a, b], lr=0.1)
        >>> opt.zero_grad(); loss(a, b).backward(); opt.step()

    State: ``step`` (0-d float32), ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (amsgrad).
    """

    _zero_buffers, _amsgrad_buffer = ("exp_avg", "exp_avg_sq"), "max_exp_avg_sq"
    _flag_defaults = dict(amsgrad=False, maximize=False, foreach=None, capturable=False,
                          differentiable=False, decoupled_weight_decay=False, fused=None)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        check_adam_hyperparameters(lr, eps, betas, weight_decay, foreach, capturable)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], ad.Tensor) and isinstance(betas[1], ad.Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, ad.Tensor):
                if foreach and not capturable:
                    raise ValueError(
                        f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        # torch keeps tensor betas as 0-d tensors (and prints them so)
        betas = tuple(b.squeeze() if isinstance(b, ad.Tensor) and b.dim() != 0 else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        check_kernel_flags(fused, foreach, differentiable)

    def _read_group(self, group):
        lr, (beta1, beta2), eps, weight_decay = _read_hyperparameters(group)
        fused_kernel = group["fused"]
        if fused_kernel:  # torch's fused kernel reads tensor hyperparameters as floats
            lr, beta1, beta2, eps, weight_decay = map(float, (lr, beta1, beta2, eps, weight_decay))
        maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
        moments = adam_moment_scalars(lr, beta1, beta2, weight_decay, decoupled, maximize)
        return (fused_kernel, lr, beta1, beta2, eps, weight_decay, group["amsgrad"], maximize, decoupled,
                moments)

    def _update(self, param, grad, state, step, hyper):
        fused, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled, moments = hyper
        arrays = (storage(param), storage(grad),
                  storage(state["exp_avg"]), storage(state["exp_avg_sq"]),
                  storage(state["max_exp_avg_sq"]) if amsgrad else None)
        if fused:
            adam_fused(*arrays, step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                       weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                       decoupled_weight_decay=decoupled, moments=moments)
        else:
            apply_adam_(*arrays, moments, step, lr, beta1, beta2, eps)
