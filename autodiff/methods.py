"""Tensor methods and operators, each forwarding to the module-level function of the same name (as torch's do)."""
from __future__ import annotations

import numpy as np

from . import creation, dtypes
from .engine import tensor_backward
from .views import apply_inplace
from .ops import compound as C
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reductions as R
from .ops import shape as S
from .tensor import Tensor


def _reflected(func):
    return lambda self, other: func(other, self)


def _rtruediv(self, other):
    return E.mul(E.reciprocal(self), other)


def _rpow(self, other):
    return E.pow(other, self)


OPERATORS = {
    "__add__": E.add, "__radd__": lambda self, other: E.add(self, other),
    "__sub__": E.sub, "__rsub__": lambda self, other: E.rsub(self, other),
    "__mul__": E.mul, "__rmul__": lambda self, other: E.mul(self, other),
    "__truediv__": E.div, "__rtruediv__": _rtruediv,
    "__pow__": E.pow, "__rpow__": _rpow,
    "__matmul__": L.matmul, "__rmatmul__": _reflected(L.matmul),
    "__neg__": E.neg, "__pos__": lambda self: self, "__abs__": E.abs,
    "__eq__": E.eq, "__ne__": E.ne, "__gt__": E.gt, "__ge__": E.ge, "__lt__": E.lt, "__le__": E.le,
    "__getitem__": S.getitem, "__setitem__": S.setitem,
    "__and__": E.logical_and, "__rand__": lambda self, other: E.logical_and(other, self),
    "__or__": E.logical_or, "__ror__": lambda self, other: E.logical_or(other, self),
    "__xor__": lambda self, other: E.ne(self, other) if self.dtype.is_floating_point is False else _bitwise_error(),
    "__invert__": E.logical_not,
}


def _bitwise_error():
    raise RuntimeError("bitwise operations are only supported for integral and boolean tensors")

METHODS = {
    "add": E.add, "sub": E.sub, "subtract": E.sub, "mul": E.mul, "multiply": E.mul, "div": E.div,
    "divide": E.div, "true_divide": E.div, "pow": E.pow, "neg": E.neg, "negative": E.neg, "abs": E.abs,
    "exp": E.exp, "log": E.log, "sqrt": E.sqrt, "sin": E.sin, "cos": E.cos, "tan": E.tan, "tanh": E.tanh,
    "sigmoid": E.sigmoid, "relu": E.relu, "sign": E.sign, "reciprocal": E.reciprocal, "square": E.square,
    "clamp": E.clamp, "clip": E.clamp, "maximum": E.maximum, "minimum": E.minimum,
    "eq": E.eq, "ne": E.ne, "gt": E.gt, "ge": E.ge, "lt": E.lt, "le": E.le,
    "logical_and": E.logical_and, "logical_or": E.logical_or, "logical_not": E.logical_not,
    "sum": R.sum, "mean": R.mean, "prod": R.prod, "max": R.max, "min": R.min, "amax": R.amax, "amin": R.amin,
    "norm": R.norm, "logsumexp": R.logsumexp, "softmax": R.softmax, "log_softmax": R.log_softmax,
    "var": R.var, "std": R.std,
    "dot": L.dot, "matmul": L.matmul, "mm": L.mm, "mv": L.mv, "outer": L.outer,
    "reshape": S.reshape, "view": S.view, "transpose": S.transpose, "t": S.t, "permute": S.permute,
    "squeeze": S.squeeze, "unsqueeze": S.unsqueeze, "flatten": S.flatten, "expand": S.expand,
    "clone": S.clone, "to": S.to, "addcmul": C.addcmul, "addcdiv": C.addcdiv, "lerp": C.lerp,
}


def _where_method(self, condition, other):
    return E.where(condition, self, other)


def _float(self):
    return S.to(self, dtypes.float32)


def _double(self):
    return S.to(self, dtypes.float64)


def _long(self):
    return S.to(self, dtypes.int64)


def _view_as(self, other):
    return S.reshape(self, other.shape)


def _expand_as(self, other):
    return S.expand(self, other.shape)


def _type_as(self, other):
    return S.to(self, other.dtype)


