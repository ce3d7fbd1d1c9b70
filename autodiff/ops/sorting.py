"""Sorting and selecting by rank: sort, topk, argsort, argmax, argmin.

``sort`` and ``topk`` return torch's named tuples ``(values, indices)``; the values are the input gathered at the
indices, whose VJP scatters the cotangent back there (an index_put, so it differentiates again) and whose JVP
gathers the tangent.
"""
from __future__ import annotations

import numpy as np

from .. import return_types
from ..dispatch import apply
from ..tensor import Tensor
from ._helpers import normalize_dims
from .declare import declare, defop
from .indexing import getitem, scatter_add_index


def _gather_index(indices, dim):
    """The advanced index picking ``x`` at ``indices`` along ``dim`` (numpy's take_along_axis as getitem)."""
    grids = np.ogrid[tuple(slice(n) for n in indices.shape)] if indices.ndim else []
    return tuple(indices if d == dim else grids[d] for d in range(indices.ndim))


def _gather_op(name):
    return defop(name, lambda x, index: np.asarray(x[index]),
                 (lambda g, ans, x, index: scatter_add_index(g, x.shape, index), None),
                 (lambda t, ans, x, index: getitem(t, index), None), saves=((), ()))


SORT = _gather_op("SortBackward0")
TOPK = _gather_op("TopkBackward0")


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _sorted_indices(data, dim, descending, stable):
    if data.ndim == 0:
        return np.zeros((), dtype=np.int64)
    # numpy sorts ascending; a stable descending order is the ascending order of the negated keys
    keys = -data if descending and data.dtype.kind != "b" else (~data if descending else data)
    kind = "stable" if stable or descending else "quicksort"
    return np.argsort(keys, axis=dim, kind=kind).astype(np.int64)


def _gathered(op, input, indices, dim):
    return apply(op, input, _gather_index(indices, dim) if indices.ndim else ())


@declare("sort")
def sort(input, dim=-1, descending=False, stable=False):
    (d,) = normalize_dims(dim, input.ndim)
    indices = _sorted_indices(_data(input), d, descending, stable)
    return return_types.sort(_gathered(SORT, input, indices, d), Tensor._from_array(indices))


@declare("argsort")
def argsort(input, dim=-1, descending=False, stable=False):
    (d,) = normalize_dims(dim, input.ndim)
    return Tensor._from_array(_sorted_indices(_data(input), d, descending, stable))


@declare("topk")
def topk(input, k, dim=-1, largest=True, sorted=True):
    (d,) = normalize_dims(dim, input.ndim)
    data = _data(input)
    size = data.shape[d] if data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    order = _sorted_indices(data, d, largest, True)
    indices = np.take(order, np.arange(k), axis=d) if data.ndim else order
    return return_types.topk(_gathered(TOPK, input, indices, d), Tensor._from_array(indices))


def _arg_extreme(input, dim, keepdim, func, name):
    data = _data(input)
    if data.size == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
    if dim is None:
        out = np.asarray(func(data.reshape(-1)), dtype=np.int64)
        return Tensor._from_array(out.reshape((1,) * data.ndim) if keepdim else out)
    (d,) = normalize_dims(dim, data.ndim)
    if data.ndim == 0:
        return Tensor._from_array(np.zeros((), dtype=np.int64))
    return Tensor._from_array(np.asarray(func(data, axis=d, keepdims=keepdim), dtype=np.int64))


@declare("argmax")
def argmax(input, dim=None, keepdim=False):
    return _arg_extreme(input, dim, keepdim, np.argmax, "argmax")


@declare("argmin")
def argmin(input, dim=None, keepdim=False):
    return _arg_extreme(input, dim, keepdim, np.argmin, "argmin")
