"""A rate given by a user function of the epoch."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from ._base import LRScheduler


class LambdaLR(LRScheduler):
    r"""Set each group's rate to its initial rate times a function of the epoch: :math:`\eta_t = \eta_0 f(t)`.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        lr_lambda (function or list): ``f(epoch) -> factor``, or one such function per parameter group.
        last_epoch (int): index of the last epoch. Default: -1.

    :meth:`state_dict` saves the ``__dict__`` of callable objects, and ``None`` for plain functions and lambdas
    (which cannot be saved).

    Example:
        >>> scheduler = LambdaLR(optimizer, lr_lambda=[lambda e: e // 30, lambda e: 0.95**e])
    """

    def __init__(
        self,
        optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        self.optimizer = optimizer
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else fn.__dict__.copy() for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        saved = {key: value for key, value in state_dict.items() if key != "lr_lambdas"}
        self.__dict__.update(saved)
        for fn, fn_state in zip(self.lr_lambdas, state_dict["lr_lambdas"]):
            if fn_state is not None:
                fn.__dict__.update(fn_state)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]
