"""Creating tensors: from data, filled, ranges, identity, random (seeded by manual_seed)."""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from . import _device, dtypes
from ._mt19937 import MT19937
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace", "eye",
           "rand", "randn", "randint", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like",
           "randn_like", "randperm", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state"]

_TORCH_DEFAULT_SEED = 67280421310721  # what torch seeds its default generator with at start-up


class _Generator:
    """The default random generator: torch's CPU Mersenne Twister and its sampling recipes (:mod:`._mt19937`), so
    that ``manual_seed(n)`` then ``rand``, ``randn``, ``normal``, ``randint``, ``randperm``, ``uniform_``,
    ``normal_`` give torch's numbers; ``rng`` is a numpy Generator on the same twister for everything else."""

    def __init__(self) -> None:
        self.seed(_TORCH_DEFAULT_SEED)

    def seed(self, value: int) -> None:
        self.initial = int(value)
        self.mt = MT19937(self.initial)
        self.rng = self.mt.numpy


default_generator = _Generator()


def manual_seed(seed: int):
    seed = int(seed)
    if not -0x8000_0000_0000_0000 <= seed <= 0xFFFF_FFFF_FFFF_FFFF:
        raise RuntimeError("Overflow when unpacking long long")
    default_generator.seed(seed % (1 << 64))
    return default_generator


def seed() -> int:
    value = int(np.random.SeedSequence().entropy % (1 << 63))
    default_generator.seed(value)
    return value


def initial_seed() -> int:
    return default_generator.initial


def get_rng_state() -> dict:
    """The generator's state (a dict; pass it back to set_rng_state to replay)."""
    return {"initial": default_generator.initial, "state": default_generator.mt.state}


def set_rng_state(new_state: dict) -> None:
    default_generator.initial = new_state["initial"]
    default_generator.mt.state = new_state["state"]


