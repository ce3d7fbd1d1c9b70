"""Shape ops: views, transposes, squeezing, expanding, casts and copies (concatenation is in ``concat.py``,
indexing in ``indexing.py``).

All are linear, so each JVP applies the op to the tangent; each VJP moves the cotangent back to the input's
layout (indexing scatters it, adding where an index repeats).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import dtypes
from ..dispatch import apply
from ..tensor import Tensor
from ..views import apply_view
from ._helpers import normalize_dims
from .declare import declare, defop

def _data(x):
    return x._data if isinstance(x, Tensor) else x


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
                (lambda g, ans, x: reshape(g, x.shape),), (lambda t, ans, x: squeeze(t),), saves=((),),
                grad_names=("UnsqueezeBackward0",))
SQUEEZE_DIM = defop("SqueezeBackward1", lambda x, dims: np.squeeze(x, axis=dims),
                    (lambda g, ans, x, dims: reshape(g, x.shape), None),
                    (lambda t, ans, x, dims: _squeeze_dims(t, dims), None), saves=((), ()),
                    grad_names=("UnsqueezeBackward0", None))
SQUEEZE_DIMS = defop("SqueezeBackward2", SQUEEZE_DIM.forward, SQUEEZE_DIM.vjps,
                     (lambda t, ans, x, dims: _squeeze_dims(t, dims), None), saves=((), ()),
                     grad_names=("UnsqueezeBackward0", None))
UNSQUEEZE = defop("UnsqueezeBackward0", lambda x, dim: np.expand_dims(x, dim),
                  (lambda g, ans, x, dim: reshape(g, x.shape), None),
                  (lambda t, ans, x, dim: unsqueeze(t, dim), None), saves=((), ()),
                  grad_names=("SqueezeBackward1", None))
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
def _repeat_vjp(g, ans, x, repeats):
    """Sum the cotangent over the copies: each dimension split into (repeats, size), the repeats summed."""
    lead = len(repeats) - x.ndim
    shape = (1,) * lead + tuple(x.shape)
    split = tuple(n for pair in zip(repeats, shape) for n in pair)
    summed = _sum_dims(reshape(g, split), tuple(range(0, 2 * len(shape), 2)))
    return reshape(summed, x.shape)


REPEAT = defop("RepeatBackward0", lambda x, repeats: np.tile(x, repeats),
               (_repeat_vjp, None), (lambda t, ans, x, repeats: repeat(t, *repeats), None), saves=((), ()))
CLONE = defop("CloneBackward0", lambda x: np.array(x, copy=True),
              (lambda g, ans, x: g,), (lambda t, ans, x: clone(t),), saves=((),))
TO_COPY = defop("ToCopyBackward0", lambda x, dtype: x.astype(dtype),
                (lambda g, ans, x, dtype: to(g, x.dtype), None),
                (lambda t, ans, x, dtype: to(t, dtype), None), saves=((), ()))


# -- public functions ---------------------------------------------------------------------------------------------

@declare("reshape")
def reshape(input, *shape):
    shape = _shape_arg(shape)
    if isinstance(input, Tensor):
        return apply_view(VIEW, input, shape, may_copy=True)
    return np.reshape(input, shape)


view = declare("view", reshape, function=False)   # only Tensor.view, as torch


@declare("transpose", aliases=("swapaxes", "swapdims"))
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


def expanded_shape(shape, sizes, dtype=None):
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
    full = expanded_shape(tuple(input.shape), _shape_arg(sizes), _data(input).dtype)
    if full == tuple(input.shape) and not isinstance(input, Tensor):
        return input
    return apply_view(EXPAND, input, full)


@declare("repeat", function=False)
def repeat(input, *repeats):
    repeats = _shape_arg(repeats)
    if len(repeats) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    return apply(REPEAT, input, repeats)


@declare("meshgrid", method=False)
def meshgrid(*tensors, indexing=None):
    """Coordinate grids, each input expanded along the others' dimensions (views, as torch's)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t!r}")
    swap = indexing == "xy" and len(tensors) >= 2
    order = (tensors[1], tensors[0]) + tuple(tensors[2:]) if swap else tuple(tensors)
    shape = tuple(t.numel() for t in order)
    grids = []
    for i, t in enumerate(order):
        view = (1,) * i + (-1,) + (1,) * (len(order) - i - 1)
        grids.append(expand(reshape(t, view), shape))
    if swap:                     # torch's "xy": the first two inputs swapped, then their grids swapped back
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


@declare("clone")
def clone(input):
    return apply(CLONE, input)


def _sum_dims(x, dims):
    # the reductions are a layer above: summing through numpy on arrays, through the table's sum on tensors
    if isinstance(x, Tensor):
        return x.sum(dims) if dims else x
    return np.sum(x, axis=dims) if dims else x


def to(input, dtype):
    np_dtype = dtypes.to_numpy(dtype)
    if isinstance(input, Tensor):
        if input._data.dtype == np_dtype:
            return input
        return apply(TO_COPY, input, np_dtype)
    return np.asarray(input).astype(np_dtype, copy=False)
