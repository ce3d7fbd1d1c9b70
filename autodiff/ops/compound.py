"""Compound elementwise ops optimizers are written with: addcmul, addcdiv, lerp; and fill/copy for in-place use."""
from __future__ import annotations

import numpy as np

from ..dispatch import apply
from ..tensor import Tensor
from ..views import apply_inplace
from ._helpers import broadcast_error, fix_dtype
from .declare import declare, defop



ADDCMUL = defop("AddcmulBackward0",
                lambda x, a, b, value=1: fix_dtype(x + value * (a * b), x, a),
                (lambda g, ans, x, a, b, value=1: g,
                 lambda g, ans, x, a, b, value=1: g * (value * b),
                 lambda g, ans, x, a, b, value=1: g * (value * a)),
                (lambda t, ans, x, a, b, value=1: t,
                 lambda t, ans, x, a, b, value=1: t * (value * b),
                 lambda t, ans, x, a, b, value=1: t * (value * a)),
                saves=((), (2,), (1,)))
ADDCDIV = defop("AddcdivBackward0",
                lambda x, a, b, value=1: fix_dtype(x + value * (a / b), x, a),
                (lambda g, ans, x, a, b, value=1: g,
                 lambda g, ans, x, a, b, value=1: g * value / b,
                 lambda g, ans, x, a, b, value=1: -g * value * a / (b * b)),
                (lambda t, ans, x, a, b, value=1: t,
                 lambda t, ans, x, a, b, value=1: t * value / b,
                 lambda t, ans, x, a, b, value=1: -t * value * a / (b * b)),
                saves=((), (2,), (1, 2)))
_lerp_rules = dict(
    forward=lambda x, end, weight: fix_dtype(x + weight * (end - x), x, end),
    vjps=(lambda g, ans, x, end, weight: g * (1 - weight),
          lambda g, ans, x, end, weight: g * weight,
          lambda g, ans, x, end, weight: g * (end - x)),
    jvps=(lambda t, ans, x, end, weight: t * (1 - weight),
          lambda t, ans, x, end, weight: t * weight,
          lambda t, ans, x, end, weight: t * (end - x)),
    saves=((2,), (2,), (0, 1)))
LERP = defop("LerpBackward0", **_lerp_rules)           # a number as the weight
LERP_TENSOR = defop("LerpBackward1", **_lerp_rules)    # a tensor as the weight
# fill_ / zero_ / copy_: the old value of the tensor gets no gradient; copy_'s source gets all of it.
FILL = defop("FillBackward2", lambda x, value: np.full_like(x, value),
             (lambda g, ans, x, value: g * 0, None), (lambda t, ans, x, value: t * 0, None), saves=((), ()),
             fills=True)
ZERO = defop("ZeroBackward0", lambda x: np.zeros_like(x), (lambda g, ans, x: g * 0,), (lambda t, ans, x: t * 0,),
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


COPY = defop("CopyBackwards", _copy_forward,
             (lambda g, ans, x, src: g * 0, lambda g, ans, x, src: g),
             (lambda t, ans, x, src: t * 0, lambda t, ans, x, src: t), saves=((), ()))


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
