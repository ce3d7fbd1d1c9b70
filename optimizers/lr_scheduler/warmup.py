"""Warm-up schedulers: a constant or linearly changing factor on the rate for the first ``total_iters`` epochs."""

from __future__ import annotations

from ._base import LRScheduler, group_values


class ConstantLR(LRScheduler):
    r"""Multiply each group's rate by ``factor`` until epoch ``total_iters``, then restore it.

    .. math:: \eta_t = \eta_0 \cdot (\text{factor} \text{ if } t < \text{total\_iters} \text{ else } 1)

    Recursively: ``lr * factor`` at epoch 0 and ``lr * (1 / factor)`` at epoch ``total_iters``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        factor (float): the factor, in [0, 1]. Default: 1/3.
        total_iters (int): number of epochs the factor applies. Default: 5.
        last_epoch (int): index of the last epoch. Default: -1.

    Example:
        >>> scheduler = ConstantLR(optimizer, factor=0.5, total_iters=40)
    """

    def __init__(self, optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [
            base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
            for base_lr in self.base_lrs
        ]


class LinearLR(LRScheduler):
    r"""Scale each group's rate by a factor moving linearly from ``start_factor`` to ``end_factor``.

    .. math:: \eta_t = \eta_0 \left(s + (e - s) \frac{\min(t, T)}{T}\right)

    with :math:`s` = ``start_factor``, :math:`e` = ``end_factor``, :math:`T` = ``total_iters``; torch (and this
    class) applies it recursively, multiplying the current rate by
    :math:`1 + (e - s) / (T s + (t - 1)(e - s))` at each step :math:`1 \le t \le T`.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        start_factor (float): factor at epoch 0, in (0, 1]. Default: 1/3.
        end_factor (float): factor from epoch ``total_iters`` on, in [0, 1]. Default: 1.0.
        total_iters (int): number of epochs of the ramp. Default: 5.
        last_epoch (int): index of the last epoch. Default: -1.

    Example:
        >>> scheduler = LinearLR(optimizer, start_factor=0.05, total_iters=40)
    """

    def __init__(
        self,
        optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_values(self.optimizer, "lr")
        slope = self.end_factor - self.start_factor
        ratio = 1.0 + slope / (self.total_iters * self.start_factor + (self.last_epoch - 1) * slope)
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [
            base_lr
            * (
                self.start_factor
                + (self.end_factor - self.start_factor) * min(self.total_iters, self.last_epoch) / self.total_iters
            )
            for base_lr in self.base_lrs
        ]
