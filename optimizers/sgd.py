"""torch.optim.SGD on autodiff tensors."""

from __future__ import annotations

from autodiff.tensor import storage

from ._functional import fused, sgd_
from ._functional.sgd import apply_sgd_, sgd_scalars
from .optimizer import (Optimizer, check_kernel_flags, check_step_flags, hyperparameter_reader,
                        new_state_tensor, to_scalar)


def sgd_fused(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
              maximize, first_step):
    """The single-pass kernel when numba is installed (and the arrays contiguous), else numpy's."""
    options = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                   nesterov=nesterov, maximize=maximize, first_step=first_step)
    if not (fused.available() and fused.sgd_fused_(param, grad, momentum_buffer, **options)):
        sgd_(param, grad, momentum_buffer, **options)


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "momentum", "dampening", "weight_decay",
                                              numbers=("lr", "momentum", "weight_decay"))


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (torch.optim.SGD).

    .. math::
        g_t = \nabla f(\theta_{t-1}) + \lambda\theta_{t-1},\quad
        b_t = \mu b_{t-1} + (1-\tau) g_t\ (b_1 = g_1),\quad
        \theta_t = \theta_{t-1} - \gamma\,(g_t + \mu b_t \text{ if nesterov else } b_t)

    Args:
        params: tensors, ``(name, tensor)`` pairs or parameter-group dicts.
        lr: learning rate :math:`\gamma` (default 1e-3).
        momentum: :math:`\mu` (default 0). dampening: :math:`\tau` (default 0).
        weight_decay: L2 penalty :math:`\lambda` (default 0). nesterov: Nesterov momentum.
        maximize: ascend instead of descend.
        foreach: torch's multi-tensor kernel choice; accepted with torch's checks, same numbers.
        fused: with numba installed (``pip install numba``), a single-pass compiled kernel; without
            it the numpy kernel. The numbers are the same up to rounding either way.
        differentiable: refused at ``step`` (the update is not recorded by autograd here).

    Example:
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss(w).backward(); opt.step()

    State: ``momentum_buffer`` when ``momentum != 0``.
    """

    _flag_defaults = dict(nesterov=False, maximize=False, foreach=None, differentiable=False,
                          fused=False)
    # torch's SGD keeps no step counter, and state only with momentum (a buffer made on the
    # parameter's first step as a copy of its gradient)
    _counts_steps = False
    _lazy_state = False

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if to_scalar(lr) < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_kernel_flags(fused, foreach, differentiable)

    def _read_group(self, group):
        if group.get("differentiable") or group.get("capturable"):
            check_step_flags(group)
        lr, momentum, dampening, weight_decay = _read_hyperparameters(group)
        nesterov, maximize = group["nesterov"], group["maximize"]
        if group["fused"]:  # torch's fused kernel reads tensor hyperparameters as floats
            return True, float(momentum), (float(lr), float(momentum), float(dampening),
                                           float(weight_decay), nesterov, maximize)
        return False, momentum, sgd_scalars(lr, momentum, dampening, weight_decay, nesterov, maximize)

    def _update(self, param, grad, state, step, hyper):
        fused, momentum, scalars = hyper
        buffer, first_step = None, False
        if momentum != 0:  # torch keeps state only with momentum: a buffer made on the first step
            state = self.state[param]
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = new_state_tensor(storage(grad).copy())
                first_step = True
            buffer = storage(buffer)
        if fused:
            sgd_fused(storage(param), storage(grad), buffer, *scalars, first_step)
        else:
            apply_sgd_(storage(param), storage(grad), buffer, scalars, first_step)
