"""Compound elementwise ops optimizers are written with: addcmul, addcdiv, lerp; and fill/copy for in-place use."""
from __future__ import annotations

import numpy as np

from ..dispatch import apply
from ..tensor import Tensor
from ..inplace import apply_inplace
from ._helpers import broadcast_error, fix_dtype
from .declare import by_input, declare, defop


def _addcmul_rule(i, g, ans, x, a, b, value=1):
    if i == 0:
        return g
    return g * (value * (b if i == 1 else a))


def _addcdiv_rule(i, g, ans, x, a, b, value=1):
    if i == 0:
        return g
    if i == 1:
        return g * value / b
    return -g * value * a / (b * b)


def _lerp_rule(i, g, ans, x, end, weight):
    if i == 0:
        return g * (1 - weight)
    return g * weight if i == 1 else g * (end - x)


ADDCMUL = defop("AddcmulBackward0", lambda x, a, b, value=1: fix_dtype(x + value * (a * b), x, a),
                **by_input(_addcmul_rule, 3), saves=((), (2,), (1,)))
ADDCDIV = defop("AddcdivBackward0", lambda x, a, b, value=1: fix_dtype(x + value * (a / b), x, a),
                **by_input(_addcdiv_rule, 3), saves=((), (2,), (1, 2)))


def _lerp_forward(x, end, weight):
    return fix_dtype(x + weight * (end - x), x, end)


LERP = defop("LerpBackward0", _lerp_forward, **by_input(_lerp_rule, 3), saves=((2,), (2,), (0, 1)))  # number weight
LERP_TENSOR = defop("LerpBackward1", _lerp_forward, **by_input(_lerp_rule, 3), saves=((2,), (2,), (0, 1)))
# fill_ / zero_ / copy_: the old value of the tensor gets no gradient; copy_'s source gets all of it.
FILL = defop("FillBackward2", lambda x, value: np.full_like(x, value),
             **by_input(lambda i, g, ans, x, value: g * 0 if i == 0 else None, 2), saves=((), ()), fills=True)
ZERO = defop("ZeroBackward0", lambda x: np.zeros_like(x), **by_input(lambda i, g, ans, x: g * 0, 1),
             saves=((),), fills=True)


def _copy_forward(x, src):
    src = np.asarray(src, dtype=x.dtype)
    try:
        shape = np.broadcast_shapes(x.shape, src.shape)
    except ValueError:
        raise broadcast_error(x, src) from None
    if shape != x.shape:
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape {list(shape)}")
    return np.broadcast_to(src, x.shape)


COPY = defop("CopyBackwards", _copy_forward, **by_input(lambda i, g, ans, x, src: g * 0 if i == 0 else g, 2),
             saves=((), ()))


def _addcmul_(self, tensor1, tensor2, *, value=1):
    return apply_inplace(self, ADDCMUL, tensor1, tensor2, value=value)


@declare("addcmul", inplace=_addcmul_)
def addcmul(input, tensor1, tensor2, *, value=1):
    return apply(ADDCMUL, input, tensor1, tensor2, value=value)


def _addcdiv_(self, tensor1, tensor2, *, value=1):
    return apply_inplace(self, ADDCDIV, tensor1, tensor2, value=value)


@declare("addcdiv", inplace=_addcdiv_)
def addcdiv(input, tensor1, tensor2, *, value=1):
    return apply(ADDCDIV, input, tensor1, tensor2, value=value)


def _lerp_(self, end, weight):
    return apply_inplace(self, LERP_TENSOR if isinstance(weight, Tensor) else LERP, end, weight)


@declare("lerp", inplace=_lerp_)
def lerp(input, end, weight):
    return apply(LERP_TENSOR if isinstance(weight, Tensor) else LERP, input, end, weight)


# the in-place-only methods: the tensor's old value gets no gradient
@declare("zero_", function=False)
def zero_(self):
    return apply_inplace(self, ZERO)


@declare("fill_", function=False)
def fill_(self, value):
    return apply_inplace(self, FILL, getattr(value, "_data", value))


@declare("copy_", function=False)
def copy_(self, src, non_blocking=False):
    return apply_inplace(self, COPY, src)
