"""Schedulers made of schedulers: one after another (SequentialLR) or all at once (ChainedScheduler)."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from ._base import LRScheduler, group_values, set_group_value
from .plateau import ReduceLROnPlateau


def check_same_optimizer(composite, optimizer, schedulers) -> None:
    """Every scheduler must be a stepping scheduler of ``optimizer`` (torch's checks and messages)."""
    name = type(composite).__name__
    for index, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{name} at index {index} should have `optimizer` as its attribute.")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                f"{name} does not support `ReduceLROnPlateau` scheduler as it "
                "requires additional kwargs to be specified when calling `step`, "
                f"but got one at index {index} in the given schedulers sequence."
            )
        if optimizer != scheduler.optimizer:
            raise ValueError(
                f"{name} expects all schedulers to belong to the same optimizer, but "
                f"got scheduler {type(scheduler).__name__} at index {index} has {scheduler.optimizer}, "
                f"which is different from {type(optimizer).__name__}."
            )


def nested_state_dict(composite) -> dict[str, Any]:
    state = {key: value for key, value in composite.__dict__.items() if key not in ("optimizer", "_schedulers")}
    state["_schedulers"] = [scheduler.state_dict() for scheduler in composite._schedulers]
    return state


def load_nested_state_dict(composite, state_dict: dict[str, Any]) -> None:
    composite.__dict__.update({key: value for key, value in state_dict.items() if key != "_schedulers"})
    for scheduler, scheduler_state in zip(composite._schedulers, state_dict["_schedulers"]):
        scheduler.load_state_dict(scheduler_state)


class SequentialLR(LRScheduler):
    """Hand the schedule to ``schedulers[i]`` from epoch ``milestones[i-1]`` on.

    At a milestone the next scheduler restarts from its own epoch 0 (``step(0)``, i.e. its closed form), so
    ``SequentialLR(opt, [ConstantLR(opt, factor=0.1, total_iters=20), ExponentialLR(opt, gamma=0.9)], [20])``
    gives 0.1 * lr for 20 epochs, then lr, 0.9 lr, 0.81 lr, ...

    Args:
        optimizer (Optimizer): wrapped optimizer.
        schedulers (list): the schedulers, all on ``optimizer``; not ``ReduceLROnPlateau``.
        milestones (list): ``len(schedulers) - 1`` epochs at which to switch.
        last_epoch (int): index of the last epoch. Default: -1.

    Example:
        >>> warmup = LinearLR(optimizer, start_factor=0.1, total_iters=5)
        >>> decay = CosineAnnealingLR(optimizer, T_max=95)
        >>> scheduler = SequentialLR(optimizer, schedulers=[warmup, decay], milestones=[5])
    """

    def __init__(self, optimizer, schedulers: list[LRScheduler], milestones: list[int], last_epoch: int = -1) -> None:
        if len(schedulers) < 1:
            raise ValueError(f"{type(self).__name__} expects at least one scheduler, but got no scheduler.")
        check_same_optimizer(self, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers {len(schedulers)} and the "
                f"number of milestones to be equal to {len(milestones)}"
            )
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer

        # The schedulers each took their step 0 when built; undo that, then let only the first one start.
        for group in optimizer.param_groups:
            set_group_value(group, "lr", group["initial_lr"])
        self.recursive_undo()
        index = bisect_right(self._milestones, 0)
        self._schedulers[index]._initial_step()
        self._last_lr = schedulers[index].get_last_lr()

    def recursive_undo(self, sched=None) -> None:
        """Step back by one epoch every (nested) scheduler, undoing the step taken on construction."""
        scheduler = self if sched is None else sched
        if hasattr(scheduler, "_schedulers"):
            for inner in scheduler._schedulers:
                self.recursive_undo(inner)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def step(self) -> None:
        """Advance one epoch, stepping the scheduler in charge (restarting it at its milestone)."""
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """The attributes plus every inner scheduler's state dict (under ``_schedulers``)."""
        return nested_state_dict(self)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        load_nested_state_dict(self, state_dict)


class ChainedScheduler(LRScheduler):
    """Step every scheduler of a list at each step, so their effects on the rate multiply.

    Args:
        schedulers (sequence): schedulers of one optimizer (not ``ReduceLROnPlateau``), stepped in order.
        optimizer (Optimizer, optional): their optimizer; defaults to the first scheduler's.

    Example:
        >>> scheduler = ChainedScheduler([ConstantLR(opt, factor=0.1, total_iters=2), ExponentialLR(opt, 0.9)])
    """

    def __init__(self, schedulers, optimizer=None) -> None:
        if len(schedulers) < 1:
            raise ValueError(
                f"{type(self).__name__} expects at least one scheduler to be chained, but got no scheduler."
            )
        optimizer = optimizer or schedulers[0].optimizer
        check_same_optimizer(self, optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = group_values(self._schedulers[-1].optimizer, "lr")

    def step(self) -> None:
        """Step each scheduler once, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = group_values(self._schedulers[-1].optimizer, "lr")

    def state_dict(self) -> dict[str, Any]:
        """The attributes plus every inner scheduler's state dict (under ``_schedulers``)."""
        return nested_state_dict(self)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        load_nested_state_dict(self, state_dict)