def _to(self, *args, **kwargs):
    dtype = kwargs.get("dtype")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif not isinstance(a, str) and a is not None:
            dtype = a
    return self if dtype is None else S.to(self, dtype)


EXTRA = {"where": _where_method, "float": _float, "double": _double, "long": _long, "view_as": _view_as,
         "expand_as": _expand_as, "type_as": _type_as, "to": _to,
         "T": property(lambda self: S.permute(self, tuple(reversed(range(self.ndim))))),
         "mT": property(lambda self: S.transpose(self, -2, -1)),
         "cpu": lambda self: self, "contiguous": lambda self, memory_format=None: self}

# -- in-place --------------------------------------------------------------------------------------------------------


def _add_(self, other, *, alpha=1):
    return apply_inplace(self, E.ADD, other, alpha=alpha) if alpha != 1 else apply_inplace(self, E.ADD, other)


def _sub_(self, other, *, alpha=1):
    return apply_inplace(self, E.SUB, other, alpha=alpha) if alpha != 1 else apply_inplace(self, E.SUB, other)


def _pow_(self, exponent):
    op = E.POW_TENSORS if isinstance(exponent, Tensor) else E.POW_SCALAR_EXPONENT
    return apply_inplace(self, op, exponent)


def _clamp_(self, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return apply_inplace(self, E.CLAMP, min=getattr(min, "_data", min), max=getattr(max, "_data", max))


def _unary_(op):
    return lambda self: apply_inplace(self, op)


INPLACE = {
    "add_": _add_, "sub_": _sub_,
    "mul_": lambda self, other: apply_inplace(self, E.MUL, other),
    "div_": lambda self, other: apply_inplace(self, E.DIV, other),
    "pow_": _pow_, "clamp_": _clamp_, "clip_": _clamp_,
    "neg_": _unary_(E.NEG), "abs_": _unary_(E.ABS), "exp_": _unary_(E.EXP), "log_": _unary_(E.LOG),
    "sqrt_": _unary_(E.SQRT), "sign_": _unary_(E.SIGN), "sin_": _unary_(E.SIN), "cos_": _unary_(E.COS),
    "tanh_": _unary_(E.TANH), "sigmoid_": _unary_(E.SIGMOID), "relu_": _unary_(E.RELU),
    "reciprocal_": _unary_(E.RECIPROCAL),
    "zero_": lambda self: apply_inplace(self, C.ZERO),
    "fill_": lambda self, value: apply_inplace(self, C.FILL, getattr(value, "_data", value)),
    "copy_": lambda self, src, non_blocking=False: apply_inplace(self, C.COPY, src),
    "addcmul_": lambda self, tensor1, tensor2, *, value=1: apply_inplace(self, C.ADDCMUL, tensor1, tensor2,
                                                                          value=value),
    "addcdiv_": lambda self, tensor1, tensor2, *, value=1: apply_inplace(self, C.ADDCDIV, tensor1, tensor2,
                                                                          value=value),
    "lerp_": lambda self, end, weight: apply_inplace(self, C.LERP_TENSOR if isinstance(weight, Tensor) else C.LERP,
                                                     end, weight),
    "maximum_": lambda self, other: apply_inplace(self, E.MAXIMUM, other),
}


def _detached(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_detached(d) for d in data]
    return data


def _legacy_new(cls, *args):
    """torch's legacy constructor: ``Tensor(data)`` copies data as the default float type (detached),
    ``Tensor(*sizes)`` allocates; prefer :func:`autodiff.tensor`."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        data = args[0]
        if isinstance(data, Tensor):
            return data.detach().to(dtypes.get_default_dtype())
        return creation.tensor(_detached(data), dtype=dtypes.get_default_dtype())
    return creation.empty(*args)


def install() -> None:
    for table in (OPERATORS, METHODS, EXTRA, INPLACE):
        for name, func in table.items():
            setattr(Tensor, name, func)
    Tensor.__iadd__ = lambda self, other: _add_(self, other)
    Tensor.__isub__ = lambda self, other: _sub_(self, other)
    Tensor.__imul__ = INPLACE["mul_"]
    Tensor.__itruediv__ = INPLACE["div_"]
    Tensor.__new__ = staticmethod(_legacy_new)
    Tensor.backward = tensor_backward


install()
