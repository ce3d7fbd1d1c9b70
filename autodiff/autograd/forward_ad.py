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
from ..tensor import Tensor, tangent_of

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
    """A view of ``tensor`` carrying ``tangent`` (same shape) as its forward-mode derivative.

    As torch's, the tangent is kept as given (``unpack_dual(...).tangent is tangent``, an in-place change to it is
    seen) when its layout is the primal's; otherwise it is copied to the primal's layout.
    """
    if state.forward_token is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if tensor._data.dtype.kind not in "fc":
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if tangent._data.dtype.kind not in "fc":
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    tangent_shape = tangent.shape
    if tuple(tangent_shape) != tuple(tensor.shape):
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent_shape)}.")
    dual = _view(tensor, "ViewBackward0")      # torch's dual is a view of the primal
    given = tangent if _same_layout(tensor, tangent) else None
    if not tangent._requires_grad:
        tangent = np.asarray(tangent._data, dtype=tensor._data.dtype)
    dual._tangent = (state.forward_token, tangent, given)
    return dual


def _same_layout(primal: Tensor, tangent: Tensor) -> bool:
    """Whether torch keeps the tangent object: the same strides (in elements) and no offset into its storage."""
    p, t = primal._data, tangent._data
    if [s // p.itemsize for s in p.strides] != [s // t.itemsize for s in t.strides]:
        return False
    return tangent._base is None or storage_start(tangent) == storage_start(tangent._base)


def storage_start(tensor: Tensor) -> int:
    return tensor._data.__array_interface__["data"][0]


def unpack_dual(tensor: Tensor, *, level=None) -> UnpackedDualTensor:
    """(primal, tangent) of a dual tensor; the tangent is None outside its level or if it has none."""
    tangent = None
    if tensor._base is not None and tensor._view_version != tensor._vc[0]:
        tensor._view.refresh(tensor)     # a view whose base changed in place: its tangent is re-read from the base's
    if tensor._tangent is not None and tensor._tangent[0] is state.forward_token and state.forward_token:
        tangent = tangent_of(tensor)
    return UnpackedDualTensor(_primal_view(tensor), tangent)


def _primal_view(tensor: Tensor) -> Tensor:
    """torch's primal: a view of the tensor (its grad_fn named Identity), the tensor itself without a tangent
    or gradient."""
    if tensor._tangent is None and not tensor.requires_grad:
        return tensor
    with _suspended():
        return _view(tensor, "Identity")


def _view(tensor: Tensor, name: str) -> Tensor:
    """A view sharing ``tensor``'s storage, recorded (as ``name``) when it requires grad."""
    if not tensor.requires_grad:
        return Tensor._from_array(tensor._data)
    view = getitem(tensor, Ellipsis)
    if view._grad_fn is not None:
        view._grad_fn.name_override = name
    return view


class _suspended:
    def __enter__(self):
        self.token = state.forward_token
        state.forward_token = None

    def __exit__(self, *exc):
        state.forward_token = self.token
