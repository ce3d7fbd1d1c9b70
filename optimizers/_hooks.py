"""Step hooks: per-optimizer and global functions run around every ``step()``, as torch's."""

from __future__ import annotations

import functools
from collections import OrderedDict
from itertools import chain

from autodiff.utils.hooks import RemovableHandle

__all__ = ["RemovableHandle", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook",
           "with_step_hooks"]


_global_step_pre_hooks: OrderedDict = OrderedDict()
_global_step_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs) -> None | (args, kwargs)`` to run before every optimizer's ``step``
    (``args`` are step's positional arguments, the optimizer first, as torch passes them)."""
    handle = RemovableHandle(_global_step_pre_hooks)
    _global_step_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``."""
    handle = RemovableHandle(_global_step_post_hooks)
    _global_step_post_hooks[handle.id] = hook
    return handle


def with_step_hooks(step):
    """Wrap a subclass's ``step`` so registered pre/post hooks run around it (as torch does)."""

    @functools.wraps(step)
    def hooked_step(*args, **kwargs):
        self = args[0]
        # Fast path: the runner calls step() thousands of times without any hook.
        if not (self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks
                or _global_step_pre_hooks or _global_step_post_hooks):
            return step(*args, **kwargs)
        # As torch's, the hooks see the arguments step was called with, the optimizer first among them, and a
        # pre-hook's (new_args, new_kwargs) are what step is then called with.
        for pre_hook in chain(_global_step_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                    )
        out = step(*args, **kwargs)
        for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_step_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    hooked_step.hooked = True
    return hooked_step
