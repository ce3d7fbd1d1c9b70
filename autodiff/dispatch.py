"""Applying an op: run its forward on arrays, record a node when gradients are wanted, push tangents forward.

This is the one hot path every operation goes through, so it is kept flat. Called with no tensor among its
arguments, ``apply`` is just the op's forward on arrays: that is how the rules in the op table run on raw
numpy when the backward pass does not record a graph.
"""
from __future__ import annotations

import numpy as np

from ._quiet import restore, silence
from .grad_mode import state
from .node import Node
from .tensor import Tensor

__all__ = ["apply", "apply_inplace", "apply_view", "refresh_view"]

_ndarray = np.ndarray
_new = object.__new__


def apply(op, *args, **kw):
    arrays = []
    any_tensor = requires = False
    for a in args:
        if type(a) is Tensor:
            any_tensor = True
            arrays.append(a._data)
            if a._base is not None and a._view_version != a._vc[0]:
                refresh_view(a)
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
    result._base = None
    version = result._vc = [0, 0]
    if requires and state.grad_enabled and op.differentiable:
        result._grad_fn = Node(op, args, kw, out, state.epoch, version)
        result._requires_grad = True
    else:
        result._grad_fn = None
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


def apply_view(op, input, *extra, may_copy=False):
    """Apply a view op (indexing with ints, slices and None; reshape, transpose, expand, ...): the result shares
    ``input``'s storage and version counter and remembers its base and how to replay it from the base, so that
    in-place changes of either are seen by the other's autograd history, as torch's views are.

    ``may_copy``: the forward may have copied instead (reshape of a non-contiguous array); then it is no view.
    """
    out = apply(op, input, *extra)
    if type(input) is not Tensor or (may_copy and not np.may_share_memory(out._data, input._data)):
        return out
    base = input._base
    step = ((op, extra),)
    if base is None:
        out._base, out._view, out._view_grad = input, step, state.grad_enabled
    else:
        out._base, out._view, out._view_grad = base, input._view + step, input._view_grad and state.grad_enabled
    out._vc = input._vc
    out._view_version = input._vc[0]
    node = out._grad_fn
    if node is not None:
        node.out_version = input._vc
        node.out_saved = input._vc[0]
    return out


def refresh_view(view):
    """Bring a view up to date after its storage changed in place (through its base or another view).

    As torch, its history is regenerated from the base's (an AsStridedBackward0 node replaying the view from the
    base), so gradients flow through whatever the base now is; a tangent is re-read from the base's tangent.
    """
    from .ops.shape import AS_STRIDED, replay
    view._view_version = view._vc[0]
    base = view._base
    token = state.forward_token
    if token is not None and base._tangent is not None and base._tangent[0] is token:
        view._tangent = (token, replay(base._tangent[1], view._view))
    if view._view_grad and base._requires_grad:
        _set_history(view, Node(AS_STRIDED, (base, view._view), {}, view._data, state.epoch, view._vc))
        view._requires_grad = True


def _set_history(t, node):
    """Give ``t`` a new grad_fn; a gradient it retains is now the new node's (as torch moves retains_grad)."""
    old = t._grad_fn
    t._grad_fn = node
    if t._retains_grad:
        if old is not None and old.retained:
            old.retained = [r for r in old.retained if r is not t] or None
        if node.retained is None:
            node.retained = []
        node.retained.append(t)


_NO_GRAD_VIEW = ("A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
                 "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
                 "moving both the view and the inplace either both inside the no_grad block (if you don't want the "
                 "inplace to be tracked) or both outside (if you want the inplace to be tracked).")
_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")


_PARTIAL_OVERLAP = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                    "single memory location. Please clone() the tensor before performing the operation.")


def _partly_overlap(a, b) -> bool:
    """Whether two arrays share some memory without being the same elements: torch refuses to write then. Like
    torch, only dense layouts are compared (for others the question is "too hard" and the op goes ahead)."""
    if not ((a.flags.c_contiguous or a.flags.f_contiguous) and (b.flags.c_contiguous or b.flags.f_contiguous)):
        return False
    same = (a.__array_interface__["data"][0] == b.__array_interface__["data"][0] and a.shape == b.shape
            and a.strides == b.strides)
    return not same and np.shares_memory(a, b)


