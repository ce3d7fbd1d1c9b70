"""torch.optim.AdamW: Adam with decoupled weight decay, by composition."""

from __future__ import annotations

from .adam import Adam


class AdamW(Adam):
    r"""AdamW (Loshchilov and Hutter, 2019): :class:`Adam` with ``decoupled_weight_decay=True``.

    .. math::
        \theta_{t-1} \leftarrow \theta_{t-1}(1 - \gamma\lambda), \text{ then Adam's update}

    Same arguments as :class:`Adam` except ``decoupled_weight_decay`` (always True) and the
    ``weight_decay`` default, 1e-2. Example: ``AdamW(model_params, lr=1e-3, weight_decay=0.01)``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        # A state dict saved from Adam loads into AdamW as AdamW (as torch does).
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
