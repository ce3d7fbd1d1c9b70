"""Cosine annealing (without restarts), SGDR's schedule, https://arxiv.org/abs/1608.03983."""

from __future__ import annotations

import math

from ._base import LRScheduler, group_values


class CosineAnnealingLR(LRScheduler):
    r"""Anneal each group's rate along a cosine from its initial value to ``eta_min`` over ``T_max`` epochs.

    .. math:: \eta_t = \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})\left(1 + \cos\frac{t\pi}{T_{\max}}\right)

    Like torch, the rate is updated recursively,

    .. math:: \eta_{t} = \eta_{\min} + (\eta_{t-1} - \eta_{\min})
              \frac{1 + \cos(t\pi / T_{\max})}{1 + \cos((t-1)\pi / T_{\max})},

    so the schedule composes with other changes to the rate; past ``T_max`` it keeps following the cosine
    (rising again), with an additive step where the denominator above would vanish. The values match torch's
    bit for bit, and match the closed form above to rounding.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        T_max (int): half period of the cosine, in epochs.
        eta_min (float): minimum rate. Default: 0.
        last_epoch (int): index of the last epoch. Default: -1.

    Example:
        >>> scheduler = CosineAnnealingLR(optimizer, T_max=100, eta_min=1e-4)
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        if self._step_count == 1 and self.last_epoch > 0:
            # First step of a resumed schedule: the current rates are unknown to us, use the closed form.
            return [
                self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(self.last_epoch * math.pi / self.T_max)) / 2
                for base_lr in self.base_lrs
            ]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            # Leaving a trough of the cosine: the ratio below would divide by 1 + cos(pi) = 0.
            return [
                group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups, strict=True)
            ]
        ratio = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / (
            1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max)
        )
        return [ratio * (group["lr"] - self.eta_min) + self.eta_min for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [
            self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
            for base_lr in self.base_lrs
        ]
