"""Comparisons and logical functions: not differentiable, bool results, as torch's.

A comparison with a tensor gives a tensor; with an object that is not a number or an array it returns
NotImplemented, so that ``tensor == "a"`` falls back to Python's identity comparison as in torch.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from .declare import declare


def _data(value):
    return value._data if isinstance(value, Tensor) else value


def _compare(ufunc):
    def compare(input, other):
        if not isinstance(other, (Tensor, np.ndarray, numbers.Number, np.generic)):
            return NotImplemented       # as torch: `tensor == "a"` falls back to Python's identity comparison
        a, b = _data(input), _data(other)
        out = ufunc(a, b)
        if isinstance(input, Tensor) or isinstance(other, Tensor):
            return Tensor._from_array(np.asarray(out))
        return out
    compare.__name__ = ufunc.__name__
    return compare


eq = declare("eq", _compare(np.equal))
ne = declare("ne", _compare(np.not_equal))
gt = declare("gt", _compare(np.greater))
ge = declare("ge", _compare(np.greater_equal))
lt = declare("lt", _compare(np.less))
le = declare("le", _compare(np.less_equal))
logical_and = declare("logical_and", _compare(np.logical_and))
logical_or = declare("logical_or", _compare(np.logical_or))


@declare("logical_not")
def logical_not(input):
    out = np.logical_not(_data(input))
    return Tensor._from_array(np.asarray(out)) if isinstance(input, Tensor) else out


@declare("isclose")
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise (infinities equal to themselves)."""
    a, b = _data(input), _data(other)
    if a.dtype != b.dtype:
        raise RuntimeError(f"{_type(a)} did not match {_type(b)}")
    with np.errstate(invalid="ignore"):
        out = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return Tensor._from_array(np.asarray(out))


@declare("allclose")
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def _type(array):
    return dtypes.type_name(array.dtype)
