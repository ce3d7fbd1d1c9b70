"""Concatenation: cat and stack. Each VJP slices the cotangent back into the inputs' parts; each JVP
concatenates the tangents (zeros for an input without one).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..dispatch import apply
from ..tensor import Tensor
from ._helpers import normalize_dims, zeros_of
from .declare import declare, defop
from .indexing import getitem


def _cat_forward(*xs, dim):
    first = np.shape(xs[0])
    for i, x in enumerate(xs[1:], 1):
        shape = np.shape(x)
        if len(shape) != len(first):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}")
        for d, (n, m) in enumerate(zip(first, shape)):
            if d != dim and n != m:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. Expected size {n} but "
                                   f"got size {m} for tensor number {i} in the list.")
    return _promoted(np.concatenate(xs, axis=dim), xs)


def _stack_forward(*xs, dim):
    first = np.shape(xs[0])
    for i, x in enumerate(xs[1:], 1):
        if np.shape(x) != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                               f"{list(np.shape(x))} at entry {i}")
    return _promoted(np.stack(xs, axis=dim), xs)


def _promoted(out, xs):
    """torch's result dtype for mixed inputs (integers with float32 give float32, not numpy's float64)."""
    expected = dtypes.result_type([np.asarray(x) for x in xs], [])
    return out if out.dtype == expected else out.astype(expected)


def _cat_rule(i, g, ans, *xs, dim):
    start = sum(x.shape[dim] for x in xs[:i])
    index = (slice(None),) * dim + (slice(start, start + xs[i].shape[dim]),)
    return getitem(g, index)


def _stack_rule(i, g, ans, *xs, dim):
    return getitem(g, (slice(None),) * dim + (i,))


CAT = defop("CatBackward0", _cat_forward, _cat_rule, lambda i, t, ans, *xs, dim: _cat_tangent(i, t, xs, dim),
            variadic=True, saves=())
STACK = defop("StackBackward0", _stack_forward, _stack_rule,
              lambda i, t, ans, *xs, dim: _stack_tangent(i, t, xs, dim), variadic=True, saves=())


def _cat_tangent(i, t, xs, dim):
    return cat([t if j == i else zeros_of(x) for j, x in enumerate(xs)], dim)


def _stack_tangent(i, t, xs, dim):
    return stack([t if j == i else zeros_of(x) for j, x in enumerate(xs)], dim)


@declare("cat", aliases=("concat",), method=False)
def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    nd = max(np.ndim(x._data if isinstance(x, Tensor) else x) for x in tensors)
    (d,) = normalize_dims(dim, nd)
    return apply(CAT, *tensors, dim=d)




@declare("stack", method=False)
def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    nd = np.ndim(tensors[0]._data if isinstance(tensors[0], Tensor) else tensors[0]) + 1
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})")
    return apply(STACK, *tensors, dim=dim % nd)
