"""Decaying schedulers: a factor every ``step_size`` epochs, at milestones or every epoch, and a polynomial decay."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable

from ._base import LRScheduler, group_values


class StepLR(LRScheduler):
    r"""Multiply each group's rate by ``gamma`` every ``step_size`` epochs.

    .. math:: \eta_t = \eta_0 \, \gamma^{\lfloor t / \text{step\_size} \rfloor}

    computed recursively (``lr * gamma`` at each non-zero multiple of ``step_size``), like torch.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        step_size (int): period of the decay.
        gamma (float): multiplicative factor. Default: 0.1.
        last_epoch (int): index of the last epoch. Default: -1.

    Example:
        >>> scheduler = StepLR(optimizer, step_size=30, gamma=0.1)  # 0.05 -> 0.005 at epoch 30 -> ...
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""Multiply each group's rate by ``gamma`` at every milestone epoch.

    .. math:: \eta_t = \eta_0 \, \gamma^{\#\{m \in \text{milestones} : m \le t\}}

    A milestone listed ``n`` times multiplies by ``gamma ** n`` (``milestones`` is kept as a ``Counter``).

    Args:
        optimizer (Optimizer): wrapped optimizer.
        milestones (list): epoch indices, increasing.
        gamma (float): multiplicative factor. Default: 0.1.
        last_epoch (int): index of the last epoch. Default: -1.

    Example:
        >>> scheduler = MultiStepLR(optimizer, milestones=[30, 80], gamma=0.1)
    """

    def __init__(self, optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self.last_epoch not in self.milestones:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch] for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    r"""Multiply each group's rate by ``gamma`` every epoch: :math:`\eta_t = \eta_0 \gamma^t` (recursively).

    Args:
        optimizer (Optimizer): wrapped optimizer.
        gamma (float): multiplicative factor.
        last_epoch (int): index of the last epoch. Default: -1.

    Example:
        >>> scheduler = ExponentialLR(optimizer, gamma=0.95)
    """

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        # On construction (also when resuming) the current rates are already the right ones.
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""Decay each group's rate polynomially to zero over ``total_iters`` epochs.

    .. math:: \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^{p}

    applied recursively, as torch does: :math:`\eta_t = \eta_{t-1} \left(\frac{1 - t/T}{1 - (t-1)/T}\right)^p`.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        total_iters (int): :math:`T`, epochs until the rate reaches zero. Default: 5.
        power (float): :math:`p`. Default: 1.0.
        last_epoch (int): index of the last epoch. Default: -1.

    Example:
        >>> scheduler = PolynomialLR(optimizer, total_iters=100, power=2.0)
    """

    def __init__(self, optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_values(self.optimizer, "lr")
        decay_factor = (
            (1.0 - self.last_epoch / self.total_iters) / (1.0 - (self.last_epoch - 1) / self.total_iters)
        ) ** self.power
        return [group["lr"] * decay_factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [
            base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
            for base_lr in self.base_lrs
        ]
