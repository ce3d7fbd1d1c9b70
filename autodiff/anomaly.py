"""Anomaly detection, as torch.autograd's (public as ``autodiff.autograd.detect_anomaly``): nodes remember where
they were recorded, and the backward says so.

With it enabled, every node keeps the stack of the forward call that recorded it; an error in a node's backward
is preceded by a UserWarning showing that stack, and (``check_nan=True``) a VJP returning nan is an error.
"""
from __future__ import annotations

import os
import traceback
import warnings

from .grad_mode import state

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def is_anomaly_enabled() -> bool:
    return state.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return state.anomaly_check_nan


def _set(mode: bool, check_nan: bool) -> None:
    state.anomaly = bool(mode)
    state.anomaly_check_nan = bool(check_nan)


class detect_anomaly:
    """Enable anomaly detection inside the block (or the decorated function)."""

    __module__ = "autodiff.autograd.anomaly_mode"     # where torch's says it lives

    def __init__(self, check_nan: bool = True) -> None:
        self.prev, self.prev_check_nan = state.anomaly, state.anomaly_check_nan
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        _set(True, self.check_nan)

    def __exit__(self, *exc) -> None:
        _set(self.prev, self.prev_check_nan)

    def __call__(self, func):
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return func(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Set anomaly detection on or off: immediately, and back to the previous setting as a context manager."""

    __module__ = "autodiff.autograd.anomaly_mode"

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev, self.prev_check_nan = state.anomaly, state.anomaly_check_nan
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        _set(self.prev, self.prev_check_nan)


def forward_trace() -> list:
    """The caller's stack, without autodiff's own frames (what the warning shows)."""
    frames = [f for f in traceback.extract_stack()[:-1] if not os.path.abspath(f.filename).startswith(_PACKAGE)]
    return traceback.format_list(frames)


def warn_failed(node) -> None:
    """The warning torch gives before re-raising an error in ``node``'s backward."""
    if node.trace is not None:
        warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                      + "".join(node.trace), UserWarning, stacklevel=2)
