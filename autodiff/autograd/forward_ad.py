"""Forward-mode AD with dual tensors, as torch.autograd.forward_ad: every op pushes tangents through its JVP rule.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        value, jvp = forward_ad.unpack_dual(y)
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..grad_mode import state
from ..ops.indexing import getitem
from ..tensor import Tensor

__all__ = ["dual_level", "make_dual", "unpack_dual", "UnpackedDualTensor", "enter_dual_level", "exit_dual_level"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


class _Level:
    """Identity of one open dual level (tangents made under another level are not seen)."""


def enter_dual_level() -> int:
    if state.forward_token is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    state.forward_token = _Level()
    return 0


def exit_dual_level(*, level=None) -> None:
    state.forward_token = None


class dual_level:
    """Context manager for a forward-AD level: tangents live only inside it."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def make_dual(tensor: Tensor, tangent, *, level=None) -> Tensor:
    """A view of ``tensor`` carrying ``tangent`` (same shape) as its forward-mode derivative."""
    if state.forward_token is None:
        raise RuntimeError("make_dual can only be used inside a dual_level() context. Use `with "
                           "fwAD.dual_level():` before calling make_dual.")
    tangent_shape = tangent.shape
    if tuple(tangent_shape) != tuple(tensor.shape):
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent_shape)}.")
    dual = getitem(tensor, Ellipsis) if tensor.requires_grad else Tensor._from_array(tensor._data)
    if isinstance(tangent, Tensor) and not tangent._requires_grad:
        tangent = tangent._data
    dual._tangent = (state.forward_token, tangent if isinstance(tangent, Tensor) else
                     np.asarray(tangent, dtype=tensor._data.dtype))
    return dual


def unpack_dual(tensor: Tensor, *, level=None) -> UnpackedDualTensor:
    """(primal, tangent) of a dual tensor; the tangent is None outside its level or if it has none."""
    tangent = None
    if tensor._base is not None and tensor._view_version != tensor._vc[0]:
        tensor._view.refresh(tensor)     # a view whose base changed in place: its tangent is re-read from the base's
    if tensor._tangent is not None and tensor._tangent[0] is state.forward_token and state.forward_token:
        t = tensor._tangent[1]
        tangent = t if isinstance(t, Tensor) else Tensor._from_array(np.asarray(t))
    return UnpackedDualTensor(_primal_view(tensor), tangent)


def _primal_view(tensor: Tensor) -> Tensor:
    if tensor._tangent is None:
        return tensor
    with _suspended():
        view = getitem(tensor, Ellipsis) if tensor.requires_grad else Tensor._from_array(tensor._data)
    return view


class _suspended:
    def __enter__(self):
        self.token = state.forward_token
        state.forward_token = None

    def __exit__(self, *exc):
        state.forward_token = self.token
