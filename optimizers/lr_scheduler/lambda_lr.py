"""Rates given by user functions of the epoch: a factor on the initial rate, or on the current one."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from ._base import LRScheduler, group_values


def lambdas_per_group(optimizer, lr_lambda) -> list:
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != len(optimizer.param_groups):
            raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
        return list(lr_lambda)
    return [lr_lambda] * len(optimizer.param_groups)


class _LambdaScheduler(LRScheduler):
    """Holds ``lr_lambdas``, one per group; :meth:`state_dict` saves the ``__dict__`` of callable objects,
    ``None`` for plain functions and lambdas (which cannot be saved)."""

    #: Whether the constructor refuses a ``lr_lambda`` that is not callable (torch: MultiplicativeLR does).
    _checks_callable = False

    def __init__(
        self,
        optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = lambdas_per_group(optimizer, lr_lambda)
        if self._checks_callable:
            for fn in self.lr_lambdas:
                if not callable(fn):
                    raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else fn.__dict__.copy() for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update({key: value for key, value in state_dict.items() if key != "lr_lambdas"})
        for fn, fn_state in zip(self.lr_lambdas, state_dict["lr_lambdas"]):
            if fn_state is not None:
                fn.__dict__.update(fn_state)


class LambdaLR(_LambdaScheduler):
    r"""Set each group's rate to its initial rate times a function of the epoch: :math:`\eta_t = \eta_0 f(t)`.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        lr_lambda (function or list): ``f(epoch) -> factor``, or one such function per parameter group.
        last_epoch (int): index of the last epoch. Default: -1.

    Example:
        >>> scheduler = LambdaLR(optimizer, lr_lambda=[lambda e: e // 30, lambda e: 0.95**e])
    """

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]


class MultiplicativeLR(_LambdaScheduler):
    r"""Multiply each group's current rate by a function of the epoch: :math:`\eta_t = \eta_{t-1} f(t)`.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        lr_lambda (function or list): ``f(epoch) -> factor``, or one such function per parameter group.
        last_epoch (int): index of the last epoch. Default: -1.

    Example:
        >>> scheduler = MultiplicativeLR(optimizer, lr_lambda=lambda epoch: 0.95)
    """

    _checks_callable = True

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        return [
            group["lr"] * fn(self.last_epoch)
            for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups, strict=True)
        ]
