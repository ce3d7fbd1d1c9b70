"""Elementwise ops: arithmetic, powers, transcendental functions (clamping and selection are in ``selection.py``,
comparisons in ``comparison.py``).

Each VJP rule is ``g * (partial derivative)`` and each JVP ``t * (the same partial)``; broadcasting is undone by
the engine. Rules use autodiff's functions and operators, so they differentiate again under create_graph.
"""
from __future__ import annotations

import numpy as np

from ..dispatch import apply
from ..dtypes import get_default_dtype, result_type
from ..tensor import Tensor
from ..inplace import apply_inplace
from ._helpers import FAST_OPERANDS, as_operand, broadcast_error, check_operand, fix_dtype, floating, quiet, times
from .comparison import logical_and
from .declare import by_input, declare, defop, floating_forward, unary
from .selection import where

_ndarray = np.ndarray


# -- arithmetic ------------------------------------------------------------------------------------------------

def _add_forward(x, y, alpha=1):
    try:
        return fix_dtype(np.add(x, y) if alpha == 1 else np.add(x, np.multiply(y, alpha)), x, y)
    except ValueError:
        raise broadcast_error(x, y) from None


_BOOL = np.dtype(bool)


def _is_bool(x):
    return type(x) is bool or (type(x) is _ndarray and x.dtype is _BOOL)


def _refuse_bool_subtraction(x, y):
    """torch's error for ``-`` with a bool operand (numpy would compute ``1 - mask`` as integers)."""
    if _is_bool(x) and _is_bool(y):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                       "invert a mask, use the `~` or `logical_not()` operator instead.")


def _sub_forward(x, y, alpha=1):
    # inline (no call) on this hot path: numpy's bool dtype is a singleton
    if getattr(x, "dtype", None) is _BOOL or getattr(y, "dtype", None) is _BOOL or type(x) is bool or type(y) is bool:
        _refuse_bool_subtraction(x, y)
    try:
        return fix_dtype(np.subtract(x, y) if alpha == 1 else np.subtract(x, np.multiply(y, alpha)), x, y)
    except ValueError:
        raise broadcast_error(x, y) from None


def _rsub_forward(x, other):
    if getattr(x, "dtype", None) is _BOOL or getattr(other, "dtype", None) is _BOOL or type(other) is bool:
        _refuse_bool_subtraction(x, other)
    return fix_dtype(np.subtract(other, x), x, other)


def _neg_forward(x):
    if x.dtype is _BOOL:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return np.negative(x)


def _mul_forward(x, y):
    try:
        return fix_dtype(np.multiply(x, y), x, y)
    except ValueError:
        raise broadcast_error(x, y) from None


def _scaled(g, alpha):
    return g if alpha == 1 else g * alpha


ADD = defop("AddBackward0", _add_forward,
            **by_input(lambda i, g, ans, x, y, alpha=1: g if i == 0 else _scaled(g, alpha), 2), saves=((), ()))
SUB = defop("SubBackward0", _sub_forward,
            **by_input(lambda i, g, ans, x, y, alpha=1: g if i == 0 else -_scaled(g, alpha), 2), saves=((), ()))
# `other - x` with a scalar `other`: torch records it as RsubBackward1.
RSUB = defop("RsubBackward1", _rsub_forward,
             (lambda g, ans, x, other: -g, None),
             (lambda t, ans, x, other: -t, None),
             saves=((), ()))
MUL = defop("MulBackward0", _mul_forward,
            (lambda g, ans, x, y: times(g, y), lambda g, ans, x, y: times(g, x)),
            (lambda t, ans, x, y: t * y, lambda t, ans, x, y: t * x),
            saves=((1,), (0,)))


def _div_forward(x, y):
    try:
        out = np.true_divide(x, y)
    except ValueError:
        raise broadcast_error(x, y) from None
    if out.dtype.kind == "f" and any(isinstance(a, np.ndarray) and a.dtype == out.dtype for a in (x, y)):
        return fix_dtype(out, x, y)
    # true division of integers gives the default floating type in torch (float64 in numpy)
    arrays = [a for a in (x, y) if isinstance(a, np.ndarray)]
    expected = result_type(arrays, [a for a in (x, y) if not isinstance(a, np.ndarray)])
    if expected.kind != "f":
        expected = get_default_dtype().numpy_dtype
    return out.astype(expected, copy=False)


DIV = defop("DivBackward0", quiet(_div_forward),
            (lambda g, ans, x, y: g / y, lambda g, ans, x, y: -g * x / (y * y)),
            (lambda t, ans, x, y: t / y, lambda t, ans, x, y: -t * x / (y * y)),
            saves=((1,), (0, 1)))
