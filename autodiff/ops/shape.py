"""Shape ops: views, transposes, squeezing, concatenation, indexing, casts and copies.

All are linear, so each JVP applies the op to the tangent; each VJP moves the cotangent back to the input's
layout (indexing scatters it, adding where an index repeats).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..dispatch import apply, apply_inplace
from ..tensor import Tensor
from ._helpers import normalize_dims
from .table import defop

__all__ = ["reshape", "view", "transpose", "t", "permute", "squeeze", "unsqueeze", "flatten", "cat", "concat",
           "stack", "expand", "clone", "to", "getitem", "scatter_add_index"]


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _reshape_forward(x, shape):
    try:
        return np.reshape(x, shape)
    except ValueError:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.size}") from None


VIEW = defop("ViewBackward0", _reshape_forward,
             (lambda g, ans, x, shape: reshape(g, x.shape), None),
             (lambda t, ans, x, shape: reshape(t, shape), None), saves=((), ()))
TRANSPOSE = defop("TransposeBackward0", lambda x, d0, d1: np.swapaxes(x, d0, d1),
                  (lambda g, ans, x, d0, d1: transpose(g, d0, d1), None, None),
                  (lambda t, ans, x, d0, d1: transpose(t, d0, d1), None, None), saves=((), (), ()))
T = defop("TBackward0", lambda x: np.transpose(x),
          (lambda g, ans, x: t(g),), (lambda tan, ans, x: t(tan),), saves=((),))
PERMUTE = defop("PermuteBackward0", lambda x, dims: np.transpose(x, dims),
                (lambda g, ans, x, dims: permute(g, tuple(np.argsort(dims))), None),
                (lambda t, ans, x, dims: permute(t, dims), None), saves=((), ()))
SQUEEZE = defop("SqueezeBackward0", lambda x: np.squeeze(x),
                (lambda g, ans, x: reshape(g, x.shape),), (lambda t, ans, x: squeeze(t),), saves=((),))
SQUEEZE_DIM = defop("SqueezeBackward1", lambda x, dims: np.squeeze(x, axis=dims),
                    (lambda g, ans, x, dims: reshape(g, x.shape), None),
                    (lambda t, ans, x, dims: _squeeze_dims(t, dims), None), saves=((), ()))
SQUEEZE_DIMS = defop("SqueezeBackward2", SQUEEZE_DIM.forward, SQUEEZE_DIM.vjps,
                     (lambda t, ans, x, dims: _squeeze_dims(t, dims), None), saves=((), ()))
UNSQUEEZE = defop("UnsqueezeBackward0", lambda x, dim: np.expand_dims(x, dim),
                  (lambda g, ans, x, dim: reshape(g, x.shape), None),
                  (lambda t, ans, x, dim: unsqueeze(t, dim), None), saves=((), ()))
# expand's VJP is the identity: the engine sums the cotangent back to the input's shape.
EXPAND = defop("ExpandBackward0", lambda x, shape: np.broadcast_to(x, shape),
               (lambda g, ans, x, shape: g, None), (lambda t, ans, x, shape: expand(t, shape), None),
               saves=((), ()))
CLONE = defop("CloneBackward0", lambda x: np.array(x, copy=True),
              (lambda g, ans, x: g,), (lambda t, ans, x: clone(t),), saves=((),))
TO_COPY = defop("ToCopyBackward0", lambda x, dtype: x.astype(dtype),
                (lambda g, ans, x, dtype: to(g, x.dtype), None),
                (lambda t, ans, x, dtype: to(t, dtype), None), saves=((), ()))


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


def _zeros_like(x):
    """Zeros of an input's shape and dtype (the input is an array or, when the rule records, a Tensor)."""
    data = x._data if isinstance(x, Tensor) else x
    return np.zeros(data.shape, dtype=data.dtype)


def _cat_tangent(i, t, xs, dim):
    return cat([t if j == i else _zeros_like(x) for j, x in enumerate(xs)], dim)


def _stack_tangent(i, t, xs, dim):
    return stack([t if j == i else _zeros_like(x) for j, x in enumerate(xs)], dim)


# -- indexing ----------------------------------------------------------------------------------------------------

def _scatter_forward(g, shape, index):
    out = np.zeros(shape, dtype=g.dtype)
    np.add.at(out, index, g)
    return out


# The VJP of indexing: the cotangent added into zeros at the indexed positions (repeats accumulate).
SCATTER = defop("IndexPutBackward0", _scatter_forward,
                (lambda g, ans, src, shape, index: getitem(g, index), None, None),
                (lambda t, ans, src, shape, index: scatter_add_index(t, shape, index), None, None),
                saves=((), (), ()))


def _index_rule(g, ans, x, index):
    return scatter_add_index(g, x.shape, index)


def _index_tangent(t, ans, x, index):
    return getitem(t, index)


def _index_forward(x, index):
    try:
        return x[index]
    except IndexError as error:      # torch says "dimension" where numpy says "axis"
        raise IndexError(str(error).replace(" axis ", " dimension ")) from None


_INDEX_OPS = {name: defop(name, _index_forward, (_index_rule, None), (_index_tangent, None),
                          saves=((), ()))
              for name in ("SelectBackward0", "SliceBackward0", "IndexBackward0", "AliasBackward0")}


