"""Applying an op: run its forward on arrays, record a node when gradients are wanted, push tangents forward.

This is the one hot path every operation goes through, so it is kept flat. Called with no tensor among its
arguments, ``apply`` is just the op's forward on arrays: that is how the rules in the op table run on raw
numpy when the backward pass does not record a graph. Views and in-place changes build on it in
``autodiff.views`` and ``autodiff.inplace``.
"""
from __future__ import annotations

import numpy as np

from ._quiet import restore, silence
from .anomaly import forward_trace
from .grad_mode import state
from .node import Node, sequence
from .tensor import Tensor

__all__ = ["apply", "push_tangent"]

_ndarray = np.ndarray
_new = object.__new__


def apply(op, *args, **kw):
    arrays = []
    versions = []   # each input's version now: a backward reading it checks it is unchanged (torch's saved_version)
    edges = None
    any_tensor = False
    i = 0
    for a in args:
        if type(a) is Tensor:
            any_tensor = True
            if a._base is not None and a._view_version != a._vc[0]:
                a._view.refresh(a)     # a view whose storage changed in place (autodiff.views)
            arrays.append(a._data)
            versions.append(a._vc[0])
            if a._requires_grad:
                # where the input's cotangent goes, bound now as torch binds edges: its node, or the leaf itself
                if edges is None:
                    edges = [(i, a._grad_fn or a)]
                else:
                    edges.append((i, a._grad_fn or a))
        else:
            arrays.append(a)
            versions.append(0)
        i += 1
    if not any_tensor:
        return op.forward(*args, **kw)
    out = op.forward(*arrays, **kw) if kw else op.forward(*arrays)
    if type(out) is not _ndarray:
        out = np.asarray(out)
    result = _new(Tensor)
    result._data = out
    result._grad = None
    result._retains_grad = False
    result._tangent = None
    result._backward_hooks = None
    result._base = None
    version = result._vc = [0, 0]
    if edges is not None and state.grad_enabled and op.differentiable:
        # Node(op, args, kw, out, state.epoch, version), inline with what this loop already has
        node = result._grad_fn = _new(Node)
        node.op = op
        node.args = args
        node.arrays = arrays
        node.edges = edges
        node.versions = versions if op.reads_inputs else None
        node.kw = kw
        node.ans = out
        node.epoch = state.epoch
        node.seq = next(sequence)
        node.out_version = version
        node.out_saved = 0
        node.freed = False
        node.retained = node.hooks = node.name_override = node.ans_tangent = None
        node.trace = forward_trace() if state.anomaly else None
        result._requires_grad = True
    else:
        result._grad_fn = None
        result._requires_grad = False
    if state.forward_token is not None:
        push_tangent(op, result, args, arrays, kw)
    return result


def push_tangent(op, result, args, arrays, kw):
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
    quiet = silence()
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
        restore(quiet)
    if type(tangent) is not Tensor:
        tangent = np.asarray(tangent, dtype=result._data.dtype)
        if tangent.shape != result._data.shape:
            tangent = np.array(np.broadcast_to(tangent, result._data.shape))
    result._tangent = (token, tangent)
    if result._grad_fn is not None:
        result._grad_fn.ans_tangent = tangent
