"""Hyperparameters given as 0-d tensors: their values, computing as torch's 0-d tensors compute.

torch 2.13 accepts a 0-d tensor for most hyperparameters (``lr=torch.tensor(0.01)``) and then
does the optimizer's scalar arithmetic with it as tensor arithmetic: ``1 - beta2 ** step`` in
the tensor's dtype (float32 for ``torch.tensor(0.999)``), where a float would give a double. The
difference is not only of rounding: in ``1 - 0.999 ** t`` a float32 rounding of ``0.999 ** t``
becomes a relative error of 1e-5 and more after the cancellation, and Adam's steps differ by
that. So such a hyperparameter becomes a :class:`TensorScalar` once per step, the functional
code's scalar expressions (written as torch writes them) compute with it as torch would, and the
kernels receive the results as plain floats (``float(x)``), so no ufunc sees anything but floats.
"""

from __future__ import annotations

import numpy as np


class TensorScalar(float):
    """The value of a 0-d floating tensor, with torch's 0-d tensor arithmetic.

    A float (comparisons, ``min``/``max``, formatting and ``float()`` see the tensor's value)
    whose arithmetic happens in its tensor's dtype and gives a TensorScalar again:

    * with a Python number, in the tensor's dtype (the number rounded to it first, as torch
      does with a wrapped number; numpy's scalar rules for Python numbers are the same);
    * with another TensorScalar, in the promoted dtype (float32 with float64 gives float64);
    * ``x / t`` is ``reciprocal(t) * x``, as ``Tensor.__rtruediv__`` computes it;
    * ``t ** 2``, ``t ** 3``, ``t ** -2`` and ``t ** -0.5`` are the products and reciprocals of
      torch's pow fast paths (``t * t * t`` is not the correctly rounded cube); other powers are
      the correctly rounded value, as torch's pow gives for float32; ``c ** t`` rounds ``c`` to
      the tensor's dtype first.

    Use :func:`tensor_scalar` to make one; :attr:`numpy_type` is ``np.float32`` or ``np.float64``.
    """

    __slots__ = ()
    numpy_type: type = np.float64

    # -------------------------------------------------------------------------------- helpers
    def _np(self):
        return self.numpy_type(float(self))

    @staticmethod
    def _other(other):
        """``other`` as a numpy operand: a TensorScalar's typed value, a Python number as is."""
        if isinstance(other, TensorScalar):
            return other._np()
        if isinstance(other, (int, float, np.floating)):
            return other  # a numpy scalar is typed, as a 0-d tensor is
        return NotImplemented

    # ----------------------------------------------------------------------------- arithmetic
    def __add__(self, other):
        other = self._other(other)
        return NotImplemented if other is NotImplemented else _wrap(self._np() + other)

    def __radd__(self, other):
        other = self._other(other)
        return NotImplemented if other is NotImplemented else _wrap(other + self._np())

    def __sub__(self, other):
        other = self._other(other)
        return NotImplemented if other is NotImplemented else _wrap(self._np() - other)

    def __rsub__(self, other):
        other = self._other(other)
        return NotImplemented if other is NotImplemented else _wrap(other - self._np())

    def __mul__(self, other):
        other = self._other(other)
        return NotImplemented if other is NotImplemented else _wrap(self._np() * other)

    def __rmul__(self, other):
        other = self._other(other)
        return NotImplemented if other is NotImplemented else _wrap(other * self._np())

    def __truediv__(self, other):
        other = self._other(other)
        return NotImplemented if other is NotImplemented else _wrap(self._np() / other)

    def __rtruediv__(self, other):
        other = self._other(other)
        if other is NotImplemented:
            return NotImplemented
        value = self._np()
        return _wrap((value.dtype.type(1) / value) * other)

    def __pow__(self, exponent):
        if isinstance(exponent, TensorScalar):
            result_type = np.result_type(self.numpy_type, exponent.numpy_type).type
            return _wrap(result_type(float(self) ** float(exponent)))
        if self._other(exponent) is NotImplemented:
            return NotImplemented
        x = self._np()
        if exponent == 2:
            return _wrap(x * x)
        if exponent == 3:
            return _wrap(x * x * x)
        if exponent == -2:
            return _wrap(x.dtype.type(1) / (x * x))
        if exponent == -0.5:
            return _wrap(x.dtype.type(1) / np.sqrt(x))
        if exponent == 0.5:
            return _wrap(np.sqrt(x))
        return _wrap(self.numpy_type(float(self) ** float(exponent)))

    def __rpow__(self, base):
        if self._other(base) is NotImplemented:
            return NotImplemented
        return _wrap(self.numpy_type(float(self.numpy_type(base)) ** float(self)))

    def __neg__(self):
        return _wrap(-self._np())

    # A comparison with a Python number rounds the number to the tensor's dtype first, as torch's
    # ``tensor < 1.00000001`` does (False for a float32 1.0); two TensorScalars compare their values.
    def __lt__(self, other):
        other = self._other(other)
        return NotImplemented if other is NotImplemented else bool(self._np() < other)

    def __le__(self, other):
        other = self._other(other)
        return NotImplemented if other is NotImplemented else bool(self._np() <= other)

    def __gt__(self, other):
        other = self._other(other)
        return NotImplemented if other is NotImplemented else bool(self._np() > other)

    def __ge__(self, other):
        other = self._other(other)
        return NotImplemented if other is NotImplemented else bool(self._np() >= other)

    __hash__ = float.__hash__

    def __pos__(self):
        return self

    def __abs__(self):
        return _wrap(abs(self._np()))

    def __repr__(self) -> str:
        return f"TensorScalar({float(self)!r}, {np.dtype(self.numpy_type).name})"


class _Float32(TensorScalar):
    __slots__ = ()
    numpy_type = np.float32


class _Float64(TensorScalar):
    __slots__ = ()
    numpy_type = np.float64


class _Float16(TensorScalar):
    __slots__ = ()
    numpy_type = np.float16


_TYPES = {np.float16: _Float16, np.float32: _Float32, np.float64: _Float64}


def _wrap(value: np.floating) -> TensorScalar:
    return _TYPES[type(value)](value)


def tensor_scalar(array: np.ndarray):
    """A 1-element array's value: a :class:`TensorScalar` for a floating dtype, a Python int or
    bool for an integer or boolean one (a count such as ``ns_steps``, as ``range(tensor)`` reads it)."""
    value = array.item()
    cls = _TYPES.get(array.dtype.type)
    return value if cls is None else cls(value)