reciprocal = declare("reciprocal", unary("ReciprocalBackward0", quiet(lambda x: np.reciprocal(
    x if x.dtype.kind == "f" else x.astype(get_default_dtype().numpy_dtype))), lambda ans, x: -(ans * ans),
    reads=(-1,)), inplace=True)
neg = declare("neg", defop("NegBackward0", _neg_forward, (lambda g, ans, x: -g,), (lambda t, ans, x: -t,),
                           saves=((),)), aliases=("negative",), inplace=True)


def _pow_scalar_exponent(x, y):
    """``x ** y`` for a floating array and a number, computed as torch's kernel does (bit for bit)."""
    if y == 2:
        return x * x
    if y == 3:
        return x * x * x
    if y == -2:
        return 1 / (x * x)
    if y == -1:
        return np.reciprocal(x)
    if y == 0.5:
        return np.sqrt(x)
    if y == 1:
        return x.copy()
    if y == 0:
        return np.ones_like(x)
    if x.dtype == np.float32:        # torch evaluates std::pow(float, double) in double, then rounds
        return np.power(x.astype(np.float64), y).astype(np.float32)
    return np.power(x, y)


def _pow_forward(x, y):
    if type(x) is _ndarray and x.dtype.kind == "f" and not isinstance(y, (_ndarray, complex)):
        if y == 2:                   # the hot x**2 and x**3 skip np.errstate (a microsecond)
            return x * x
        if y == 3:
            return x * x * x
        with np.errstate(all="ignore"):
            return _pow_scalar_exponent(x, y)
    if (type(x) is _ndarray and x.dtype.kind in "iub" and not isinstance(y, _ndarray) and float(y) < 0
            and float(y) == int(y)):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    try:
        with np.errstate(all="ignore"):
            return fix_dtype(np.power(x, y), x, y)
    except ValueError:
        raise broadcast_error(x, y) from None


def _is_number(v):
    return not isinstance(v, (np.ndarray, Tensor))


def _pow_base_grad(g, ans, x, y):
    # torch: grad * (y * x ** (y - 1)), and 0 where the exponent is 0
    if _is_number(y):
        if y == 2:                   # x ** 1 is x, and x * x is torch's x ** 2: the same numbers, fewer calls
            return times(g, 2 * x, fresh=True)
        if y == 3:
            return times(g, 3 * (x * x), fresh=True)
        return g * 0 if y == 0 else times(g, y * x ** (y - 1), fresh=True)
    return where(y == 0, 0.0, g * (y * x ** (y - 1)))


def _pow_exponent_grad(g, ans, x, y):
    # d(x**y)/dy = x**y * log(x); torch defines it as 0 where x == 0 and y >= 0.
    if _is_number(x):                # a Python number: log taken in double, then used as a weak scalar
        log_x = float(np.log(x)) if x > 0 else float("nan") if x < 0 else float("-inf")
        return g * where(y >= 0, 0.0, ans * log_x) if x == 0 else g * (ans * log_x)
    return where(logical_and(x == 0, y >= 0), 0.0, g * (ans * log(x)))


_pow_rules = dict(vjps=(_pow_base_grad, _pow_exponent_grad),
                  jvps=(_pow_base_grad, _pow_exponent_grad))
POW_SCALAR_EXPONENT = defop("PowBackward0", _pow_forward, **_pow_rules, saves=((0, 1), (-1, 0, 1)))
POW_TENSORS = defop("PowBackward1", _pow_forward, **_pow_rules, saves=((0, 1), (-1, 0, 1)))
POW_SCALAR_BASE = defop("PowBackward2", _pow_forward, **_pow_rules, saves=((0, 1), (-1, 0, 1)))

# -- unary functions: one entry each (name, grad_fn name, forward, partial derivative, what it reads) --------------

abs = declare("abs", unary("AbsBackward0", np.abs, lambda ans, x: sign(x), reads=(0,)), inplace=True)
exp = declare("exp", unary("ExpBackward0", floating_forward(quiet(np.exp)), lambda ans, x: ans, reads=(-1,)),
              inplace=True)
log = declare("log", unary("LogBackward0", floating_forward(quiet(np.log)), lambda ans, x: 1 / x, reads=(0,)),
              inplace=True)
sqrt = declare("sqrt", unary("SqrtBackward0", floating_forward(quiet(np.sqrt)),
                             quiet(lambda ans, x: 0.5 / ans), reads=(-1,)), inplace=True)      # inf at 0
sin = declare("sin", unary("SinBackward0", floating_forward(np.sin), lambda ans, x: cos(x), reads=(0,)),
              inplace=True)
cos = declare("cos", unary("CosBackward0", floating_forward(np.cos), lambda ans, x: -sin(x), reads=(0,)),
              inplace=True)