def _infer_dtype(data, array: np.ndarray):
    """torch's dtype for Python data: floats -> default float, ints -> int64, bools -> bool."""
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        return array.dtype
    kind = array.dtype.kind
    if kind == "f":
        return dtypes.get_default_dtype().numpy_dtype
    if kind in "iu":
        return np.dtype(np.int64)
    if kind == "b":
        return np.dtype(np.bool_)
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _to_array(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        try:
            return np.array([_to_array(d) for d in data]) if any(isinstance(d, (Tensor, list, tuple))
                                                                 for d in data) else np.array(data)
        except ValueError:
            _check_nested(data)
            raise
    return np.array(data)


def _check_nested(data, dim=0):
    """Raise torch's error for ragged nested sequences: the first element fixes each dimension's length."""
    if not isinstance(data, (list, tuple)) or not data:
        return
    first = data[0]
    length = len(first) if isinstance(first, (list, tuple)) else None
    for item in data:
        if isinstance(item, (list, tuple)) != (length is not None):
            raise TypeError("not a sequence" if length is not None else
                            f"must be real number, not {type(item).__name__}")
        if length is not None and len(item) != length:
            raise ValueError(f"expected sequence of length {length} at dim {dim + 1} (got {len(item)})")
        _check_nested(item, dim + 1)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (nested lists, numbers, numpy arrays or tensors)."""
    _device.check(device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.clone().detach() or "
                      "sourceTensor.clone().detach().requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    if isinstance(data, str) or data is None:
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    array = _to_array(data)
    if array.dtype.kind in "OUS":
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    target = dtypes.to_numpy(dtype) if dtype is not None else _infer_dtype(data, array)
    array = np.array(array, dtype=target, copy=True, order="C")
    if requires_grad and array.dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    out = Tensor._from_array(array)
    if requires_grad:
        out.requires_grad = True
    return out


def as_tensor(data, dtype=None, device=None) -> Tensor:
    _device.check(device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.as_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == dtypes.to_numpy(dtype)):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.from_numpy(ndarray.dtype)
    return Tensor._from_array(ndarray)


def _size(size, name="zeros") -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for i, s in enumerate(size):
        if not isinstance(s, (numbers.Integral,)):
            raise TypeError(f"{name}(): argument 'size' (position {i + 1}) must be tuple of ints, not "
                            f"{type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _finish(array, requires_grad) -> Tensor:
    out = Tensor._from_array(array)
    if requires_grad:
        out.requires_grad = True
    return out


def _float_dtype(dtype):
    return dtypes.to_numpy(dtype) if dtype is not None else dtypes.get_default_dtype().numpy_dtype


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    _device.check(device)
    return _finish(np.zeros(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    _device.check(device)
    return _finish(np.ones(_size(size, "ones"), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    _device.check(device)
    return _finish(np.empty(_size(size, "empty"), dtype=_float_dtype(dtype)), requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    _device.check(device)
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, numbers.Integral)
                 else dtypes.get_default_dtype().numpy_dtype)
    return _finish(np.full(_size((size,)), fill_value, dtype=dtypes.to_numpy(dtype)), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    _device.check(device)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    target = dtypes.to_numpy(dtype) if dtype is not None else (
        np.dtype(np.int64) if integral else dtypes.get_default_dtype().numpy_dtype)
    n = int(np.ceil((end - start) / step))
    array = (start + step * np.arange(n, dtype=np.float64)).astype(target) if not integral else \
        np.arange(start, end, step, dtype=np.int64).astype(target)
    return _finish(array, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, bit for bit as torch's CPU kernel computes them.

    With ``step = (end - start) / (steps - 1)``, the first half is ``start + step * i`` and the second half
    ``end - step * (steps - 1 - i)``, each a fused multiply-add (one rounding), in the output's precision.
    """
    _device.check(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    target = _float_dtype(dtype)
    if steps == 1:
        return _finish(np.full(1, start, dtype=target), requires_grad)
    if target == np.float32:
        first, last = float(np.float32(start)), float(np.float32(end))
        step = float(np.float32(np.float32(last) - np.float32(first)) / np.float32(steps - 1))
    else:
        first, last = float(start), float(end)
        step = (last - first) / (steps - 1)
    index = np.arange(steps, dtype=np.float64)
    # float64 products of float32 operands are exact, so one rounding to float32 is the fused result
    fused = _fma if target == np.float64 else (lambda a, b, c: a * b + c)
    values = np.where(index < steps // 2, fused(step, index, first), fused(-step, steps - 1 - index, last))
    return _finish(values.astype(target), requires_grad)


def _fma(a, b, c):
    """``a * b + c`` with a single rounding in float64 (error-free product and sum, Dekker and Knuth)."""
    a, b, c = (np.asarray(v, dtype=np.float64) for v in (a, b, c))
    product = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    product_error = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    total = product + c
    back = total - product
    sum_error = (product - (total - back)) + (c - back)
    return total + (sum_error + product_error)


def _split(a):
    scaled = 134217729.0 * a            # 2**27 + 1: splits a double into two 26-bit halves
    high = scaled - (scaled - a)
    return high, a - high


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    _device.check(device)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    _device.check(device)
    if "size" in kwargs:
        size = (kwargs.pop("size"),)
    mt = (generator or default_generator).mt
    return _finish(mt.uniform(_size(size, "rand"), _float_dtype(dtype)), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kwargs) -> Tensor:
    _device.check(device)
    if "size" in kwargs:
        size = (kwargs.pop("size"),)
    mt = (generator or default_generator).mt
    return _finish(mt.normal(_size(size, "randn"), 0.0, 1.0, _float_dtype(dtype)), requires_grad)


def randint(low, high=None, size=(), *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    _device.check(device)
    if high is None:
        low, high = 0, low
    elif isinstance(high, (tuple, list)):      # randint(high, size)
        low, high, size = 0, low, high
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    mt = (generator or default_generator).mt
    array = mt.integers(int(low), int(high), _size((size,)))
    return _finish(array.astype(dtypes.to_numpy(dtype)) if dtype is not None else array, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 unless ``dtype`` says otherwise)."""
    _device.check(device)
    n = int(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    array = (generator or default_generator).mt.permutation(n)
    return _finish(array.astype(dtypes.to_numpy(dtype)) if dtype is not None else array, requires_grad)


def _like(input, dtype):
    return input._data.dtype if dtype is None else dtypes.to_numpy(dtype)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    _device.check(device)
    return _finish(np.zeros(input.shape, dtype=_like(input, dtype)), requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    _device.check(device)
    return _finish(np.ones(input.shape, dtype=_like(input, dtype)), requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    _device.check(device)
    return _finish(np.empty(input.shape, dtype=_like(input, dtype)), requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    _device.check(device)
    return _finish(np.full(input.shape, fill_value, dtype=_like(input, dtype)), requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    _device.check(device)
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None) -> Tensor:
    _device.check(device)
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Samples of N(mean, std**2): elementwise for tensor ``mean`` and/or ``std`` (broadcast), or of ``size`` for
    two numbers, as torch's four overloads. Not differentiable (torch's gradient w.r.t. mean and std is zero)."""
    _device.check(device)
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if not tensors and size is None:
        raise TypeError("normal() received an invalid combination of arguments - got (float, float), but expected "
                        "(float mean, float std, tuple of ints size)")
    means, stds = (v._data if isinstance(v, Tensor) else v for v in (mean, std))
    if tensors:
        shape = _broadcast(np.shape(means), np.shape(stds))
        target = dtypes.result_type([t._data for t in tensors], [])
    else:
        shape = _size((size,), "normal")
        target = _float_dtype(dtype)
    if isinstance(std, Tensor) and np.any(stds < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not isinstance(std, Tensor) and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    mt = (generator or default_generator).mt
    if not tensors:
        return _finish(mt.normal(shape, float(mean), float(std), target), requires_grad)
    standard = mt.normal(shape, 0.0, 1.0, target)  # torch: standard normals, then times std plus mean
    return _finish((standard * stds + means).astype(target), requires_grad)


def _broadcast(a: tuple, b: tuple) -> tuple:
    """The broadcast shape of ``a`` and ``b``, or torch's error naming the first dimension that differs."""
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        ndim = max(len(a), len(b))
        for back in range(1, ndim + 1):
            n, m = (s[-back] if len(s) >= back else 1 for s in (a, b))
            if n != m and 1 not in (n, m):
                raise RuntimeError(f"The size of tensor a ({n}) must match the size of tensor b ({m}) at "
                                   f"non-singleton dimension {ndim - back}") from None
        raise
