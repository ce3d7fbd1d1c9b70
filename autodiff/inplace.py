"""In-place changes and the backward's check of them: torch's version counters.

An in-place op writes into a tensor's storage, bumps the shared version counter and rebases the tensor's history:
its ``grad_fn`` becomes the in-place op's node, whose first input stands for the tensor as it was; on a view, the
base's history is rebased instead (``CopySlices``) and the view's replayed from it (``AsStridedBackward0``; both
in ``autodiff.views``). A node remembers the versions of the tensors its VJPs read, and the backward refuses to
run it once one of them changed (torch's "modified by an inplace operation").
"""
from __future__ import annotations

import re

import numpy as np

from .dispatch import push_tangent
from .dtypes import type_name
from .grad_mode import state
from .node import Node
from .tensor import Tensor
from .views import AS_STRIDED, COPY_SLICES, OVERLAP, as_strided_scatter, refresh_view, replay, set_history

__all__ = ["apply_inplace", "check_versions", "modified_message"]

_NO_GRAD_VIEW = ("A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
                 "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
                 "moving both the view and the inplace either both inside the no_grad block (if you don't want the "
                 "inplace to be tracked) or both outside (if you want the inplace to be tracked).")
_PARTIAL_OVERLAP = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                    "single memory location. Please clone() the tensor before performing the operation.")
_ANOMALY_HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
                 "autodiff.autograd.set_detect_anomaly(True, check_nan=False).")
_ANOMALY_ON_HINT = ("Hint: the backtrace further above shows the operation that failed to compute its gradient. The "
                    "variable in question was changed in there or anywhere later. Good luck!")


# -- in-place changes -------------------------------------------------------------------------------------------------

def apply_inplace(self, op, *args, **kw):
    """Run ``op(self, *args)`` and write the result into ``self``, recording the change in the graph.

    As in torch, the tensor's history is rebased: its ``grad_fn`` becomes the in-place op's node, whose first
    input stands for the tensor as it was. A VJP that needs that old value fails at backward time, instead of
    silently using the overwritten data. On a view, it is the base's history that is rebased (CopySlices: the
    base as it was, with the in-place op applied to the view's region), and the view's is replayed from it.
    """
    for a in (self,) + args:
        if type(a) is Tensor and a._base is not None and a._view_version != a._vc[0]:
            refresh_view(a)
    requires = self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args)
    _check_writable(self, op, args, requires)
    new = _result(self, op, args, kw)
    node = before = None
    if state.grad_enabled and op.differentiable and requires:
        before = _old_value(self, op, args)
        node = _record(self, op, before, args, kw)
    token = state.forward_token
    forward = token is not None and any(
        type(a) is Tensor and a._tangent is not None and a._tangent[0] is token for a in (self,) + args)
    if forward:
        tangent_args, tangent_arrays = _tangent_operands(self, before, args)
    np.copyto(self._data, new, casting="unsafe")
    self._bump_version()
    if node is not None:
        _rebase(self, node)
    if forward:
        self._tangent = None
        push_tangent(op, self, tangent_args, tangent_arrays, kw)
        if self._base is not None:
            _write_base_tangent(self, self._base, token, node)
    return self


def _check_writable(self, op, args, requires):
    """torch's refusals: leaves that require grad (and their views), no_grad views, overlapping writes."""
    base = self._base
    if state.grad_enabled:
        if base is not None:
            if not self._view.grad and (requires or base._requires_grad):
                raise RuntimeError(_NO_GRAD_VIEW)
            if self._requires_grad and base._grad_fn is None:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                                   "operation.")
        elif self._requires_grad and self._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if base is not None and not op.fills and 0 in self._data.strides and any(      # an expanded view
            stride == 0 and n > 1 for stride, n in zip(self._data.strides, self._data.shape)):
        raise RuntimeError(OVERLAP)
    for a in args:
        if type(a) is Tensor and a._vc is self._vc and a is not self and _partly_overlap(a._data, self._data):
            raise RuntimeError(_PARTIAL_OVERLAP)


def _partly_overlap(a, b) -> bool:
    """Whether two arrays share some memory without being the same elements: torch refuses to write then. Like
    torch, only dense layouts are compared (for others the question is "too hard" and the op goes ahead)."""
    if not ((a.flags.c_contiguous or a.flags.f_contiguous) and (b.flags.c_contiguous or b.flags.f_contiguous)):
        return False
    same = (a.__array_interface__["data"][0] == b.__array_interface__["data"][0] and a.shape == b.shape
            and a.strides == b.strides)
    return not same and np.shares_memory(a, b)


def _result(self, op, args, kw):
    """The op's result on arrays, broadcast to ``self``'s shape, with torch's shape and casting errors."""
    arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    new = np.asarray(op.forward(self._data, *arrays, **kw))
    if new.shape != self._data.shape:
        try:
            new = np.broadcast_to(new, self._data.shape)
        except ValueError:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                               f"{list(new.shape)}") from None
    if not np.can_cast(new.dtype, self._data.dtype, casting="same_kind"):
        raise RuntimeError(f"result type {type_name(new.dtype)} can't be cast to the desired output type "
                           f"{type_name(self._data.dtype)}")
    return new


