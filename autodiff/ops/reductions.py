"""Reductions: sum, mean, prod, max/min, amax/amin, norm, var, std (softmax and logsumexp: ``softmax.py``).

A reduction's VJP broadcasts the cotangent back over the reduced dimensions (``_restore``); the JVP of a linear
reduction is the reduction of the tangent.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from .. import return_types
from ..dispatch import apply
from ..dtypes import type_name
from ..tensor import Tensor
from ._helpers import normalize_dims, quiet
from .declare import declare, defop
from .elementwise import abs, sign
from .selection import maximum, minimum, where
from .shape import expand, permute, reshape, to



def _restore(g, x, dims, keepdim):
    """Reshape a reduced cotangent so it broadcasts against the input ``x`` (keepdim semantics)."""
    if dims is None:
        return g
    if keepdim:
        return g
    shape = list(x.shape)
    for d in dims:
        shape[d] = 1
    return g.reshape(tuple(shape))


def _expand(g, shape):
    if isinstance(g, Tensor):
        return expand(g, shape)
    if math.prod(shape) > 4096:
        return np.broadcast_to(g, shape)   # a view: large cotangents are never written out
    out = np.empty(shape, dtype=g.dtype)   # cheaper than np.broadcast_to for small shapes
    out[...] = g
    return out


def _sum_forward(x, dims=None, keepdim=False):
    # np.add.reduce is what np.sum runs, without its Python wrapper (a microsecond per call)
    if x.dtype.kind in "bi":
        return np.add.reduce(x, axis=dims, keepdims=keepdim, dtype=np.int64)
    return np.add.reduce(x, axis=dims, keepdims=keepdim)


SUM = defop("SumBackward0", _sum_forward,
            (lambda g, ans, x, dims=None, keepdim=False: _expand(_restore(g, x, dims, keepdim), x.shape),),
            (lambda t, ans, x, dims=None, keepdim=False: sum(t, dims, keepdim),),
            saves=((),))
SUM_DIM = defop("SumBackward1", _sum_forward, SUM.vjps, SUM.jvps, saves=((),))


def _count(x, dims):
    if dims is None:
        return math.prod(x.shape)
    n = 1
    for d in dims:
        n *= x.shape[d]
    return n


def _mean_forward(x, dims=None, keepdim=False):
    if x.dtype == np.float16:           # numpy accumulates half precision in single: its own mean
        return np.mean(x, axis=dims, keepdims=keepdim)
    # what np.mean computes (a sum in the input's precision, divided by the count), without its Python wrapper
    count = _count(x, dims)
    if count == 0:                     # nan, silently (as torch)
        with np.errstate(all="ignore"):
            return np.true_divide(np.add.reduce(x, axis=dims, keepdims=keepdim), count)
    return np.true_divide(np.add.reduce(x, axis=dims, keepdims=keepdim), count)


MEAN = defop("MeanBackward0", _mean_forward,
             (lambda g, ans, x, dims=None, keepdim=False:
              _expand(_restore(g, x, dims, keepdim), x.shape) / _count(x, dims),),
             (lambda t, ans, x, dims=None, keepdim=False: mean(t, dims, keepdim),),
             saves=((),))
MEAN_DIM = defop("MeanBackward1", MEAN.forward, MEAN.vjps, MEAN.jvps, saves=((),))


def _prod_grad(x, ans, dims, keepdim):
    """d prod / d x_i = product of the other elements, exact also where x has zeros."""
    xd = x._data if isinstance(x, Tensor) else x
    if not np.any(xd == 0):
        return _restore(ans, x, dims, keepdim) / x
    axes = tuple(range(xd.ndim)) if dims is None else dims
    if isinstance(x, Tensor):
        return _others_product_recorded(x, axes)
    # with zeros: product of the others from prefix and suffix products, without dividing
    moved = np.moveaxis(xd, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
    left = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), np.flip(flat, -1)[..., :-1]],
                                              axis=-1), axis=-1), -1)
    others = (left * right).reshape(moved.shape)
    return np.moveaxis(others, tuple(range(-len(axes), 0)), axes)


def _others_product_recorded(x, axes):
    """The product of the other elements, as recorded ops (so it differentiates again, zeros included).

    The reduced axes are moved last and flattened to n; row i of an (n, n) matrix holds x with x_i replaced by 1,
    and its product is the i-th "others" product.
    """
    kept = tuple(d for d in range(x.ndim) if d not in axes)
    order = kept + tuple(axes)
    moved = permute(x, order)
    kept_shape = tuple(x.shape[d] for d in kept)
    n = int(np.prod([x.shape[d] for d in axes]))
    flat = reshape(moved, kept_shape + (1, n))
    others = prod(where(np.eye(n, dtype=bool), 1.0, flat), -1)
    others = reshape(others, kept_shape + tuple(x.shape[d] for d in axes))
    return permute(others, tuple(np.argsort(order)))


PROD = defop("ProdBackward0", lambda x, dims=None, keepdim=False: np.prod(x, axis=dims, keepdims=keepdim),
             (lambda g, ans, x, dims=None, keepdim=False:
              _restore(g, x, dims, keepdim) * _prod_grad(x, ans, dims, keepdim),),
             (lambda t, ans, x, dims=None, keepdim=False:
              sum(t * _prod_grad(x, ans, dims, keepdim), dims, keepdim),),
             saves=((-1, 0),))
PROD_DIM = defop("ProdBackward1", PROD.forward, PROD.vjps, PROD.jvps, saves=((-1, 0),))


def _extreme_share(x, ans, dims, keepdim):
    """Where x attains the reduced extreme, 1/count of ties (torch's evenly distributed gradient)."""
    hit = to(x == _restore(ans, x, dims, keepdim), x.dtype)   # in x's dtype, so the cotangent keeps its own
    count = sum(hit, dims, True) if dims is not None else sum(hit)
    return hit / count


def _extreme_op(name, fn):
    return defop(name, lambda x, dims=None, keepdim=False: fn(x, axis=dims, keepdims=keepdim),
                 (lambda g, ans, x, dims=None, keepdim=False:
                  _restore(g, x, dims, keepdim) * _extreme_share(x, ans, dims, keepdim),),
                 (lambda t, ans, x, dims=None, keepdim=False:
                  sum(t * _extreme_share(x, ans, dims, keepdim), dims, keepdim),),
                 saves=((-1, 0),))


MAX_ALL = _extreme_op("MaxBackward1", np.max)
MIN_ALL = _extreme_op("MinBackward1", np.min)
AMAX = _extreme_op("AmaxBackward0", np.amax)
AMIN = _extreme_op("AminBackward0", np.amin)


def _select_at(x, indices, dim, keepdim):
    """A mask of x that is 1 at ``indices`` along ``dim`` (the positions max(dim)/min(dim) chose)."""
    xd = x._data if isinstance(x, Tensor) else x
    idx = indices if keepdim else np.expand_dims(indices, dim)
    mask = np.zeros(xd.shape, dtype=xd.dtype)
    np.put_along_axis(mask, idx, 1, axis=dim)
    return mask


def _indexed_extreme_op(name):
    return defop(name, lambda x, indices, dim, keepdim: np.take_along_axis(
                     x, indices if keepdim else np.expand_dims(indices, dim), axis=dim).reshape(indices.shape),
                 (lambda g, ans, x, indices, dim, keepdim:
                  _restore(g, x, (dim,), keepdim) * _select_at(x, indices, dim, keepdim), None, None, None),
                 (lambda t, ans, x, indices, dim, keepdim:
                  sum(t * _select_at(x, indices, dim, keepdim), (dim,), keepdim), None, None, None),
                 saves=((0,), (), (), ()))


MAX_DIM = _indexed_extreme_op("MaxBackward0")
MIN_DIM = _indexed_extreme_op("MinBackward0")


def _norm_forward(x, ord=2, dims=None, keepdim=False):
    a = np.abs(x)
    if ord == 2:
        return np.sqrt(np.sum(x * x, axis=dims, keepdims=keepdim))
    if ord == float("inf"):
        return np.max(a, axis=dims, keepdims=keepdim)
    if ord == -float("inf"):
        return np.min(a, axis=dims, keepdims=keepdim)
    if ord == 0:
        return np.sum(a != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
    if ord == 1:
        return np.sum(a, axis=dims, keepdims=keepdim)
    return np.power(np.sum(np.power(a, ord), axis=dims, keepdims=keepdim), 1.0 / ord).astype(x.dtype, copy=False)


@quiet        # 0/0 where the norm is 0: masked to torch's 0 (its double backward keeps torch's nan)
def _norm_partial(ans, x, ord, dims, keepdim):
    r = _restore(ans, x, dims, keepdim)
    if ord == 2:
        return where(r == 0, 0.0, x / r)
    if ord == 1:
        return sign(x)
    if ord == 0:
        return x * 0
    if ord in (float("inf"), -float("inf")):
        return sign(x) * _extreme_share(abs(x), ans, dims, keepdim)
    return where(r == 0, 0.0, sign(x) * abs(x) ** (ord - 1) / r ** (ord - 1))


NORM = defop("LinalgVectorNormBackward0", quiet(_norm_forward),
             (lambda g, ans, x, ord=2, dims=None, keepdim=False:
              _restore(g, x, dims, keepdim) * _norm_partial(ans, x, ord, dims, keepdim),),
             (lambda t, ans, x, ord=2, dims=None, keepdim=False:
              sum(t * _norm_partial(ans, x, ord, dims, keepdim), dims, keepdim),),
             saves=((-1, 0),))


def _var_forward(x, dims, correction, keepdim):
    centered = x - np.mean(x, axis=dims, keepdims=True)
    dof = builtins.max(_count(x, dims) - correction, 0)
    return np.sum(centered * centered, axis=dims, keepdims=keepdim) / dof


def _var_partial(x, dims, correction):
    """d var / d x = 2 (x - mean) / (N - correction)."""
    return (2.0 / (_count(x, dims) - correction)) * (x - mean(x, dims, True))


VAR = defop("VarBackward0", quiet(_var_forward),
            (lambda g, ans, x, dims, correction, keepdim:
             _restore(g, x, dims, keepdim) * _var_partial(x, dims, correction), None, None, None),
            (lambda t, ans, x, dims, correction, keepdim:
             sum(t * _var_partial(x, dims, correction), dims, keepdim), None, None, None),
            saves=((0,), (), (), ()))
# std = sqrt(var): the var rules scaled by 1 / (2 std), and 0 where std is 0 (as torch)
STD = defop("StdBackward0", quiet(lambda x, dims, correction, keepdim: np.sqrt(_var_forward(x, dims, correction,
                                                                                           keepdim))),
            (quiet(lambda g, ans, x, dims, correction, keepdim:
                   _restore(where(ans == 0, 0.0, g / (2 * ans)), x, dims, keepdim) * _var_partial(x, dims, correction)),
             None, None, None),
            (quiet(lambda t, ans, x, dims, correction, keepdim:
                   where(ans == 0, 0.0, sum(t * _var_partial(x, dims, correction), dims, keepdim) / (2 * ans))),
             None, None, None),
            saves=((-1, 0), (), (), ()))


# -- public functions --------------------------------------------------------------------------------------------

@declare("sum")
def sum(input, dim=None, keepdim=False, *, dtype=None):
    dims = normalize_dims(dim, input.ndim) if dim is not None and dim != () else None
    if dim == ():                           # torch reduces over everything, recorded as the dim overload
        out = apply(SUM_DIM, input, None, keepdim)
    elif dims is None and not keepdim:
        out = apply(SUM, input)
    else:
        out = apply(SUM_DIM if dims is not None else SUM, input, dims, keepdim)
    return out if dtype is None else out.to(dtype)


@declare("mean")
def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    data = input._data if isinstance(input, Tensor) else input
    if data.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {_type_name(input)}")
    dims = normalize_dims(dim, input.ndim) if dim is not None and dim != () else None
    if dims is None and not keepdim:
        return apply(MEAN, input)
    return apply(MEAN_DIM if dims is not None else MEAN, input, dims, keepdim)


@declare("prod")
def prod(input, dim=None, keepdim=False, *, dtype=None):
    if dim is None:
        out = apply(PROD, input)
    else:
        out = apply(PROD_DIM, input, normalize_dims(dim, input.ndim), keepdim)
    return out if dtype is None else out.to(dtype)


def _extreme(input, dim, keepdim, other, full_op, dim_op, pairwise, argfn, name):
    if isinstance(dim, Tensor) and other is None:
        return pairwise(input, dim)
    if other is not None:
        return pairwise(input, other)
    if dim is None:
        if input.size == 0 if isinstance(input, np.ndarray) else input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               f"Specify the reduction dim with the 'dim' argument.")
        return apply(full_op, input)
    (d,) = normalize_dims(dim, input.ndim)
    data = input._data if isinstance(input, Tensor) else input
    indices = argfn(data, axis=d, keepdims=keepdim) if data.ndim else np.zeros((), dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64)
    if data.ndim == 0:
        values = apply(full_op, input)
    else:
        values = apply(dim_op, input, indices, d, keepdim)
    pair = return_types.max if full_op is MAX_ALL else return_types.min
    return pair(values, Tensor._from_array(indices) if isinstance(input, Tensor) else indices)


@declare("max")
def max(input, dim=None, keepdim=False, *, other=None):
    return _extreme(input, dim, keepdim, other, MAX_ALL, MAX_DIM, maximum, np.argmax, "max")


@declare("min")
def min(input, dim=None, keepdim=False, *, other=None):
    return _extreme(input, dim, keepdim, other, MIN_ALL, MIN_DIM, minimum, np.argmin, "min")


@declare("amax")
def amax(input, dim=(), keepdim=False):
    dims = normalize_dims(dim, input.ndim) if dim not in (None, ()) else None
    return apply(AMAX, input, dims, keepdim)


@declare("amin")
def amin(input, dim=(), keepdim=False):
    dims = normalize_dims(dim, input.ndim) if dim not in (None, ()) else None
    return apply(AMIN, input, dims, keepdim)


@declare("norm")
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    ord = 2 if p in ("fro", None) else p
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(input)}")
    if ord == "nuc":
        raise NotImplementedError("the nuclear norm is not supported")
    dims = normalize_dims(dim, input.ndim) if dim is not None else None
    if p == "fro" and dims is not None and len(dims) > 2:   # torch takes "fro" over >2 dims as a matrix norm
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    if dims is None and not keepdim and ord == 2:
        return apply(NORM, input)
    return apply(NORM, input, ord, dims, keepdim)


def _var_args(input, dim, unbiased, keepdim, correction):
    """torch's two signatures: var(x, dim, *, correction, keepdim) and the legacy var(x, dim, unbiased, keepdim)."""
    if isinstance(dim, bool):               # var(x, unbiased)
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    elif unbiased is not None:
        raise RuntimeError("var: cannot specify both unbiased and correction")
    dims = normalize_dims(dim, input.ndim) if dim not in (None, ()) else None
    return dims, correction, keepdim


@declare("var")
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` (all by default): sum((x - mean)**2) / (N - correction)."""
    return apply(VAR, input, *_var_args(input, dim, unbiased, keepdim, correction))


@declare("std")
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: sqrt(var(input, dim, correction=correction))."""
    return apply(STD, input, *_var_args(input, dim, unbiased, keepdim, correction))


def _type_name(x):
    return type_name(x._data.dtype if isinstance(x, Tensor) else x.dtype)
