"""torch's legacy tensor types, as old tutorials use them: ``FloatTensor([1, 2])``, ``DoubleTensor(2, 3)``,
``isinstance(x, FloatTensor)``, ``x.type()`` (``'autodiff.FloatTensor'``) and ``x.type(DoubleTensor)``."""
from __future__ import annotations

import numbers

from . import creation, dtypes
from .ops.shape import to
from .tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "tensor_type"]


class _LegacyType(type):
    """The class of a legacy type: calling it makes a tensor of its dtype; isinstance checks the dtype."""

    def __call__(cls, *args):
        if not args:
            return creation.empty(0, dtype=cls.dtype)
        if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
            return creation.empty(*args, dtype=cls.dtype)          # FloatTensor(2, 3): sizes
        if len(args) > 1:
            raise TypeError(f"new() received an invalid combination of arguments")
        data = args[0]
        if isinstance(data, Tensor):
            return data.detach().to(cls.dtype)
        return creation.tensor(data, dtype=cls.dtype)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls):
        return f"<class 'autodiff.{cls.__name__}'>"


def _legacy(name, dtype):
    return _LegacyType(name, (), {"dtype": dtype, "__module__": "autodiff"})


FloatTensor = _legacy("FloatTensor", dtypes.float32)
DoubleTensor = _legacy("DoubleTensor", dtypes.float64)
LongTensor = _legacy("LongTensor", dtypes.int64)
IntTensor = _legacy("IntTensor", dtypes.int32)
BoolTensor = _legacy("BoolTensor", dtypes.bool)
_BY_NAME = {t.__name__: t for t in (FloatTensor, DoubleTensor, LongTensor, IntTensor, BoolTensor)}


def tensor_type(self, dtype=None, non_blocking=False, **kwargs):
    """``Tensor.type()``: the type's name without an argument; a copy in the given type with one (a legacy
    type, its name such as ``'torch.FloatTensor'`` or ``'autodiff.FloatTensor'``, or a dtype)."""
    if dtype is None:
        return f"autodiff.{dtypes.type_name(self._data.dtype)}Tensor"
    if isinstance(dtype, str):
        name = dtype.rpartition(".")[2]
        if name not in _BY_NAME:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _BY_NAME[name].dtype
    elif isinstance(dtype, _LegacyType):
        dtype = dtype.dtype
    return to(self, dtype)
