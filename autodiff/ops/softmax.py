"""Softmax, log-softmax and logsumexp: reductions of exponentials, computed shifted by the maximum for stability."""
from __future__ import annotations

import numpy as np

from ..dispatch import apply
from ._helpers import normalize_dims, quiet
from .declare import declare, defop
from .elementwise import exp
from .reductions import _restore, sum


def _logsumexp_forward(x, dims, keepdim=False):
    m = np.max(x, axis=dims, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=dims)


LOGSUMEXP = defop("LogsumexpBackward0", quiet(_logsumexp_forward),
                  (lambda g, ans, x, dims, keepdim=False:
                   _restore(g, x, dims, keepdim) * exp(x - _restore(ans, x, dims, keepdim)),),
                  (lambda t, ans, x, dims, keepdim=False:
                   sum(t * exp(x - _restore(ans, x, dims, keepdim)), dims, keepdim),),
                  saves=((-1, 0),))


def _softmax_forward(x, dim):
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _log_softmax_forward(x, dim):
    shifted = x - np.max(x, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def _softmax_rule(g, ans, x, dim):
    return ans * (g - sum(g * ans, (dim,), True))


def _log_softmax_rule(g, ans, x, dim):
    return g - exp(ans) * sum(g, (dim,), True)


SOFTMAX = defop("SoftmaxBackward0", quiet(_softmax_forward), (_softmax_rule,), (_softmax_rule,), saves=((-1,),),
                grad_names=("SoftmaxBackwardDataBackward0",))
LOG_SOFTMAX = defop("LogSoftmaxBackward0", quiet(_log_softmax_forward), (_log_softmax_rule,),
                    (lambda t, ans, x, dim: t - sum(exp(ans) * t, (dim,), True),), saves=((-1,),),
                    grad_names=("LogSoftmaxBackwardDataBackward0",))


@declare("logsumexp")
def logsumexp(input, dim, keepdim=False):
    return apply(LOGSUMEXP, input, normalize_dims(dim, input.ndim), keepdim)


@declare("softmax")
def softmax(input, dim, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    (d,) = normalize_dims(dim, input.ndim)
    return apply(SOFTMAX, input, d)


@declare("log_softmax")
def log_softmax(input, dim, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    (d,) = normalize_dims(dim, input.ndim)
    return apply(LOG_SOFTMAX, input, d)
