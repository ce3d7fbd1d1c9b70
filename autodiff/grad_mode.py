"""Global switches of autograd: grad mode (no_grad / enable_grad / set_grad_enabled)."""
from __future__ import annotations

import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
           "is_inference_mode_enabled"]


#: Where torch's grad-mode classes say they live (torch.no_grad.__module__ == "torch.autograd.grad_mode").
PUBLIC_MODULE = "autodiff.autograd.grad_mode"


class _State:
    # One module-level object so the hot path reads a single attribute.
    grad_enabled = True
    forward_token = None  # the open forward-mode (dual) level, if any
    # A clock ticking at every in-place change. A node remembers the time it was recorded; a saved tensor whose
    # storage changed later fails the backward (torch's version-counter check, at one integer per node).
    epoch = 0
    inference = False          # inside inference_mode()
    anomaly = False            # anomaly detection (autograd.set_detect_anomaly)
    anomaly_check_nan = True


state = _State()


def is_grad_enabled() -> bool:
    return state.grad_enabled


class _GradModeContext:
    """A context manager that is also a decorator, as torch's grad-mode classes are."""

    mode: bool

    def __enter__(self):
        self._prev = state.grad_enabled
        state.grad_enabled = self.mode
        return None

    def __exit__(self, *exc):
        state.grad_enabled = self._prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class _NoParamContext(_GradModeContext):
    # Usable as @no_grad as well as @no_grad() and `with no_grad():`, as in torch.
    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamContext):
    """Disable gradient recording inside the block (or the decorated function)."""
    __module__ = PUBLIC_MODULE
    mode = False


class enable_grad(_NoParamContext):
    """Enable gradient recording inside the block (or the decorated function)."""
    __module__ = PUBLIC_MODULE
    mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``: immediately, and back to the previous mode when used as a context manager."""

    __module__ = PUBLIC_MODULE

    def __init__(self, mode: bool) -> None:
        self._prev = state.grad_enabled
        self.mode = bool(mode)
        state.grad_enabled = self.mode

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        state.grad_enabled = self._prev
        return False

    def __call__(self, func):
        state.grad_enabled = self._prev
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return set_grad_enabled(self.mode)


def is_inference_mode_enabled() -> bool:
    return state.inference


class inference_mode(_GradModeContext):
    """torch's inference mode: no gradients are recorded inside the block (or the decorated function), as under
    ``no_grad``; ``inference_mode(False)`` changes nothing. (Tensors made inside are ordinary tensors here: there is
    no separate kind of inference tensor, and no ``Tensor.is_inference``.)"""

    __module__ = PUBLIC_MODULE

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):     # @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode_on = bool(mode)

    def __enter__(self):
        self._prev = state.grad_enabled, state.inference
        if self.mode_on:
            state.grad_enabled, state.inference = False, True
        return None

    def __exit__(self, *exc):
        state.grad_enabled, state.inference = self._prev
        return False

    def __call__(self, func):
        mode = self.mode_on

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return inference_mode(self.mode_on)

