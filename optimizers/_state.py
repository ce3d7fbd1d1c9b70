"""Per-parameter state tensors as torch makes them: zero buffers, the 0-d step counter."""

from __future__ import annotations

import numpy as np

import autodiff as ad
from autodiff.tensor import storage

__all__ = ["advance_step", "new_state_tensor", "scalar_dtype", "step_state", "zeros_state"]


def scalar_dtype() -> np.dtype:
    """The dtype torch gives ``state['step']``: float64 under a float64 default dtype, else float32."""
    return np.dtype(np.float64) if ad.get_default_dtype() == ad.float64 else np.dtype(np.float32)


def new_state_tensor(array: np.ndarray) -> ad.Tensor:
    """Wrap a freshly made ndarray as a state tensor without copying."""
    return ad.from_numpy(array)


def zeros_state(param: ad.Tensor) -> ad.Tensor:
    """A zero state buffer shaped and typed like ``param``."""
    return new_state_tensor(np.zeros_like(storage(param)))


def step_state(fused=False) -> ad.Tensor:
    """A fresh ``state['step']``: a 0-d float tensor, as torch makes it (float32 for ``fused``)."""
    return new_state_tensor(np.zeros((), np.float32 if fused else scalar_dtype()))


def advance_step(step: ad.Tensor) -> float:
    """``state["step"] += 1`` in the tensor's own dtype; returns the new count.

    Assigning ``float(step) + 1`` is the float32 (or float64) addition torch does: the sum of two
    floats is exact in double and rounded once on assignment. It costs a tenth of a 0-d ufunc
    (about 1.5 us), which the runner's many small steps notice.
    """
    count = storage(step)  # the tensor's own memory: the write below is the update
    count[()] = float(count) + 1.0
    return float(count)
