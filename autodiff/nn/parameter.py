"""``nn.Parameter``: a tensor a Module registers as a parameter.

The engine's hot paths test ``type(x) is Tensor``, so a parameter is a Tensor (not a subclass) marked as one:
``Parameter(data)`` shares ``data``'s storage, requires grad, prints as ``Parameter containing:`` and passes
``isinstance(p, nn.Parameter)``; what is computed from it is an ordinary tensor, as in torch.
"""
from __future__ import annotations

from ..creation import empty
from ..tensor import Tensor

__all__ = ["Parameter"]


class _ParameterMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and getattr(obj, "_param", False)


class Parameter(metaclass=_ParameterMeta):
    """``Parameter(data=None, requires_grad=True)``."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, not {type(data).__name__}")
        out = data.detach()
        out.requires_grad = requires_grad
        out._param = True
        return out