tan = declare("tan", unary("TanBackward0", floating_forward(np.tan), lambda ans, x: 1 + ans * ans, reads=(-1,)),
              inplace=True)
sinh = declare("sinh", unary("SinhBackward0", floating_forward(quiet(np.sinh)), lambda ans, x: cosh(x), reads=(0,)),
               inplace=True)
cosh = declare("cosh", unary("CoshBackward0", floating_forward(quiet(np.cosh)), lambda ans, x: sinh(x), reads=(0,)),
               inplace=True)
tanh = declare("tanh", unary("TanhBackward0", floating_forward(np.tanh), lambda ans, x: 1 - ans * ans,
                             reads=(-1,), grad_name="TanhBackwardBackward0"), inplace=True)


def _sigmoid_forward(x):
    # Stable for large |x|: never exponentiates a large positive number.
    x = floating(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


sigmoid = declare("sigmoid", unary("SigmoidBackward0", _sigmoid_forward, lambda ans, x: ans * (1 - ans),
                                   reads=(-1,), grad_name="SigmoidBackwardBackward0"), inplace=True)
relu = declare("relu", unary("ReluBackward0", lambda x: np.maximum(x, 0).astype(x.dtype, copy=False),
                             lambda ans, x: ans > 0, reads=(-1,), grad_name="ThresholdBackwardBackward0"), inplace=True)
sign = declare("sign", defop("SignBackward0", np.sign, (lambda g, ans, x: g * 0,), (lambda t, ans, x: t * 0,),
                             saves=((),)), inplace=True)       # zero everywhere, reading no value


# -- the functions that choose among overloads, and their in-place variants ------------------------------------------

def _add_(self, other, *, alpha=1):
    return apply_inplace(self, ADD, other, alpha=alpha) if alpha != 1 else apply_inplace(self, ADD, other)


@declare("add", inplace=_add_)
def add(input, other, *, alpha=1):
    if type(other) not in FAST_OPERANDS:     # tensors and floats skip the call
        check_operand(other, "+")
    return apply(ADD, input, other, alpha=alpha) if alpha != 1 else apply(ADD, input, other)


def _sub_(self, other, *, alpha=1):
    return apply_inplace(self, SUB, other, alpha=alpha) if alpha != 1 else apply_inplace(self, SUB, other)


@declare("sub", aliases=("subtract",), inplace=_sub_)
def sub(input, other, *, alpha=1):
    if type(other) not in FAST_OPERANDS:     # tensors and floats skip the call
        check_operand(other, "-")
    return apply(SUB, input, other, alpha=alpha) if alpha != 1 else apply(SUB, input, other)


@declare("rsub", method=False)
def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    if alpha != 1:
        input = input * alpha
    if isinstance(other, Tensor):
        return sub(other, input)
    check_operand(other, "-", reflected=True)
    return apply(RSUB, input, other)


@declare("mul", aliases=("multiply",), inplace=MUL)
def mul(input, other):
    if type(other) not in FAST_OPERANDS:     # tensors and floats skip the call
        check_operand(other, "*")
    return apply(MUL, input, other)


@declare("div", aliases=("divide", "true_divide"), inplace=DIV)
def div(input, other, *, rounding_mode=None):
    if type(other) not in FAST_OPERANDS:     # tensors and floats skip the call
        check_operand(other, "/")
    if rounding_mode is None:
        return apply(DIV, input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    a, b = _data(input), _data(as_operand(other))
    with np.errstate(all="ignore"):
        rounded = (np.trunc if rounding_mode == "trunc" else np.floor)(np.true_divide(a, b))
    arrays = [v for v in (a, b) if isinstance(v, np.ndarray)]
    rounded = np.asarray(rounded).astype(result_type(arrays, [v for v in (a, b) if not isinstance(v, np.ndarray)]))
    return Tensor._from_array(rounded)


def _pow_(self, exponent):
    return apply_inplace(self, POW_TENSORS if isinstance(exponent, Tensor) else POW_SCALAR_EXPONENT, exponent)


@declare("pow", inplace=_pow_)
def pow(input, exponent):
    if isinstance(input, Tensor) and isinstance(exponent, Tensor):
        return apply(POW_TENSORS, input, exponent)
    if isinstance(exponent, Tensor):
        check_operand(input, "** or pow()", reflected=True)
        return apply(POW_SCALAR_BASE, input, exponent)
    check_operand(exponent, "** or pow()")
    return apply(POW_SCALAR_EXPONENT, input, exponent)


@declare("square")
def square(input):
    return apply(POW_SCALAR_EXPONENT, input, 2)


def _data(value):
    return value._data if isinstance(value, Tensor) else value

