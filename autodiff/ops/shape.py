"""Shape ops: views, transposes, squeezing, concatenation, indexing, casts and copies.

All are linear, so each JVP applies the op to the tangent; each VJP moves the cotangent back to the input's
layout (indexing scatters it, adding where an index repeats).
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..dispatch import apply
from ..tensor import Tensor
from ..inplace import apply_inplace
from ..views import apply_view
from ._helpers import normalize_dims
from .compound import COPY
from .declare import declare, defop

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
def _expand_forward(x, shape):
    if np.size(x) == math.prod(shape):     # nothing repeated (only leading 1s added): a plain view
        return np.reshape(x, shape)
    out = np.broadcast_to(x, shape)
    # numpy's broadcast is read-only, and so would be any view of it: torch writes through the non-repeating
    # views of an expanded tensor (e[0] of x.expand(2, 3)), so keep a writeable one (apply_inplace refuses to
    # write into one that repeats elements)
    return np.lib.stride_tricks.as_strided(x, out.shape, out.strides) if x.flags.writeable else out


EXPAND = defop("ExpandBackward0", _expand_forward,
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
    return index_put(_zeros_like(ans), index, expand(t, region) if np.shape(_data(t)) != region else t,
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


_INDEX_OPS = {name: defop(name, _index_forward, (_index_rule, None), (_index_tangent, None),
                          saves=((), ()))
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
        _expanded_shape(shape, tuple(region.shape), value._data.dtype)   # torch's error if it does not fit
        value = reshape(value, shape) if shape != tuple(value.shape) else value
    apply_inplace(region, COPY, value)


def scatter_add_index(src, shape, index):
    """Zeros of ``shape`` with ``src`` added at ``index`` (repeats accumulate): the VJP of indexing."""
    return apply(INDEX_PUT, np.zeros(shape, dtype=_data(src).dtype), index, src, accumulate=True)


# -- public functions ---------------------------------------------------------------------------------------------

@declare("reshape")
def reshape(input, *shape):
    shape = _shape_arg(shape)
    if isinstance(input, Tensor):
        return apply_view(VIEW, input, shape, may_copy=True)
    return np.reshape(input, shape)


view = declare("view", reshape, function=False)   # only Tensor.view, as torch


@declare("transpose")
def transpose(input, dim0, dim1):
    d0, d1 = normalize_dims((dim0, dim1), input.ndim)
    return apply_view(TRANSPOSE, input, d0, d1)


@declare("t")
def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return apply_view(T, input)


@declare("permute")
def permute(input, *dims):
    dims = normalize_dims(_shape_arg(dims), input.ndim)
    if sorted(dims) != list(range(input.ndim)):
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           "length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{input.ndim} is not equal to len(dims) = {len(dims)}")
    return apply_view(PERMUTE, input, dims)


@declare("squeeze")
def squeeze(input, dim=None):
    if dim is None:
        return apply_view(SQUEEZE, input)
    dims = normalize_dims(dim, input.ndim)
    return _squeeze_dims(input, dims, op=SQUEEZE_DIM if isinstance(dim, (int, np.integer)) else SQUEEZE_DIMS)


def _squeeze_dims(input, dims, op=None):
    dims = tuple(d for d in dims if input.ndim and input.shape[d] == 1)
    return apply_view(op or SQUEEZE_DIM, input, dims)


@declare("unsqueeze")
def unsqueeze(input, dim):
    n = input.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return apply_view(UNSQUEEZE, input, dim % n)


@declare("flatten")
def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, (1,))
    start, end = normalize_dims((start_dim, end_dim), input.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = input.shape
    new = shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]
    return reshape(input, new)


def _expanded_shape(shape, sizes, dtype=None):
    """The shape ``expand(sizes)`` gives a tensor of ``shape``, or torch's error."""
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand(autodiff.{dtypes.type_name(dtype or np.float32)}Tensor{{{list(shape)}}}, "
                           f"size={list(sizes)}): the number of sizes provided ({len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({len(shape)})")
    full = tuple(shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, n in enumerate(shape):
        if n != 1 and n != full[lead + i]:
            raise RuntimeError(f"The expanded size of the tensor ({full[lead + i]}) must match the existing size "
                               f"({n}) at non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  "
                               f"Tensor sizes: {list(shape)}")
    return full


@declare("expand", function=False)
def expand(input, *sizes):
    full = _expanded_shape(tuple(input.shape), _shape_arg(sizes), _data(input).dtype)
    if full == tuple(input.shape) and not isinstance(input, Tensor):
        return input
    return apply_view(EXPAND, input, full)


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


@declare("clone")
def clone(input):
    return apply(CLONE, input)


def to(input, dtype):
    np_dtype = dtypes.to_numpy(dtype)
    if isinstance(input, Tensor):
        if input._data.dtype == np_dtype:
            return input
        return apply(TO_COPY, input, np_dtype)
    return np.asarray(input).astype(np_dtype, copy=False)
