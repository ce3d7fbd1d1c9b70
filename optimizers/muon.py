"""torch.optim.Muon on autodiff tensors."""

from __future__ import annotations

from autodiff.tensor import storage

from ._functional import muon_
from .optimizer import Optimizer, hyperparameter_reader, to_scalar, zeros_state

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


#: The hyperparameters a step reads: numbers, or TensorScalars from 0-d tensors.
_read_hyperparameters = hyperparameter_reader("lr", "weight_decay", "momentum", "ns_coefficients",
                                              "eps", "ns_steps", tuples=("ns_coefficients",),
                                              numbers=("ns_coefficients", "eps"))


class Muon(Optimizer):
    r"""Muon: momentum orthogonalized by Newton-Schulz (Jordan et al., 2024; torch.optim.Muon).

    For 2-D parameters only (use AdamW for biases and embeddings):

    .. math::
        B_t = \mu B_{t-1} + (1-\mu) G_t,\quad
        \tilde B_t = G_t + \mu(B_t - G_t) \text{ (nesterov) or } B_t,\quad
        O_t = \mathrm{NS}^{(a,b,c)}_k(\tilde B_t),\\
        \theta_t = \theta_{t-1}(1-\gamma\lambda) - \tilde\gamma\,O_t,\quad
        \tilde\gamma = \gamma\sqrt{\max(1, A/B)} \text{ ("original") or } 0.2\gamma\sqrt{\max(A,B)}
        \text{ ("match_rms_adamw")}

    The Newton-Schulz iteration runs in the parameter's dtype; torch runs it in bfloat16, so the
    two agree only to bfloat16 precision per step (about 1% of the update; see docs/optimizers.md, "Muon's tolerance").

    Args: lr (1e-3), weight_decay (0.1), momentum (0.95), nesterov (True), ns_coefficients
    ((3.4445, -4.775, 2.0315)), eps (1e-7), ns_steps (5), adjust_lr_fn (None = "original").
    Example: ``Muon([w_matrix], lr=0.02)``. State: ``momentum_buffer``.
    """

    __module__ = "optimizers"   # torch.optim.Muon.__module__ is "torch.optim"

    _counts_steps = False  # torch's Muon keeps no step count

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= to_scalar(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                        adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        "Muon only supports 2D parameters whereas we found a parameter with size: "
                        f"{p.size()}"
                    )

    def _init_state(self, state, param, group):
        state["momentum_buffer"] = zeros_state(param.grad)

    def _read_group(self, group):
        lr, weight_decay, momentum, ns_coefficients, eps, ns_steps = _read_hyperparameters(group)
        return (lr, weight_decay, momentum, ns_coefficients, eps, ns_steps, group["nesterov"],
                group["adjust_lr_fn"])

    def _update(self, param, grad, state, step, hyper):
        lr, weight_decay, momentum, ns_coefficients, eps, ns_steps, nesterov, adjust_lr_fn = hyper
        muon_(storage(param), storage(grad),
              storage(state["momentum_buffer"]), lr=lr, weight_decay=weight_decay,
              momentum=momentum, nesterov=nesterov, ns_coefficients=ns_coefficients,
              ns_steps=ns_steps, eps=eps, adjust_lr_fn=adjust_lr_fn)
