"""Cosine annealing, with and without warm restarts (SGDR, https://arxiv.org/abs/1608.03983)."""

from __future__ import annotations

import math

from ._base import LRScheduler, temporarily_true, group_values, set_group_value


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


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR): restart at the initial rate every :math:`T_i` epochs.

    .. math:: \eta_t = \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})\left(1 + \cos\frac{T_{cur}\pi}{T_i}\right)

    :math:`T_{cur}` counts epochs since the last restart; the first period is ``T_0`` and each next one is
    ``T_mult`` times longer. ``step(epoch)`` accepts fractional epochs (call it per batch with
    ``epoch + i / iters``), and this scheduler's ``step`` does not warn about the deprecated epoch argument.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        T_0 (int): epochs until the first restart.
        T_mult (int): growth factor of the period. Default: 1.
        eta_min (float): minimum rate. Default: 0.
        last_epoch (int): index of the last epoch. Default: -1.

    Example:
        >>> scheduler = CosineAnnealingWarmRestarts(optimizer, T_0=10, T_mult=2, eta_min=1e-5)
    """

    def __init__(self, optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        return [
            self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
            for base_lr in self.base_lrs
        ]

    def _locate(self, epoch: float) -> None:
        """Set ``T_cur`` and ``T_i`` for an absolute (possibly fractional) epoch."""
        if epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        if epoch < self.T_0:
            self.T_i = self.T_0
            self.T_cur = epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            # Restarts happen at T_0 (T_mult^n - 1) / (T_mult - 1); n counts the ones already passed.
            n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult ** (n)

    def step(self, epoch=None) -> None:
        """Advance one epoch, or jump to ``epoch`` (an int or a fraction, e.g. ``epoch + batch / batches``)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            self._locate(epoch)
        self.last_epoch = math.floor(epoch)
        with temporarily_true(self, "_get_lr_called_within_step"):
            values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            set_group_value(group, "lr", lr)
        self._last_lr = group_values(self.optimizer, "lr")
