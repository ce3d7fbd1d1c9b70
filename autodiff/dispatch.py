"""Applying an op: run its forward on arrays, record a node when gradients are wanted, push tangents forward.

This is the one hot path every operation goes through, so it is kept flat. Called with no tensor among its
arguments, ``apply`` is just the op's forward on arrays: that is how the rules in the op table run on raw
numpy when the backward pass does not record a graph.
"""
from __future__ import annotations

import numpy as np

from .grad_mode import state
from .node import Node
from .tensor import Tensor

__all__ = ["apply", "apply_inplace"]

_ndarray = np.ndarray
_new = object.__new__


def apply(op, *args, **kw):
    arrays = []
    any_tensor = requires = False
    for a in args:
        if type(a) is Tensor:
            any_tensor = True
            arrays.append(a._data)
            if a._requires_grad:
                requires = True
        else:
            arrays.append(a)
    if not any_tensor:
        return op.forward(*args, **kw)
    out = op.forward(*arrays, **kw)
    if type(out) is not _ndarray:
        out = np.asarray(out)
    result = _new(Tensor)
    result._data = out
    result._grad = None
    result._retains_grad = False
    result._tangent = None
    result._backward_hooks = None
    version = result._version = [0, 0]
    if requires and state.grad_enabled and op.differentiable:
        result.grad_fn = Node(op, args, kw, out, state.epoch, version)
        result._requires_grad = True
    else:
        result.grad_fn = None
        result._requires_grad = False
    if state.forward_token is not None:
        _push_tangent(op, result, args, arrays, kw)
    return result


def _push_tangent(op, result, args, arrays, kw):
    token = state.forward_token
    tangent = None
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and a._tangent is not None and a._tangent[0] is token:
            contribution = op.jvp(i, a._tangent[1], result._data, arrays, kw)
            tangent = contribution if tangent is None else tangent + contribution
    if tangent is None:
        return
    if isinstance(tangent, Tensor):
        if tangent.shape != result.shape:
            tangent = tangent.expand(result.shape).clone()
    else:
        tangent = np.asarray(tangent, dtype=result._data.dtype)
        if tangent.shape != result.shape:
            tangent = np.array(np.broadcast_to(tangent, result.shape))
    result._tangent = (token, tangent)
    if result.grad_fn is not None:
        result.grad_fn.ans_tangent = tangent


def apply_inplace(self, op, *args, **kw):
    """Run ``op(self, *args)`` and write the result into ``self``, recording the change in the graph.

    As in torch, the tensor's history is rebased: its ``grad_fn`` becomes the in-place op's node, whose first
    input stands for the tensor as it was. A VJP that needs that old value fails at backward time, instead of
    silently using the overwritten data.
    """
    grad_mode = state.grad_enabled
    if grad_mode and self._requires_grad and self.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    new = np.asarray(op.forward(self._data, *arrays, **kw))
    if new.shape != self._data.shape:
        try:
            new = np.broadcast_to(new, self._data.shape)
        except ValueError:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                               f"{list(new.shape)}") from None
    if not np.can_cast(new.dtype, self._data.dtype, casting="same_kind"):
        raise RuntimeError(f"result type {_type_name(new.dtype)} can't be cast to the desired output type "
                           f"{_type_name(self._data.dtype)}")
    record = grad_mode and op.differentiable and (
        self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args))
    if record:
        before = Tensor._from_array(self._data)
        before.grad_fn = self.grad_fn
        before._requires_grad = self._requires_grad
        before._version = self._version
        node_args = (before,) + args
    np.copyto(self._data, new, casting="unsafe")
    self._bump_version()
    if record:
        stale = 0 in op.reads(node_args)
        self.grad_fn = Node(op, node_args, kw, self._data, -1 if stale else state.epoch, self._version)
        self._requires_grad = True
    return self


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool", "int32": "Int",
               "float16": "Half"}


def _type_name(np_dtype) -> str:
    return _TYPE_NAMES.get(np.dtype(np_dtype).name, str(np_dtype))
