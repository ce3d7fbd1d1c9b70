"""Clamping and selection: clamp (by numbers or by tensors), maximum, minimum, where.

The gradient goes to whichever input is the result: a mask for clamp and where, split evenly between equal inputs
for maximum and minimum (as torch does).
"""
from __future__ import annotations

import numpy as np

from ..dispatch import apply
from ..inplace import apply_inplace
from ..tensor import Tensor
from ._helpers import as_operand, broadcast_error, fix_dtype
from .comparison import logical_and, logical_or
from .declare import by_input, declare, defop


def _clamp_forward(x, min=None, max=None):
    out = x
    if min is not None:
        out = fix_dtype(np.maximum(out, min), x, min)
    if max is not None:
        out = fix_dtype(np.minimum(out, max), out, max)
    return out if out is not x else x.copy()


def _clamp_mask(x, min, max):
    mask = None
    if min is not None:
        mask = x >= min
    if max is not None:
        mask = (x <= max) if mask is None else logical_and(mask, x <= max)
    return mask


CLAMP = defop("ClampBackward1", _clamp_forward,
              (lambda g, ans, x, min=None, max=None: g * _clamp_mask(x, min, max),),
              (lambda t, ans, x, min=None, max=None: t * _clamp_mask(x, min, max),),
              saves=((0,),))


def _below_min(x, min, max):
    """Where clamp's result is ``min`` (min wins unless it exceeds max, as clamp = minimum(maximum(x, min), max))."""
    below = x < min
    return below if max is None else logical_and(below, min <= max)


def _above_max(x, min, max):
    above = x > max
    return above if min is None else logical_or(above, min > max)


# clamp with tensor bounds: the bounds get the gradient where they are the result
def _clamp_tensor_rule(i, g, ans, x, min, max):
    return g * (_clamp_mask, _below_min, _above_max)[i](x, min, max)


CLAMP_TENSOR = defop("ClampBackward0", lambda x, min, max: _clamp_forward(x, min, max),
                     **by_input(_clamp_tensor_rule, 3), saves=((0, 1, 2), (0, 1, 2), (0, 1, 2)))


def _max_min_rule(take_first):
    # torch splits the gradient evenly where the two inputs are equal.
    def rule(g, ans, x, y):
        wins = (x > y) if take_first else (y > x)
        return g * wins + g * (x == y) * 0.5
    return rule


maximum = declare("maximum", defop(
    "MaximumBackward0", lambda x, y: fix_dtype(np.maximum(x, y), x, y),
    (_max_min_rule(True), lambda g, ans, x, y: _max_min_rule(True)(g, ans, y, x)),
    (_max_min_rule(True), lambda t, ans, x, y: _max_min_rule(True)(t, ans, y, x)),
    saves=((0, 1), (0, 1))), inplace=True)
minimum = declare("minimum", defop(
    "MinimumBackward0", lambda x, y: fix_dtype(np.minimum(x, y), x, y),
    (_max_min_rule(False), lambda g, ans, x, y: _max_min_rule(False)(g, ans, y, x)),
    (_max_min_rule(False), lambda t, ans, x, y: _max_min_rule(False)(t, ans, y, x)),
    saves=((0, 1), (0, 1))))


def _where_forward(condition, x, y):
    try:
        return fix_dtype(np.where(condition, x, y), x, y)
    except ValueError:
        raise broadcast_error(condition, x, y) from None


def _where_rule(i, g, ans, condition, x, y):
    if i == 0:
        return None                      # the condition is not differentiable
    return where(condition, g, 0.0) if i == 1 else where(condition, 0.0, g)


WHERE = defop("WhereBackward0", _where_forward, **by_input(_where_rule, 3), saves=((), (0,), (0,)))


def _clamp_(self, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return apply_inplace(self, CLAMP, min=getattr(min, "_data", min), max=getattr(max, "_data", max))


@declare("clamp", aliases=("clip",), inplace=_clamp_)
def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return apply(CLAMP_TENSOR, input, min, max)
    return apply(CLAMP, input, min=min, max=max)


@declare("where", method=False)      # Tensor.where(condition, other) is bound in autodiff.methods
def where(condition, input, other):
    return apply(WHERE, condition, as_operand(input), as_operand(other))
