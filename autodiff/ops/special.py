"""More elementwise functions: inverse trigonometric and hyperbolic functions, log1p, expm1, log2, log10, erf,
atan2, and the running sum cumsum.

Declared as ``elementwise.py`` declares sinh: each partial derivative is written with autodiff's functions, so it
differentiates again under create_graph.
"""
from __future__ import annotations

import math

import numpy as np

from ..dispatch import apply
from ._helpers import broadcast_error, fix_dtype, floating, normalize_dims, quiet
from .declare import by_input, declare, defop, floating_forward, unary
from .elementwise import exp, sqrt
from .reductions import sum

_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_erf_elements = np.frompyfunc(math.erf, 1, 1)     # numpy has no erf; math.erf is correctly rounded in double


def _erf(x):
    return _erf_elements(x).astype(x.dtype) if x.ndim else np.asarray(math.erf(x), dtype=x.dtype)


def _unary(name, grad_name, forward, partial, reads=(0,)):
    return declare(name, unary(grad_name, floating_forward(quiet(forward)), partial, reads=reads), inplace=True)


asin = _unary("asin", "AsinBackward0", np.arcsin, lambda ans, x: 1 / sqrt(1 - x * x))
acos = _unary("acos", "AcosBackward0", np.arccos, lambda ans, x: -1 / sqrt(1 - x * x))
atan = _unary("atan", "AtanBackward0", np.arctan, lambda ans, x: 1 / (1 + x * x))
asinh = _unary("asinh", "AsinhBackward0", np.arcsinh, lambda ans, x: 1 / sqrt(x * x + 1))
acosh = _unary("acosh", "AcoshBackward0", np.arccosh, lambda ans, x: 1 / sqrt(x * x - 1))
atanh = _unary("atanh", "AtanhBackward0", np.arctanh, lambda ans, x: 1 / (1 - x * x))
log1p = _unary("log1p", "Log1PBackward0", np.log1p, lambda ans, x: 1 / (x + 1))
expm1 = _unary("expm1", "Expm1Backward0", np.expm1, lambda ans, x: ans + 1, reads=(-1,))
log2 = _unary("log2", "Log2Backward0", np.log2, lambda ans, x: 1 / (x * _LN2))
log10 = _unary("log10", "Log10Backward0", np.log10, lambda ans, x: 1 / (x * _LN10))
erf = _unary("erf", "ErfBackward0", _erf, lambda ans, x: _TWO_OVER_SQRT_PI * exp(-(x * x)))


def _atan2_forward(y, x):
    try:
        return fix_dtype(np.arctan2(floating(np.asarray(y)), floating(np.asarray(x))), y, x)
    except ValueError:
        raise broadcast_error(y, x) from None


def _atan2_rule(i, g, ans, y, x):
    # d/dy atan2(y, x) = x / (x² + y²), d/dx = -y / (x² + y²)
    return g * ((x if i == 0 else -y) / (x * x + y * y))


atan2 = declare("atan2", defop("Atan2Backward0", quiet(_atan2_forward), **by_input(_atan2_rule, 2),
                               saves=((0, 1), (0, 1))), aliases=("arctan2",), inplace=True)


def _cumsum_forward(x, dim):
    dtype = np.int64 if x.dtype.kind in "bi" else x.dtype
    return x.astype(dtype) if x.ndim == 0 else np.cumsum(x, axis=dim, dtype=dtype)   # a 0-d sum is itself


def _reversed_cumsum(g, dim):
    """sum over j >= i of g_j along ``dim``: the VJP of a running sum (total minus the running sum before i)."""
    return sum(g, (dim,), True) - cumsum(g, dim) + g


CUMSUM = defop("CumsumBackward0", _cumsum_forward,
               (lambda g, ans, x, dim: g if x.ndim == 0 else _reversed_cumsum(g, dim), None),
               (lambda t, ans, x, dim: cumsum(t, dim), None), saves=((), ()))


@declare("cumsum")
def cumsum(input, dim, *, dtype=None):
    (d,) = normalize_dims(dim, input.ndim)
    if dtype is not None:
        input = input.to(dtype)
    return apply(CUMSUM, input, d)
