"""The whitelisted functions: name -> (accepted argument counts, the autodiff call, what it computes).

Every entry calls a public ``autodiff`` function, so values and gradients are torch's. Reductions reduce over
all elements and return a scalar; ``softmax`` works along the last dimension.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import autodiff as ad


@dataclass(frozen=True, slots=True)
class Function:
    arities: tuple[int, ...]
    call: Callable[..., ad.Tensor]
    meaning: str


def _max(x, y=None):
    return ad.max(x) if y is None else ad.maximum(x, y)


def _min(x, y=None):
    return ad.min(x) if y is None else ad.minimum(x, y)


def _softmax(x):
    # The engine's softmax backward fails on 0-d tensors (torch's gives 0); a 1-element view is the same math.
    return ad.softmax(x.reshape(1), -1).reshape(()) if x.ndim == 0 else ad.softmax(x, -1)


def _logsumexp(x):
    return ad.logsumexp(x.reshape(-1), 0)


FUNCTIONS: dict[str, Function] = {
    "abs": Function((1,), ad.abs, "|x| elementwise"),
    "cos": Function((1,), ad.cos, "cosine elementwise"),
    "exp": Function((1,), ad.exp, "e**x elementwise"),
    "log": Function((1,), ad.log, "natural logarithm elementwise"),
    "relu": Function((1,), ad.relu, "max(x, 0) elementwise"),
    "sigmoid": Function((1,), ad.sigmoid, "1 / (1 + exp(-x)) elementwise"),
    "sin": Function((1,), ad.sin, "sine elementwise"),
    "sqrt": Function((1,), ad.sqrt, "square root elementwise"),
    "square": Function((1,), ad.square, "x**2 elementwise"),
    "tan": Function((1,), ad.tan, "tangent elementwise"),
    "tanh": Function((1,), ad.tanh, "hyperbolic tangent elementwise"),
    "sum": Function((1,), ad.sum, "sum of all elements"),
    "mean": Function((1,), ad.mean, "mean of all elements"),
    "prod": Function((1,), ad.prod, "product of all elements"),
    "norm": Function((1,), ad.norm, "Euclidean (2-)norm of all elements"),
    "logsumexp": Function((1,), _logsumexp, "log(sum(exp(x))) over all elements, computed stably"),
    "softmax": Function((1,), _softmax, "softmax along the last dimension"),
    "max": Function((1, 2), _max, "max(x): largest element; max(x, y): elementwise maximum"),
    "min": Function((1, 2), _min, "min(x): smallest element; min(x, y): elementwise minimum"),
    "dot": Function((2,), ad.dot, "inner product of two 1-D tensors of equal length"),
}
