"""Cyclical learning rates (Smith, "Cyclical Learning Rates for Training Neural Networks", arXiv:1506.01186)."""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from functools import partial
from typing import Any, Literal

from ._base import LRScheduler, check_optimizer, per_group, set_first_momentum, set_group_value


def triangular_scale(x: float) -> float:
    return 1.0


def triangular2_scale(x: float) -> float:
    return 1 / (2.0 ** (x - 1))


def exp_range_scale(gamma: float, x: float) -> float:
    return gamma**x


class CyclicLR(LRScheduler):
    r"""Cycle each group's rate between ``base_lr`` and ``max_lr`` (a triangle wave), per batch.

    With cycle length ``step_size_up + step_size_down`` and :math:`x \in [0, 1)` the position in the current
    cycle, the rate is ``base_lr + (max_lr - base_lr) * h(x) * scale``, where :math:`h` rises linearly to 1 over
    the first ``step_size_up`` steps and falls back. ``scale`` is 1 (``"triangular"``), halves every cycle
    (``"triangular2"``), is ``gamma ** iteration`` (``"exp_range"``), or ``scale_fn(cycle or iteration)``.
    With ``cycle_momentum`` the momentum (or ``betas[0]``) moves inversely between ``max_momentum`` and
    ``base_momentum``.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        base_lr (float or list): lower rate, per group or for all; written into the groups on construction.
        max_lr (float or list): upper rate.
        step_size_up (int): steps of the rising half. Default: 2000.
        step_size_down (int): steps of the falling half; ``None`` means ``step_size_up``. Default: None.
        mode (str): ``"triangular"``, ``"triangular2"`` or ``"exp_range"``. Default: ``"triangular"``.
        gamma (float): base of ``"exp_range"``. Default: 1.0.
        scale_fn (function): custom ``scale(x)``, overrides ``mode``. Default: None.
        scale_mode (str): ``"cycle"`` or ``"iterations"``, the argument of ``scale_fn``. Default: ``"cycle"``.
        cycle_momentum (bool): cycle the momentum too. Default: True.
        base_momentum (float or list): lower momentum. Default: 0.8.
        max_momentum (float or list): upper momentum. Default: 0.9.
        last_epoch (int): index of the last batch. Default: -1.

    Example:
        >>> scheduler = CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=500)
    """

    def __init__(
        self,
        optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: Literal["triangular", "triangular2", "exp_range"] = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: Literal["cycle", "iterations"] = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float = 0.8,
        max_momentum: float = 0.9,
        last_epoch: int = -1,
    ) -> None:
        check_optimizer(optimizer)
        self.optimizer = optimizer
        base_lrs = per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                set_group_value(group, "lr", lr)
        self.max_lrs = per_group("max_lr", optimizer, max_lr)

        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size

        if mode not in ["triangular", "triangular2", "exp_range"] and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self.use_beta1 = "betas" in self.optimizer.defaults
            self.base_momentums = per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = per_group("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                momenta = zip(self.max_momentums, self.base_momentums, optimizer.param_groups, strict=True)
                for top, bottom, group in momenta:
                    set_first_momentum(group, top, self.use_beta1)
                    group["max_momentum"] = top
                    group["base_momentum"] = bottom

        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        # The built-in modes fix what the scale is a function of; a custom scale_fn keeps the given scale_mode.
        if self._scale_fn_custom is not None:
            return
        if self.mode == "triangular":
            self._scale_fn_ref = triangular_scale
            self.scale_mode = "cycle"
        elif self.mode == "triangular2":
            self._scale_fn_ref = triangular2_scale
            self.scale_mode = "cycle"
        elif self.mode == "exp_range":
            self._scale_fn_ref = partial(exp_range_scale, self.gamma)
            self.scale_mode = "iterations"

    def scale_fn(self, x) -> float:
        """The amplitude scale at cycle (or iteration) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    def get_lr(self) -> list:
        """The rates at batch ``last_epoch``; as a side effect (like torch) also writes the cycled momentum."""
        self._warn_if_called_outside_step()
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)

        lrs = [
            base_lr + (max_lr - base_lr) * scale_factor * scale
            for base_lr, max_lr in zip(self.base_lrs, self.max_lrs, strict=True)
        ]
        if self.cycle_momentum:
            for base_momentum, max_momentum, group in zip(
                self.base_momentums, self.max_momentums, self.optimizer.param_groups, strict=True
            ):
                momentum = max_momentum - (max_momentum - base_momentum) * scale_factor * scale
                set_first_momentum(group, momentum, self.use_beta1)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """As the base, without the scale function; a custom ``scale_fn`` is saved as its ``__dict__`` if it is
        a callable object (``None`` for functions and lambdas)."""
        state = super().state_dict()
        state.pop("_scale_fn_ref", None)
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None
        if fn is not None and not isinstance(fn, types.FunctionType):
            state["_scale_fn_custom"] = fn.__dict__.copy()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        fn_state = state.pop("_scale_fn_custom")
        super().load_state_dict(state)
        if fn_state is not None:
            self._scale_fn_custom.__dict__.update(fn_state)
        self._init_scale_fn()
