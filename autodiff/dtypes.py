"""Data types, named and promoted as torch does.

A dtype is a small immutable object wrapping a numpy dtype; the four that the engine supports by name are
``float32`` (the default floating type), ``float64``, ``int64`` (the default integer type) and ``bool``.
Numpy dtypes (and numpy scalar types) are accepted wherever a dtype is asked for.
"""
from __future__ import annotations

import builtins

import numpy as np

__all__ = ["dtype", "float32", "float64", "int64", "bool", "get_default_dtype", "set_default_dtype",
           "to_numpy", "from_numpy", "result_type"]


class dtype:
    __module__ = "autodiff"     # torch.dtype.__module__ is "torch"
    __slots__ = ("name", "numpy_dtype", "is_floating_point", "itemsize")

    def __init__(self, name: str, numpy_dtype) -> None:
        self.name = name
        self.numpy_dtype = np.dtype(numpy_dtype)
        self.is_floating_point = self.numpy_dtype.kind == "f"
        self.itemsize = self.numpy_dtype.itemsize

    def __repr__(self) -> str:
        return f"autodiff.{self.name}"

    def __reduce__(self):
        return (from_numpy, (self.numpy_dtype,))


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
bool = dtype("bool", np.bool_)  # noqa: A001 - torch's name

_BY_NUMPY = {d.numpy_dtype: d for d in (float16, float32, float64, int32, int64, bool)}
_default_float = float32


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d) -> None:
    global _default_float
    d = as_dtype(d)
    if d not in (float32, float64):
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def from_numpy(np_dtype) -> dtype:
    """The autodiff dtype of a numpy dtype."""
    try:
        return _BY_NUMPY[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
                        "float64, float32, float16, int64, int32, and bool.") from None


def as_dtype(d) -> dtype:
    """Accept an autodiff dtype, a numpy dtype or a numpy scalar type."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return _default_float
    if d is int:
        return int64
    if d is builtins.bool:
        return bool
    return from_numpy(d)


def to_numpy(d) -> np.dtype:
    return as_dtype(d).numpy_dtype


# -- promotion ---------------------------------------------------------------------------------------------------
# torch promotes by category (bool < integer < floating). Within the highest category present, dimensioned
# tensors win over zero-dimensional ones, which win over Python scalars; a Python float meeting integer tensors
# gives the default floating type.

_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2}


def result_type(arrays, scalars) -> np.dtype:
    """torch's result dtype for ndarray operands ``arrays`` and Python scalar operands ``scalars``."""
    dims = [a.dtype for a in arrays if a.ndim]
    zero = [a.dtype for a in arrays if not a.ndim]
    best = -1
    for group in (dims, zero):
        for dt in group:
            best = max(best, _CATEGORY[dt.kind])
    scalar_cat = -1
    for s in scalars:
        scalar_cat = max(scalar_cat, 0 if isinstance(s, (np.bool_, builtins.bool)) else
                         2 if isinstance(s, (float, np.floating)) else 1)
    if scalar_cat > best:
        if scalar_cat == 2:
            return _default_float.numpy_dtype
        if scalar_cat == 1:
            return np.dtype(np.int64)
        return np.dtype(np.bool_)
    for group in (dims, zero):
        members = [dt for dt in group if _CATEGORY[dt.kind] == best]
        if members:
            return np.result_type(*members)
    return np.dtype(np.bool_)


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool", "int32": "Int",
               "float16": "Half"}


def type_name(np_dtype) -> str:
    """The name torch's messages give a dtype's tensor type: ``Float`` for float32 (as in ``FloatTensor``)."""
    return _TYPE_NAMES.get(np.dtype(np_dtype).name, str(np_dtype))
