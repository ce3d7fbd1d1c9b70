"""torch.optim.Adafactor on autodiff tensors."""

from __future__ import annotations

import numpy as np

from autodiff.tensor import storage

from ._functional import adafactor_
from .optimizer import Optimizer, hyperparameter_reader, new_state_tensor, to_scalar


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "beta2_decay", "eps", "d", "weight_decay",
                                              tuples=("eps",))


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer and Stern, 2018) in torch.optim.Adafactor's form.

    For a matrix (or a batch of matrices) the second moment is kept factored as row and column
    means of :math:`g^2`; for a vector it is kept whole. With :math:`\hat\beta_{2,t} = 1 - t^{c}`
    (``beta2_decay`` :math:`c`), :math:`\rho_t = \min(\gamma, t^{-1/2})` and
    :math:`\alpha_t = \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1}))\rho_t`:

    .. math::
        \hat V_t = \frac{R_t C_t}{\max(\bar R_t, \epsilon_1)},\quad
        U_t = \frac{g_t}{\sqrt{\max(\hat V_t, \epsilon_1^2)}},\quad
        \theta_t = \theta_{t-1}(1-\gamma\lambda) - \frac{\alpha_t}{\max(1, \mathrm{RMS}(U_t)/d)} U_t

    Args: lr (1e-2), beta2_decay (-0.8), eps ((None, 1e-3): :math:`\epsilon_1` defaults to the
    dtype's machine epsilon), d (clipping threshold, 1.0), weight_decay (0), foreach (accepted),
    maximize. Example: ``Adafactor([w], lr=1e-2)``.

    State: ``step``, and ``row_var``/``col_var`` (ndim > 1) or ``variance``.
    """

    __module__ = "optimizers"   # torch.optim.Adafactor.__module__ is "torch.optim"

    _flag_defaults = dict(foreach=None)

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0,
                 *, foreach=None, maximize=False):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= to_scalar(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, state, param, group):
        grad = storage(param.grad)
        if grad.ndim > 1:  # the second moment kept factored: row and column means
            state["row_var"] = new_state_tensor(np.zeros(grad.shape[:-1] + (1,), grad.dtype))
            state["col_var"] = new_state_tensor(
                np.zeros(grad.shape[:-2] + (1,) + grad.shape[-1:], grad.dtype))
        else:
            state["variance"] = new_state_tensor(np.zeros_like(grad))

    def _read_group(self, group):
        lr, beta2_decay, (eps1, eps2), d, weight_decay = _read_hyperparameters(group)
        if eps1 is None:
            # torch takes machine epsilon from the first parameter it updates, for the group
            first = next((p for p in group["params"] if p.grad is not None), None)
            eps1 = None if first is None else float(np.finfo(storage(first).dtype).eps)
        return lr, beta2_decay, eps1, eps2, d, weight_decay, group["maximize"]

    def _update(self, param, grad, state, step, hyper):
        lr, beta2_decay, eps1, eps2, d, weight_decay, maximize = hyper
        adafactor_(storage(param), storage(grad),
                   storage(state["row_var"]) if "row_var" in state else None,
                   storage(state["col_var"]) if "col_var" in state else None,
                   storage(state["variance"]) if "variance" in state else None,
                   step=step, lr=lr, beta2_decay=beta2_decay, eps1=eps1, eps2=eps2, d=d,
                   weight_decay=weight_decay, maximize=maximize)