def _index_name(index) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(p, (list, np.ndarray, Tensor)) for p in parts):
        return "IndexBackward0"
    last = [p for p in parts if p is not Ellipsis]
    if not last:
        return "AliasBackward0"
    p = last[-1]
    if p is None:
        return "UnsqueezeBackward0"
    if isinstance(p, slice):
        return "SliceBackward0"
    return "SelectBackward0"


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
    index = _normalize_index(index)
    name = _index_name(index)
    if name == "UnsqueezeBackward0":
        op = _INDEX_OPS["AliasBackward0"]
        out = apply(op, input, index)
        if isinstance(out, Tensor) and out.grad_fn is not None:
            out.grad_fn.name_override = "UnsqueezeBackward0"
        return out
    return apply(_INDEX_OPS[name], input, index)


def _put_forward(x, index, value):
    out = x.copy()
    try:
        out[index] = value
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(value))} cannot be broadcast to "
                           f"indexing result of shape {list(np.shape(x[index]))}") from None
    return out


def _blank(g, index):
    """``g`` with zeros at ``index``: the overwritten positions pass no gradient to the old tensor."""
    return put(g, index, 0.0)


# x[index] = value: the old values at index get no gradient, value gets the cotangent there (summed back to its
# shape by the engine when it was broadcast)
PUT = defop("CopySlices", _put_forward,
            (lambda g, ans, x, index, value: _blank(g, index), None,
             lambda g, ans, x, index, value: getitem(g, index)),
            (lambda t, ans, x, index, value: _blank(t, index), None,
             lambda t, ans, x, index, value: put(_zeros_like(ans), index, expand(t, np.shape(_data(ans)[index])))),
            saves=((), (), ()))


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def put(input, index, value):
    """``input`` with ``input[index] = value``, out of place (the rule behind ``Tensor.__setitem__``)."""
    return apply(PUT, input, _normalize_index(index), value)


def setitem(input, index, value):
    """``input[index] = value`` in place, recorded as torch records it (CopySlices)."""
    apply_inplace(input, PUT, _normalize_index(index), value)


def scatter_add_index(src, shape, index):
    return apply(SCATTER, src, tuple(shape), index)


# -- public functions ---------------------------------------------------------------------------------------------

def reshape(input, *shape):
    shape = _shape_arg(shape)
    if isinstance(input, Tensor):
        return apply(VIEW, input, shape)
    return np.reshape(input, shape)


view = reshape


def transpose(input, dim0, dim1):
    d0, d1 = normalize_dims((dim0, dim1), input.ndim)
    return apply(TRANSPOSE, input, d0, d1)


def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return apply(T, input)


def permute(input, *dims):
    dims = normalize_dims(_shape_arg(dims), input.ndim)
    if sorted(dims) != list(range(input.ndim)):
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           "length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{input.ndim} is not equal to len(dims) = {len(dims)}")
    return apply(PERMUTE, input, dims)


def squeeze(input, dim=None):
    if dim is None:
        return apply(SQUEEZE, input)
    dims = normalize_dims(dim, input.ndim)
    return _squeeze_dims(input, dims, op=SQUEEZE_DIM if isinstance(dim, (int, np.integer)) else SQUEEZE_DIMS)


def _squeeze_dims(input, dims, op=None):
    dims = tuple(d for d in dims if input.ndim and input.shape[d] == 1)
    return apply(op or SQUEEZE_DIM, input, dims)


def unsqueeze(input, dim):
    n = input.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return apply(UNSQUEEZE, input, dim % n)


def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, (1,))
    start, end = normalize_dims((start_dim, end_dim), input.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = input.shape
    new = shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]
    return reshape(input, new)


def expand(input, *sizes):
    sizes = _shape_arg(sizes)
    shape = input.shape
    lead = len(sizes) - len(shape)
    full = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    if lead < 0:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
                           f"tensor ({len(shape)})")
    for i, n in enumerate(shape):
        if n != 1 and n != full[lead + i]:
            raise RuntimeError(f"The expanded size of the tensor ({full[lead + i]}) must match the existing size "
                               f"({n}) at non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  "
                               f"Tensor sizes: {list(shape)}")
    if full == tuple(shape):
        return input if not isinstance(input, Tensor) else apply(EXPAND, input, full)
    return apply(EXPAND, input, full)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    nd = max(np.ndim(x._data if isinstance(x, Tensor) else x) for x in tensors)
    (d,) = normalize_dims(dim, nd)
    return apply(CAT, *tensors, dim=d)


concat = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    nd = np.ndim(tensors[0]._data if isinstance(tensors[0], Tensor) else tensors[0]) + 1
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})")
    return apply(STACK, *tensors, dim=dim % nd)


def clone(input):
    return apply(CLONE, input)


def to(input, dtype):
    np_dtype = dtypes.to_numpy(dtype)
    if isinstance(input, Tensor):
        if input._data.dtype == np_dtype:
            return input
        return apply(TO_COPY, input, np_dtype)
    return np.asarray(input).astype(np_dtype, copy=False)