def apply_inplace(self, op, *args, **kw):
    """Run ``op(self, *args)`` and write the result into ``self``, recording the change in the graph.

    As in torch, the tensor's history is rebased: its ``grad_fn`` becomes the in-place op's node, whose first
    input stands for the tensor as it was. A VJP that needs that old value fails at backward time, instead of
    silently using the overwritten data. On a view, it is the base's history that is rebased (CopySlices: the
    base as it was, with the in-place op applied to the view's region), and the view's is replayed from it.
    """
    grad_mode = state.grad_enabled
    base = self._base
    for a in (self,) + args:
        if type(a) is Tensor and a._base is not None and a._view_version != a._vc[0]:
            refresh_view(a)
    requires = self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args)
    if grad_mode:
        if base is not None:
            if not self._view_grad and (requires or base._requires_grad):
                raise RuntimeError(_NO_GRAD_VIEW)
            if self._requires_grad and base._grad_fn is None:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                                   "operation.")
        elif self._requires_grad and self._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if base is not None and not op.fills and 0 in self._data.strides and any(      # an expanded view
            stride == 0 and n > 1 for stride, n in zip(self._data.strides, self._data.shape)):
        raise RuntimeError(_OVERLAP)
    for a in args:
        if type(a) is Tensor and a._vc is self._vc and a is not self and _partly_overlap(a._data, self._data):
            raise RuntimeError(_PARTIAL_OVERLAP)
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
    record = grad_mode and op.differentiable and requires
    node = None
    if record:
        # The node's first input stands for the tensor as it was. Like torch, keep a copy of the old values
        # when the VJPs read them (sin_, clamp_, mul_ by a tensor that requires grad, ...).
        before = Tensor._from_array(self._data)
        before._grad_fn = self._grad_fn
        before._requires_grad = self._requires_grad
        # `self` given again as an operand (y.mul_(y)) stays itself, as in torch: saved at its version before
        # this change, it fails the backward if a rule reads it
        node_args = (before,) + args
        if 0 in op.reads(node_args):
            before._data = self._data.copy()
            before._tangent = self._tangent
        else:
            before._vc = self._vc
        if base is None:
            node = Node(op, node_args, kw, self._data, state.epoch, self._vc)
        else:
            node = _copy_slices(self, base, op, before, args, kw)
    token = state.forward_token
    forward = token is not None and any(
        type(a) is Tensor and a._tangent is not None and a._tangent[0] is token for a in (self,) + args)
    if forward:
        primal = Tensor._from_array(self._data.copy())
        primal._tangent = self._tangent
        if record:
            primal._grad_fn, primal._requires_grad = before._grad_fn, before._requires_grad
        tangent_args = (primal,) + tuple(primal if a is self else a for a in args)
        tangent_arrays = [primal._data] + [primal._data if a is self else x for a, x in zip(args, arrays)]
    np.copyto(self._data, new, casting="unsafe")
    self._bump_version()
    if node is not None:
        node.out_saved = self._vc[0]
        if base is None:
            _set_history(self, node)
        else:
            from .ops.shape import AS_STRIDED
            _set_history(base, node)
            base._requires_grad = True
            _set_history(self, Node(AS_STRIDED, (base, self._view), {}, self._data, state.epoch, self._vc))
            self._view_version = self._vc[0]
        self._requires_grad = True
    if forward:
        self._tangent = None
        _push_tangent(op, self, tangent_args, tangent_arrays, kw)
        if base is not None:
            _write_base_tangent(self, base, token, node)
    return self


def _copy_slices(view, base, op, before, args, kw):
    """The base's new node for an in-place op on ``view``: torch's CopySlices."""
    from .ops.shape import COPY_SLICES
    base_before = Tensor._from_array(base._data)
    base_before._grad_fn = base._grad_fn
    base_before._requires_grad = base._requires_grad
    base_before._vc = base._vc
    # `before` is wrapped so that it gets no edge: its gradient reaches the base through the region
    return Node(COPY_SLICES, (base_before, (before,), op, view._view) + args, kw, base._data, state.epoch, base._vc)


def _write_base_tangent(view, base, token, node):
    """Forward mode through an in-place op on a view: the base's tangent takes the view's new tangent."""
    from .ops.shape import as_strided_scatter, replay
    tangent = view._tangent[1] if view._tangent is not None else None
    if tangent is None:
        return
    if base._tangent is not None and base._tangent[0] is token:
        base_tangent = base._tangent[1]
    else:
        base_tangent = np.zeros_like(base._data)
    saved, state.forward_token = state.forward_token, None
    try:
        base_tangent = as_strided_scatter(base_tangent, tangent, view._view)
        view_tangent = replay(base_tangent, view._view)
    finally:
        state.forward_token = saved
    if type(base_tangent) is Tensor and not base_tangent._requires_grad:
        base_tangent, view_tangent = base_tangent._data, view_tangent._data
    base._tangent = (token, base_tangent)
    view._tangent = (token, view_tangent)
    if node is not None:
        node.ans_tangent = base_tangent
        view._grad_fn.ans_tangent = view_tangent


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "bool": "Bool", "int32": "Int",
               "float16": "Half"}


def _type_name(np_dtype) -> str:
    return _TYPE_NAMES.get(np.dtype(np_dtype).name, str(np_dtype))
