"""The scheduler base class and the helpers every scheduler shares.

A scheduler owns a counter ``last_epoch`` and, at each :meth:`LRScheduler.step`, writes new learning rates into
the optimizer's ``param_groups``. As in torch, most schedulers compute the next rate *recursively* from the
current ``group["lr"]`` (so they compose with other changes to the rate), and also have a *closed form* from
``base_lrs`` used only when ``step(epoch)`` is given an epoch. The two differ in the last bits, so each scheduler
keeps torch's choice and torch's order of floating-point operations.
"""

from __future__ import annotations

import functools
import warnings
import weakref
from contextlib import contextmanager
from typing import Any

from autodiff import Tensor

from ..optimizer import Optimizer

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being "
    "deprecated where possible. Please use `scheduler.step()` to step the "
    "scheduler. During the deprecation, if epoch is different from None, the "
    "closed form is used instead of the new chainable form, where available. "
    "Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose."
)


def check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def per_group(name: str, optimizer: Optimizer, value) -> list:
    """One value per parameter group: a list/tuple is checked for length, a scalar is repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(value)} values, param_groups has {len(optimizer.param_groups)}."
            )
    else:
        value = [value] * len(optimizer.param_groups)
    return [v.clone() if isinstance(v, Tensor) else v for v in value]


def group_values(optimizer: Optimizer, key: str) -> list:
    """``group[key]`` of every group, tensors copied so callers cannot alias the optimizer's values."""
    return [
        group[key].clone() if isinstance(group[key], Tensor) else group[key]
        for group in optimizer.param_groups
    ]


def set_group_value(group: dict, key: str, value) -> None:
    """Write ``value`` into ``group[key]``; a tensor-valued hyperparameter is filled in place, never replaced."""
    if isinstance(group[key], Tensor):
        group[key].fill_(value.item() if isinstance(value, Tensor) else value)
    else:
        group[key] = value


def _record_optimizer_steps(optimizer: Optimizer) -> None:
    """Wrap ``optimizer.step`` (once) so the scheduler can tell whether it ran before ``scheduler.step()``."""
    if getattr(optimizer.step, "_wrapped_by_lr_sched", False):
        return
    step = optimizer.step.__func__
    # A weak reference: the wrapper is stored on the optimizer, a strong one would make a cycle.
    optimizer_ref = weakref.ref(optimizer)

    @functools.wraps(step)
    def step_and_record(*args, **kwargs):
        opt = optimizer_ref()
        opt._opt_called = True
        return step(opt, *args, **kwargs)

    step_and_record._wrapped_by_lr_sched = True
    optimizer.step = step_and_record


@contextmanager
def temporarily_true(scheduler, attribute: str):
    setattr(scheduler, attribute, True)
    try:
        yield
    finally:
        setattr(scheduler, attribute, False)


class LRScheduler:
    """Base class of the learning-rate schedulers (``torch.optim.lr_scheduler.LRScheduler``).

    Subclasses implement :meth:`get_lr` (the next rates, usually from the current ``group["lr"]``) and may
    provide ``_get_closed_form_lr`` (the rates at ``last_epoch`` from ``base_lrs``).

    Args:
        optimizer (Optimizer): the optimizer whose ``param_groups[i]["lr"]`` this scheduler sets.
        last_epoch (int): index of the last epoch seen; ``-1`` (default) starts a new schedule and stores each
            group's current rate as ``group["initial_lr"]``. Any other value resumes, and needs ``initial_lr``
            in every group.

    Constructing a scheduler performs step 0 (``last_epoch`` becomes 0) and overwrites the groups' ``lr``;
    create it before ``optimizer.load_state_dict`` when restoring a checkpoint. Call ``scheduler.step()`` after
    ``optimizer.step()``; the other order warns, as in torch.
    """

    _get_lr_called_within_step: bool = False
    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                initial_lr = group["lr"]
                group.setdefault("initial_lr", initial_lr.clone() if isinstance(initial_lr, Tensor) else initial_lr)
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming scheduler with last_epoch >= 0.\n"
                        "This typically happens when:\n"
                        "1. You're trying to resume training from a checkpoint but haven't properly loaded the optimizer state\n"
                        "2. You're using last_epoch >= 0 for a fresh training run (not recommended)"
                    )
        self.base_lrs: list = group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _record_optimizer_steps(optimizer)
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        with temporarily_true(self, "_is_initial"):
            self.step()

    def state_dict(self) -> dict[str, Any]:
        """Every attribute of the scheduler except the optimizer."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by :meth:`state_dict`."""
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list:
        """The rates written at the last step, one per parameter group (copies, never aliases)."""
        return self._last_lr

    def get_lr(self) -> list:
        """The next rates, one per parameter group; called by :meth:`step` (use :meth:`get_last_lr` to read)."""
        raise NotImplementedError

    def _warn_if_called_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn(
                "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                UserWarning,
                stacklevel=3,
            )

    def step(self, epoch: int | None = None) -> None:
        """Advance the schedule by one and write the new rates into the optimizer.

        ``epoch`` is deprecated (as in torch): it sets ``last_epoch`` and uses the closed form where one exists.
        """
        if self._step_count == 1:
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn(
                    "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                    "initialization. Please, make sure to call `optimizer.step()` before "
                    "`lr_scheduler.step()`. See more details at "
                    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                    UserWarning,
                    stacklevel=2,
                )
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(
                    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                    "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
                    "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
                    "will result in PyTorch skipping the first value of the learning rate schedule. "
                    "See more details at "
                    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                    UserWarning,
                    stacklevel=2,
                )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        with temporarily_true(self, "_get_lr_called_within_step"):
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            set_group_value(group, "lr", lr)
        self._last_lr: list = group_values(self.optimizer, "lr")


def set_first_momentum(group: dict, momentum, use_beta1: bool) -> None:
    """Write the cycled momentum: ``betas[0]`` for Adam-like optimizers, else ``momentum``."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum
