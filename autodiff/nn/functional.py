"""``nn.functional``: the layers and losses as functions, written with the engine's ops (so they differentiate in
both modes and to any order). The result's grad_fn carries torch's name (``MseLossBackward0``, ...)."""
from __future__ import annotations

import warnings

import numpy as np

from .. import creation
from ..ops.elementwise import exp, relu as _relu, sigmoid, tanh
from ..dispatch import apply
from ..ops.indexing import getitem
from ..ops.linalg import matmul
from ..ops.losses import MSE_LOSS
from ..ops.reductions import mean, sum
from ..ops.shape import permute, reshape, t
from ..ops.softmax import log_softmax as _log_softmax, softmax as _softmax
from ..ops.special import log1p
from ..tensor import Tensor

__all__ = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout", "mse_loss", "cross_entropy",
           "nll_loss", "binary_cross_entropy_with_logits"]
_REDUCTIONS = ("none", "mean", "sum")


def _named(out, name):
    """Give the last node torch's name for the whole function (its inner ops are the same arithmetic)."""
    if isinstance(out, Tensor) and out.grad_fn is not None:
        out.grad_fn.name_override = name
    return out


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``."""
    out = matmul(input, t(weight))
    if bias is None:
        return out
    return _named(out + bias, "AddmmBackward0") if input.ndim == 2 else out + bias


def relu(input, inplace=False):
    return input.relu_() if inplace else _relu(input)


def _implicit_dim(ndim, name):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
                  "argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax(input, _implicit_dim(input.ndim, "softmax") if dim is None else dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _log_softmax(input, _implicit_dim(input.ndim, "log_softmax") if dim is None else dim, dtype)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` (the engine's generator) and scale the rest by 1/(1-p)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    keep = creation.default_generator.rng.random(input.shape) >= p
    scale = np.where(keep, 1.0 / (1.0 - p) if p < 1.0 else 0.0, 0.0).astype(input._data.dtype)
    return input.mul_(Tensor._from_array(scale)) if inplace else input * Tensor._from_array(scale)


def _reduce(loss, reduction, name):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    out = loss if reduction == "none" else mean(loss) if reduction == "mean" else sum(loss)
    return _named(out, name)


def _legacy_reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else "mean" if size_average else "sum"


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=2)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if weight is None:
        return apply(MSE_LOSS, input, target, reduction)
    diff = input - target
    return _reduce(weight * (diff * diff), reduction, "MseLossBackward0")


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """-w [pos_weight * y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], computed stably from the logits."""
    if input.shape != target.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    softplus_neg = log1p(exp(-abs(input))) + _relu(-input)        # log(1 + exp(-x)), stable for any x
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _legacy_reduction(size_average, reduce, reduction),
                   "BinaryCrossEntropyWithLogitsBackward0")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """The negative log-likelihood of class indices ``target`` under log-probabilities ``input`` (N, C, ...)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    logp, labels, shape = _classes_last(input, target)
    valid = labels != ignore_index
    safe = np.where(valid, labels, 0)
    n_classes = logp.shape[-1]
    if np.any((safe < 0) | (safe >= n_classes)):
        raise IndexError(f"Target {int(safe[(safe < 0) | (safe >= n_classes)][0])} is out of bounds.")
    picked = getitem(logp, (np.arange(len(safe)), safe))
    w = np.where(valid, 1.0 if weight is None else weight.numpy(force=True)[safe], 0.0).astype(picked._data.dtype)
    losses = -picked * Tensor._from_array(w)
    name = "NllLoss2DBackward0" if input.ndim > 2 else "NllLossBackward0"   # torch's spatial kernel
    if reduction == "none":
        return _named(reshape(losses, shape), name)
    total = sum(losses)
    return _named(total if reduction == "sum" else total / w.sum(), name)


def _classes_last(input, target):
    """(N·d, C) scores and (N·d,) labels from (N, C, d...) or (C,) input; and the shape of unreduced losses."""
    labels = target.numpy(force=True) if isinstance(target, Tensor) else np.asarray(target)
    if labels.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}".replace("autodiff.", ""))
    if input.ndim == 1:
        return reshape(input, (1, -1)), labels.reshape(1), ()
    if input.ndim > 2:
        order = (0,) + tuple(range(2, input.ndim)) + (1,)
        moved = permute(input, order)
        return reshape(moved, (-1, input.shape[1])), labels.reshape(-1), tuple(labels.shape)
    if labels.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({labels.shape[0]}).")
    return input, labels, tuple(labels.shape)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` (N, C, ...) or (C,) against class indices or probabilities."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    dim = 0 if input.ndim == 1 else 1
    logp = _log_softmax(input, dim)
    if isinstance(target, Tensor) and target.is_floating_point():        # class probabilities
        n_classes = input.shape[dim]
        probs = target if label_smoothing == 0 else target * (1 - label_smoothing) + label_smoothing / n_classes
        weighted = logp * probs if weight is None else logp * probs * reshape(weight, (-1,) + (1,) * (input.ndim
                                                                                                   - dim - 1))
        losses = -sum(weighted, dim)
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{reduction} is not a valid value for reduction")
        if reduction == "mean":
            return _named(sum(losses) / losses.numel(), "DivBackward1")
        return losses if reduction == "none" else sum(losses)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing == 0:
        return nll
    smooth = _smoothing_term(logp, target, weight, ignore_index, reduction, dim)
    return (1 - label_smoothing) * nll + label_smoothing * smooth


def _smoothing_term(logp, target, weight, ignore_index, reduction, dim):
    """The uniform part of label smoothing: the mean over classes of -log p (weighted), as torch computes it."""
    n_classes = logp.shape[dim]
    labels = target.numpy(force=True)
    valid = Tensor._from_array((labels != ignore_index).astype(logp._data.dtype))
    shape = (-1,) + (1,) * (logp.ndim - dim - 1)
    per = -sum(logp if weight is None else logp * reshape(weight, shape), dim) * valid / n_classes
    if reduction == "none":
        return per
    if reduction == "sum":
        return sum(per)
    if weight is None:
        return sum(per) / sum(valid)
    w = weight.numpy(force=True)[np.where(labels != ignore_index, labels, 0)] * valid.numpy(force=True)
    return sum(per) / float(w.sum())