def _old_value(self, op, args):
    """What the node's first input is: the tensor as it was. Like torch, a copy of the old values when the VJPs
    read them (sin_, clamp_, mul_ by a tensor that requires grad, ...); else the storage, at its version now."""
    before = Tensor._from_array(self._data)
    before._grad_fn = self._grad_fn
    before._requires_grad = self._requires_grad
    # `self` given again as an operand (y.mul_(y)) stays itself, as in torch: saved at its version before this
    # change, it fails the backward if a rule reads it
    if 0 in op.reads((before,) + args):
        before._data = self._data.copy()
        before._tangent = self._tangent
    else:
        before._vc = self._vc
    return before


def _record(self, op, before, args, kw):
    """The node of the change: the op's own, or on a view the base's CopySlices."""
    base = self._base
    if base is None:
        return Node(op, (before,) + args, kw, self._data, state.epoch, self._vc)
    base_before = Tensor._from_array(base._data)
    base_before._grad_fn = base._grad_fn
    base_before._requires_grad = base._requires_grad
    base_before._vc = base._vc
    # `before` is wrapped so that it gets no edge: its gradient reaches the base through the region
    return Node(COPY_SLICES, (base_before, (before,), op, self._view.chain) + args, kw, base._data, state.epoch,
                base._vc)


def _rebase(self, node):
    """After the write: ``self`` (or its base, and ``self`` replayed from it) takes the change's node."""
    node.out_saved = self._vc[0]
    base = self._base
    if base is None:
        set_history(self, node)
    else:
        set_history(base, node)
        base._requires_grad = True
        set_history(self, Node(AS_STRIDED, (base, self._view.chain), {}, self._data, state.epoch, self._vc))
        self._view_version = self._vc[0]
    self._requires_grad = True


def _tangent_operands(self, before, args):
    """Forward mode: the operands the JVPs read, with ``self`` as it was (a copy, with its tangent)."""
    primal = Tensor._from_array(self._data.copy())
    primal._tangent = self._tangent
    if before is not None:
        primal._grad_fn, primal._requires_grad = before._grad_fn, before._requires_grad
    tangent_args = (primal,) + tuple(primal if a is self else a for a in args)
    tangent_arrays = [a._data if type(a) is Tensor else a for a in tangent_args]
    return tangent_args, tangent_arrays


def _write_base_tangent(view, base, token, node):
    """Forward mode through an in-place op on a view: the base's tangent takes the view's new tangent."""
    tangent = view._tangent[1] if view._tangent is not None else None
    if tangent is None:
        return
    if base._tangent is not None and base._tangent[0] is token:
        base_tangent = base._tangent[1]
    else:
        base_tangent = np.zeros_like(base._data)
    saved, state.forward_token = state.forward_token, None
    try:
        base_tangent = as_strided_scatter(base_tangent, tangent, view._view.chain)
        view_tangent = replay(base_tangent, view._view.chain)
    finally:
        state.forward_token = saved
    if type(base_tangent) is Tensor and not base_tangent._requires_grad:
        base_tangent, view_tangent = base_tangent._data, view_tangent._data
    base._tangent = (token, base_tangent)
    view._tangent = (token, view_tangent)
    if node is not None:
        node.ans_tangent = base_tangent
        view._grad_fn.ans_tangent = view_tangent


# -- the backward's check ------------------------------------------------------------------------------------------

def check_versions(node: Node) -> None:
    """torch's "modified by an inplace operation" check: has a tensor this node's VJPs read changed since?"""
    for i in node.op.reads(node.args):
        if i == -1:
            counter, saved, tensor = node.out_version, node.out_saved, None
        else:
            tensor = node.args[i]
            if type(tensor) is not Tensor:
                continue
            counter, saved = tensor._vc, node.versions[i]
        if counter[0] != saved:
            raise RuntimeError(modified_message(tensor, node, counter[0], saved))


def modified_message(tensor, node, version, saved) -> str:
    """torch's wording: the tensor's type and shape, the node it is an output of (for a saved output, the node
    that saved it; for a saved input, the tensor's grad_fn now), and both versions."""
    data = tensor._data if tensor is not None else node.ans
    producer = node if tensor is None else tensor.grad_fn
    which = f", which is output 0 of {_message_name(producer)}," if producer is not None else ""
    hint = _ANOMALY_ON_HINT if state.anomaly else _ANOMALY_HINT
    return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[autodiff.{type_name(data.dtype)}Tensor {list(data.shape)}]{which} is at version {version}; "
            f"expected version {saved} instead. {hint}")


def _message_name(node) -> str:
    """How torch's saved-variable message names a node: ``Add`` for AddBackward0, CopySlices in full."""
    name = node.name()
    if name == "CopySlices":
        return "torch::autograd::CopySlices"
    return re.sub(r"Backward\d*$", "", name)
