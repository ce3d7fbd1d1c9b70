"""Indexing: ``x[index]`` (a view for basic indices, as in torch; a copy otherwise), ``x[index] = value``, and
index_put, whose accumulating form is the VJP of indexing (repeated indices add up).
"""
from __future__ import annotations

import numpy as np

from ..dispatch import apply
from ..inplace import apply_inplace
from ..tensor import Tensor
from ..views import apply_view
from ._helpers import zeros_of
from .compound import COPY
from .declare import defop
from .shape import expand, expanded_shape, reshape


def _index_put_forward(x, index, value, accumulate=False):
    out = np.array(x, copy=True)
    if accumulate:
        if _is_basic(index):
            out[index] += value        # a basic index never repeats a position
        else:
            np.add.at(out, index, value)
        return out
    try:
        out[index] = value
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(value))} cannot be broadcast to "
                           f"indexing result of shape {list(np.shape(x[index]))}") from None
    return out


def _index_put_value_tangent(t, ans, x, index, value, accumulate=False):
    region = np.shape(_data(ans)[index])
    return index_put(zeros_of(ans), index, expand(t, region) if np.shape(_data(t)) != region else t,
                     accumulate=accumulate)


# torch's index_put: x with value written (or, accumulate=True, added) at index. Overwritten positions pass no
# gradient to x; the value gets the cotangent there (summed back to its shape by the engine when broadcast).
# Accumulating into zeros is the VJP of indexing, where repeated indices add up.
INDEX_PUT = defop("IndexPutBackward0", _index_put_forward,
                  (lambda g, ans, x, index, value, accumulate=False: g if accumulate else _blank(g, index), None,
                   lambda g, ans, x, index, value, accumulate=False: getitem(g, index)),
                  (lambda t, ans, x, index, value, accumulate=False: t if accumulate else _blank(t, index), None,
                   _index_put_value_tangent),
                  saves=((), (), ()))


def _index_rule(g, ans, x, index):
    return scatter_add_index(g, x.shape, index)


def _index_tangent(t, ans, x, index):
    return getitem(t, index)


def _index_forward(x, index):
    try:
        return x[index]
    except IndexError as error:      # torch says "dimension" where numpy says "axis"
        if str(error).startswith("too many indices"):
            raise IndexError(f"too many indices for tensor of dimension {np.ndim(x)}") from None
        raise IndexError(str(error).replace(" axis ", " dimension ")) from None


def _index_grad_name(i, node):
    """torch's name for the node of ``x[index]``'s create_graph gradient: torch applies an index's ints, slices
    and Nones first, left to right (full slices ``:`` among others skipped), then its index arrays, so the
    gradient ends in the backward of the first of them."""
    index = node.args[1]
    parts = index if isinstance(index, tuple) else (index,)
    full = slice(None, None, None)
    for p in parts:
        if p is Ellipsis or isinstance(p, np.ndarray) or (isinstance(p, slice) and p == full and len(parts) > 1):
            continue
        if p is None:
            return "SqueezeBackward1"
        return "SliceBackwardBackward0" if isinstance(p, slice) else "SelectBackwardBackward0"
    return "IndexPutImplBackward0" if any(isinstance(p, np.ndarray) for p in parts) else None


_INDEX_OPS = {name: defop(name, _index_forward, (_index_rule, None), (_index_tangent, None),
                          saves=((), ()), grad_names=_index_grad_name)
              for name in ("SelectBackward0", "SliceBackward0", "IndexBackward0", "AliasBackward0")}


def _is_basic(index) -> bool:
    """Ints, slices, None and Ellipsis only: numpy's (and torch's) view-returning indexing."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, slice)
               or (isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_))) for p in parts)


def _index_name(index) -> str:
    if not _is_basic(index):
        return "IndexBackward0"
    parts = index if isinstance(index, tuple) else (index,)
    last = [p for p in parts if p is not Ellipsis]
    if not last:
        return "AliasBackward0"
    p = last[-1]
    if p is None:
        return "UnsqueezeBackward0"
    if isinstance(p, slice):
        return "SliceBackward0"
    return "SelectBackward0"


def _view_index(index):
    """A basic index that makes numpy return a view even when it picks one element (x[1, 2] is a 0-d view)."""
    parts = index if isinstance(index, tuple) else (index,)
    return parts if any(p is Ellipsis for p in parts) else parts + (Ellipsis,)


def _normalize_index(index):
    if isinstance(index, tuple):
        return tuple(_normalize_index(p) for p in index)
    if isinstance(index, Tensor):
        data = index._data
        if data.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return data
    if isinstance(index, list):
        return np.asarray([i._data if isinstance(i, Tensor) else i for i in index])
    if not isinstance(index, (int, np.integer, slice, np.ndarray)) and index is not None and index is not Ellipsis:
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                         f"indices (got {type(index).__name__})")
    return index


def getitem(input, index):
    """``input[index]``: a view for basic indices (ints, slices, None, ...), as in torch; a copy otherwise."""
    index = _normalize_index(index)
    name = _index_name(index)
    if name == "IndexBackward0":
        return apply(_INDEX_OPS[name], input, index)
    index = _view_index(index)
    if name == "UnsqueezeBackward0":
        out = apply_view(_INDEX_OPS["AliasBackward0"], input, index)
        if isinstance(out, Tensor) and out._grad_fn is not None:
            out._grad_fn.name_override = "UnsqueezeBackward0"
        return out
    return apply_view(_INDEX_OPS[name], input, index)


def _blank(g, index):
    """``g`` with zeros at ``index``: the overwritten positions pass no gradient to the old tensor."""
    return index_put(g, index, 0.0)


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def index_put(input, index, value, accumulate=False):
    """``input`` with ``value`` put (or added) at ``index``, out of place."""
    return apply(INDEX_PUT, input, _normalize_index(index), value, accumulate=accumulate)


def setitem(input, index, value):
    """``input[index] = value`` in place, recorded as torch records it: for basic indices a copy into the view
    ``input[index]`` (CopySlices on ``input``), otherwise an index_put (IndexPutBackward0)."""
    index = _normalize_index(index)
    if not _is_basic(index):
        apply_inplace(input, INDEX_PUT, index, value)
        return
    region = getitem(input, index)
    if isinstance(value, Tensor) and value.shape != region.shape:
        shape = tuple(value.shape)
        while shape and shape[0] == 1:        # torch drops the value's leading 1s first
            shape = shape[1:]
        expanded_shape(shape, tuple(region.shape), value._data.dtype)   # torch's error if it does not fit
        value = reshape(value, shape) if shape != tuple(value.shape) else value
    apply_inplace(region, COPY, value)


def scatter_add_index(src, shape, index):
    """Zeros of ``shape`` with ``src`` added at ``index`` (repeats accumulate): the VJP of indexing."""
    return apply(INDEX_PUT, np.zeros(shape, dtype=_data(src).dtype), index, src, accumulate=True)
