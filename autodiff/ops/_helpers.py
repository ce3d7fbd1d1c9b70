"""Small pieces shared by the op modules: promotion of operands, argument checks, error-silenced numpy."""
from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes
from .._quiet import restore, silence
from ..tensor import Tensor


_ndarray = np.ndarray


def fix_dtype(out, x, y):
    """Give a binary op's numpy result torch's result dtype (numpy differs for int/float and 0-d mixes)."""
    # (numpy's builtin dtypes are singletons: `is` settles the common case before the slower ==)
    if type(x) is _ndarray:
        xd = x.dtype
        if type(y) is not _ndarray:
            if out.dtype is xd or out.dtype == xd:
                return out
        elif (y.dtype is xd or y.dtype == xd) and (out.dtype is xd or out.dtype == xd):
            return out
    elif type(y) is _ndarray and out.dtype == y.dtype:
        return out
    elif type(y) is not _ndarray:
        return out
    arrays = [a for a in (x, y) if isinstance(a, np.ndarray)]
    scalars = [a for a in (x, y) if not isinstance(a, np.ndarray)]
    expected = dtypes.result_type(arrays, scalars)
    return out if out.dtype == expected else out.astype(expected)


def as_operand(value):
    """Accept what torch accepts beside a tensor: tensors, Python/numpy scalars."""
    if isinstance(value, (Tensor, np.ndarray, numbers.Number, np.generic)):
        return value
    raise TypeError(f"unsupported operand type: '{type(value).__name__}'")


FAST_OPERANDS = frozenset({Tensor, np.ndarray, float, int})   # pass check_operand with no further test
_OPERANDS = (Tensor, np.ndarray, numbers.Number, np.generic)


def check_operand(value, symbol, reflected=False):
    """torch's TypeError for an operator whose other operand is not a tensor or a number (lists, strings, None)."""
    if type(value) in FAST_OPERANDS or isinstance(value, _OPERANDS):
        return
    names = (type(value).__name__, "Tensor") if reflected else ("Tensor", type(value).__name__)
    raise TypeError(f"unsupported operand type(s) for {symbol}: '{names[0]}' and '{names[1]}'")


def check_tensor(value, name):
    """torch's TypeError for a function given something other than a tensor (arrays pass: the rules use them)."""
    if type(value) is Tensor or type(value) is np.ndarray or isinstance(value, (Tensor, np.ndarray)):
        return
    raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(value).__name__}")


def quiet(func):
    """Run ``func`` with numpy's floating-point warnings off: torch returns nan/inf silently."""
    def wrapped(*args, **kw):
        token = silence()
        try:
            return func(*args, **kw)
        finally:
            restore(token)
    wrapped.__name__ = getattr(func, "__name__", "quiet")
    return wrapped


def times(g, p, fresh=False):
    """``g * p`` for a cotangent ``g``. When ``g`` is the broadcast 1 a sum's backward hands on for a large input
    (a read-only, stride-0 array), the product is ``p`` itself, the same numbers without a pass over the data and
    an allocation: handed on as a view, which the engine never writes into, unless the caller says ``p`` is
    ``fresh`` (computed by the rule, held by no one else)."""
    if (type(g) is _ndarray and g.size > 4096 and type(p) is _ndarray and not any(g.strides)
            and g.shape == p.shape and g.dtype == p.dtype and g.item(0) == 1):
        return p if fresh else p.view()
    return g * p


def normalize_dims(dim, ndim):
    """``dim`` (int, tuple or None) as a tuple of non-negative axes, with torch's range error."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    n = max(ndim, 1)
    out = []
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        out.append(int(d) % n)
    return tuple(out)


def broadcast_error(*operands) -> RuntimeError:
    """torch's message for operands whose shapes do not broadcast (numpy raises ValueError)."""
    shapes = [np.shape(a) for a in operands]
    names = "abcdefgh"
    ndim = max(len(s) for s in shapes)
    for back in range(1, ndim + 1):
        sizes = [(i, s[-back]) for i, s in enumerate(shapes) if len(s) >= back and s[-back] != 1]
        for (i, n), (j, m) in zip(sizes, sizes[1:]):
            if n != m:
                return RuntimeError(f"The size of tensor {names[i]} ({n}) must match the size of tensor "
                                    f"{names[j]} ({m}) at non-singleton dimension {ndim - back}")
    return RuntimeError(f"shapes {shapes} cannot be broadcast together")


def floating(x):
    """An integer or bool array as the default floating type (torch's unary float functions promote so)."""
    if x.dtype.kind in "biu":
        return x.astype(dtypes.get_default_dtype().numpy_dtype)
    return x


def zeros_of(x):
    """Zeros of an input's shape and dtype (the input is an array or, when a rule records, a Tensor)."""
    data = x._data if isinstance(x, Tensor) else x
    return np.zeros(data.shape, dtype=data.dtype)
