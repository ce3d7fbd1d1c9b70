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
    version = result._vc = [0, 0]
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
    """Forward mode: the output's tangent is the sum of the JVP rules of the inputs that carry tangents.

    The rules run with forward mode suspended (their own ops must not push tangents). When gradients are being
    recorded and something requires grad, they run on tensors, so the tangent is itself differentiable
    (``jvp(..., create_graph=True)``, reverse-over-forward); otherwise on raw arrays.
    """
    token = state.forward_token
    carriers = [i for i, a in enumerate(args)
                if type(a) is Tensor and a._tangent is not None and a._tangent[0] is token]
    if not carriers:
        return
    on_tensors = state.grad_enabled and (result._requires_grad or any(
        type(args[i]._tangent[1]) is Tensor and args[i]._tangent[1]._requires_grad for i in carriers))
    rule_args, ans = (args, result) if on_tensors else (arrays, result._data)
    state.forward_token = None
    errors = np.seterr(all="ignore")
    try:
        tangent = None
        for i in carriers:
            contribution = op.jvp(i, args[i]._tangent[1], ans, rule_args, kw)
            tangent = contribution if tangent is None else tangent + contribution
        if type(tangent) is Tensor:
            if tangent.shape != result.shape:
                tangent = tangent.expand(result.shape).clone()
            if not tangent._requires_grad:
                tangent = tangent._data
    finally:
        state.forward_token = token
        np.seterr(**errors)
    if type(tangent) is not Tensor:
        tangent = np.asarray(tangent, dtype=result._data.dtype)
        if tangent.shape != result._data.shape:
            tangent = np.array(np.broadcast_to(tangent, result._data.shape))
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
    node = None
    if record:
        # The node's first input stands for the tensor as it was. Like torch, keep a copy of the old values
        # when the VJPs read them (sin_, clamp_, mul_ by a tensor that requires grad, ...).
        before = Tensor._from_array(self._data)
        before.grad_fn = self.grad_fn
        before._requires_grad = self._requires_grad
        # `self` given again as an operand (y.mul_(y)) stays itself, as in torch: saved at its version before
        # this change, it fails the backward if a rule reads it
        node_args = (before,) + args
        if 0 in op.reads(node_args):
            before._data = self._data.copy()
            before._tangent = self._tangent
        else:
            before._vc = self._vc
        node = Node(op, node_args, kw, self._data, state.epoch, self._vc)
    token = state.forward_token
    forward = token is not None and any(
        type(a) is Tensor and a._tangent is not None and a._tangent[0] is token for a in (self,) + args)
    if forward:
        primal = Tensor._from_array(self._data.copy())
        primal._tangent = self._tangent
        if record:
            primal.grad_fn, primal._requires_grad = before.grad_fn, before._requires_grad
        tangent_args = (primal,) + tuple(primal if a is self else a for a in args)
        tangent_arrays = [primal._data] + [primal._data if a is self else x for a, x in zip(args, arrays)]
    np.copyto(self._data, new, casting="unsafe")
    self._bump_version()
    if node is not None:
        node.out_saved = self._vc[0]
        self.grad_fn = node
        self._requires_grad = True
    if forward:
        self._tangent = None
        _push_tangent(op, self, tangent_args, tangent_arrays, kw)
    return self


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool", "int32": "Int",
               "float16": "Half"}


def _type_name(np_dtype) -> str:
    return _TYPE_NAMES.get(np.dtype(np_dtype).name, str(np_dtype))
