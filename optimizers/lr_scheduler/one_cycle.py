"""The 1cycle policy: Smith & Topin, Super-Convergence, https://arxiv.org/abs/1708.07120."""

from __future__ import annotations

import math
from typing import Literal

from ._base import LRScheduler, check_optimizer, per_group, set_first_momentum


def anneal_cos(start: float, end: float, pct: float) -> float:
    """Cosine from ``start`` (pct 0) to ``end`` (pct 1)."""
    cos_out = math.cos(math.pi * pct) + 1
    return end + (start - end) / 2.0 * cos_out


def anneal_linear(start: float, end: float, pct: float) -> float:
    """Straight line from ``start`` (pct 0) to ``end`` (pct 1)."""
    return (end - start) * pct + start


class OneCycleLR(LRScheduler):
    r"""Raise the rate from ``max_lr / div_factor`` to ``max_lr``, then anneal it far below the start.

    With :math:`T` = ``total_steps`` (or ``epochs * steps_per_epoch``) and :math:`p` = ``pct_start``, two phases
    (fastai's default) interpolate, per group,

    * steps :math:`0 \to pT - 1`: ``initial_lr`` :math:`\to` ``max_lr``, momentum ``max`` :math:`\to` ``base``;
    * steps :math:`pT - 1 \to T - 1`: ``max_lr`` :math:`\to` ``min_lr = initial_lr / final_div_factor``, momentum back.

    ``three_phase=True`` follows the paper instead: up, down to ``initial_lr`` (symmetrically), then down to
    ``min_lr``. Interpolation is cosine (``anneal_strategy="cos"``) or linear. The groups get ``initial_lr``,
    ``max_lr``, ``min_lr`` (and ``max_momentum``, ``base_momentum``) keys; with ``cycle_momentum`` the scheduler
    also writes ``momentum`` (or ``betas[0]`` for Adam-like optimizers). Stepping past ``total_steps`` raises.

    Args:
        optimizer (Optimizer): wrapped optimizer.
        max_lr (float or list): peak rate, for all groups or per group.
        total_steps (int): steps in the cycle; or give ``epochs`` and ``steps_per_epoch``. Default: None.
        epochs (int): epochs, with ``steps_per_epoch``. Default: None.
        steps_per_epoch (int): steps per epoch, with ``epochs``. Default: None.
        pct_start (float): fraction of the cycle spent raising the rate. Default: 0.3.
        anneal_strategy (str): ``"cos"`` or ``"linear"``. Default: ``"cos"``.
        cycle_momentum (bool): cycle momentum inversely to the rate. Default: True.
        base_momentum (float or list): momentum at the peak rate. Default: 0.85.
        max_momentum (float or list): momentum at the start and end. Default: 0.95.
        div_factor (float): ``initial_lr = max_lr / div_factor``. Default: 25.
        final_div_factor (float): ``min_lr = initial_lr / final_div_factor``. Default: 1e4.
        three_phase (bool): use the paper's three phases. Default: False.
        last_epoch (int): index of the last *step* (batch). Default: -1.

    Example:
        >>> scheduler = OneCycleLR(optimizer, max_lr=0.01, total_steps=1000)
    """

    def __init__(
        self,
        optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        check_optimizer(optimizer)
        self.optimizer = optimizer
        self.total_steps = self._count_steps(total_steps, epochs, steps_per_epoch)
        self._schedule_phases = self._phases(pct_start, three_phase)

        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._anneal_func_type = anneal_strategy

        max_lrs = per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for peak, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = per_group("max_momentum", optimizer, max_momentum)
            base_momentums = per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for top, bottom, group in zip(max_momentums, base_momentums, optimizer.param_groups, strict=True):
                    set_first_momentum(group, top, self.use_beta1)
                    group["max_momentum"] = top
                    group["base_momentum"] = bottom

        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _count_steps(total_steps, epochs, steps_per_epoch) -> int:
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            return total_steps
        if epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            return epochs * steps_per_epoch
        raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")

    def _phases(self, pct_start: float, three_phase: bool) -> list[dict]:
        """Each phase ends at ``end_step`` and moves the group keys ``start_*`` to ``end_*``."""

        def phase(end_step, start_lr, end_lr, start_momentum, end_momentum):
            return {
                "end_step": end_step,
                "start_lr": start_lr,
                "end_lr": end_lr,
                "start_momentum": start_momentum,
                "end_momentum": end_momentum,
            }

        rise_end = float(pct_start * self.total_steps) - 1
        rise = phase(rise_end, "initial_lr", "max_lr", "max_momentum", "base_momentum")
        if three_phase:
            fall_end = float(2 * pct_start * self.total_steps) - 2
            return [
                rise,
                phase(fall_end, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                phase(self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        return [rise, phase(self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]

    def _anneal_func(self, start: float, end: float, pct: float) -> float:
        return anneal_cos(start, end, pct) if self._anneal_func_type == "cos" else anneal_linear(start, end, pct)

    def get_lr(self) -> list:
        """The rates at ``last_epoch``; as a side effect (like torch) also writes the cycled momentum."""
        self._warn_if_called_outside_step()
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"Tried to step {step_num} times. The specified number of total steps is {self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lrs.append(self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentum = self._anneal_func(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                        set_first_momentum(group, momentum, self.use_beta1)
                    break
                start_step = phase["end_step"]
        return lrs
