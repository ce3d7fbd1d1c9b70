"""torch's CPU random numbers: the same Mersenne Twister seeded the same way, and the same recipes turning its
32-bit words into uniform, normal and integer samples, so that ``manual_seed(n)`` followed by ``rand``, ``randn``,
``normal``, ``randint``, ``randperm``, ``uniform_`` or ``normal_`` gives torch's numbers for the same seed.

The recipes (from torch's CPU generator and distribution helpers):

- a float32 uniform is ``(word & (2**24 - 1)) * 2**-24``; a float64 one takes two words, high word first, and keeps
  53 bits: ``(((w1 << 32) | w2) & (2**53 - 1)) * 2**-53``; ``uniform_(a, b)`` scales it in float64 (the bounds
  rounded to the tensor's dtype), then rounds;
- a normal sample, for fewer than 16 elements, is Box-Muller in float64 on two float64 uniforms ``u1, u2``:
  ``r = sqrt(-2 log(1 - u2))``, ``theta = 2 pi u1``, ``r cos(theta)``, with ``r sin(theta)`` kept for the next call;
- for 16 elements or more, the tensor is filled with float32 uniforms and transformed 16 at a time in float32
  (``u1 = 1 - x[j]``, ``u2 = x[j + 8]`` for ``j < 8``), a last partial block redrawn over the final 16 elements;
  torch computes these with vectorised sin, cos and log, so a value may differ from ours in its last bit;
- ``randint(low, high)`` is ``word % (high - low) + low`` (two words when the range needs 64 bits);
- ``randperm(n)`` swaps element ``i`` with element ``i + word % (n - i)``, for ``i`` from 0 to ``n - 2``.
"""

from __future__ import annotations

import math

import numpy as np

_FLOAT_MASK = (1 << 24) - 1
_DOUBLE_MASK = np.uint64((1 << 53) - 1)
_VECTOR_NORMAL = 16  # from this many elements torch fills normals 16 at a time


class MT19937:
    """One generator's state: the twister and the normal sample Box-Muller kept for the next call."""

    def __init__(self, seed: int) -> None:
        self.bits = np.random.MT19937()
        self.bits._legacy_seeding(int(seed) % (1 << 32))  # torch seeds the twister with the seed's low 32 bits
        self.numpy = np.random.Generator(self.bits)  # for what torch has no recipe of ours for
        self.next_normal: float | None = None

    @property
    def state(self) -> dict:
        return {"bits": self.bits.state, "next_normal": self.next_normal}

    @state.setter
    def state(self, value: dict) -> None:
        self.bits.state = value["bits"]
        self.next_normal = value["next_normal"]

    def words(self, count: int) -> np.ndarray:
        return self.bits.random_raw(count).astype(np.uint64)

    def uniform(self, shape, dtype) -> np.ndarray:
        """U[0, 1) samples of ``shape`` in ``dtype`` (float32 from 24 bits, float64 from 53)."""
        count = math.prod(shape)
        if np.dtype(dtype) == np.float64:
            return self._doubles(count).reshape(shape)
        words = self.words(count) & np.uint64(_FLOAT_MASK)
        return (words.astype(np.float32) * np.float32(2.0 ** -24)).astype(dtype).reshape(shape)

    def _doubles(self, count: int) -> np.ndarray:
        words = self.words(2 * count)
        joined = (words[0::2] << np.uint64(32)) | words[1::2]
        return (joined & _DOUBLE_MASK).astype(np.float64) * 2.0 ** -53

    def uniform_between(self, shape, low: float, high: float, dtype) -> np.ndarray:
        """``uniform_(low, high)``: ``u * (high - low) + low`` in float64, rounded to the tensor's dtype."""
        dtype = np.dtype(dtype)
        u = self.uniform(shape, np.float64 if dtype == np.float64 else np.float32).astype(np.float64)
        low, high = (float(dtype.type(v)) for v in (low, high))  # torch rounds the bounds to the dtype first
        return (u * (high - low) + low).astype(dtype)

    def normal(self, shape, mean: float, std: float, dtype) -> np.ndarray:
        """N(mean, std**2) samples of ``shape`` in ``dtype``, as torch's ``normal_``."""
        count = math.prod(shape)
        if count >= _VECTOR_NORMAL and np.dtype(dtype) != np.float64:
            return self._normal_blocks(count, mean, std).astype(dtype).reshape(shape)
        if count >= _VECTOR_NORMAL:
            return self._normal_blocks_double(count, mean, std).reshape(shape)
        out = np.empty(count, dtype=np.float64)
        for i in range(count):
            out[i] = self._one_normal() * std + mean
        return out.astype(dtype).reshape(shape)

    def _one_normal(self) -> float:
        if self.next_normal is not None:
            value, self.next_normal = self.next_normal, None
            return value
        u1, u2 = self._doubles(2)
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.next_normal = radius * math.sin(theta)
        return radius * math.cos(theta)

    def _normal_blocks(self, count: int, mean: float, std: float) -> np.ndarray:
        data = self.uniform((count,), np.float32)
        for start in range(0, count - _VECTOR_NORMAL + 1, _VECTOR_NORMAL):
            _box_muller_16(data[start:start + _VECTOR_NORMAL], mean, std, np.float32)
        if count % _VECTOR_NORMAL:
            data[count - _VECTOR_NORMAL:] = self.uniform((_VECTOR_NORMAL,), np.float32)
            _box_muller_16(data[count - _VECTOR_NORMAL:], mean, std, np.float32)
        return data

    def _normal_blocks_double(self, count: int, mean: float, std: float) -> np.ndarray:
        data = self._doubles(count)
        for start in range(0, count - _VECTOR_NORMAL + 1, _VECTOR_NORMAL):
            _box_muller_16(data[start:start + _VECTOR_NORMAL], mean, std, np.float64)
        if count % _VECTOR_NORMAL:
            data[count - _VECTOR_NORMAL:] = self._doubles(_VECTOR_NORMAL)
            _box_muller_16(data[count - _VECTOR_NORMAL:], mean, std, np.float64)
        return data

    def integers(self, low: int, high: int, shape) -> np.ndarray:
        """``randint``: ``word % (high - low) + low`` as int64 (two words per sample past 32 bits of range)."""
        count, span = math.prod(shape), high - low
        if span >= 1 << 32:
            words = self.words(2 * count)
            draws = [(int(a) << 32 | int(b)) % span + low for a, b in zip(words[0::2], words[1::2])]
            return np.array(draws, dtype=np.int64).reshape(shape)
        return ((self.words(count) % np.uint64(span)).astype(np.int64) + low).reshape(shape)

    def permutation(self, n: int) -> np.ndarray:
        """``randperm(n)``: element ``i`` swapped with element ``i + word % (n - i)``."""
        out = np.arange(n, dtype=np.int64)
        words = self.words(max(n - 1, 0))
        for i in range(n - 1):
            j = i + int(words[i]) % (n - i)
            out[i], out[j] = out[j], out[i]
        return out


def _box_muller_16(block: np.ndarray, mean: float, std: float, dtype) -> None:
    """Turn 16 uniforms into 16 normals in place, as torch's ``normal_fill_16``."""
    one, two = dtype(1), dtype(2)
    u1 = one - block[:8]
    u2 = block[8:].copy()
    radius = np.sqrt(-two * np.log(u1))
    theta = dtype(2.0 * math.pi) * u2
    block[:8] = radius * np.cos(theta) * dtype(std) + dtype(mean)
    block[8:] = radius * np.sin(theta) * dtype(std) + dtype(mean)
