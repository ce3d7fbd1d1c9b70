"""Views and in-place changes: the one module holding torch's aliasing semantics.

A view (basic indexing, reshape, transpose, expand, ...) shares its base's storage and version counter and
remembers how to replay itself from the base (:class:`View`). An in-place op writes into a tensor's storage, bumps
the shared version counter and rebases the tensor's history: its ``grad_fn`` becomes the in-place op's node, whose
first input stands for the tensor as it was; on a view, the base's history is rebased instead (``CopySlices``) and
the view's replayed from it (``AsStridedBackward0``). A node remembers the versions of the tensors its VJPs read,
and the backward refuses to run it once one of them changed (torch's "modified by an inplace operation").
"""
from __future__ import annotations

import re

import numpy as np

from .dispatch import apply, push_tangent
from .dtypes import type_name
from .grad_mode import state
from .node import Node, defop
from .tensor import Tensor

__all__ = ["View", "apply_view", "apply_inplace", "refresh_view", "replay", "as_strided_scatter", "unbroadcast",
           "check_versions", "OVERLAP"]

_NO_GRAD_VIEW = ("A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
                 "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
                 "moving both the view and the inplace either both inside the no_grad block (if you don't want the "
                 "inplace to be tracked) or both outside (if you want the inplace to be tracked).")
OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
           "location. Please clone() the tensor before performing the operation.")
_PARTIAL_OVERLAP = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                    "single memory location. Please clone() the tensor before performing the operation.")
_ANOMALY_HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
                 "autodiff.autograd.set_detect_anomaly(True, check_nan=False).")
_ANOMALY_ON_HINT = ("Hint: the backtrace further above shows the operation that failed to compute its gradient. The "
                    "variable in question was changed in there or anywhere later. Good luck!")


def _data(x):
    return x._data if type(x) is Tensor else x


def _zeros_like(x):
    data = _data(x)
    return np.zeros(data.shape, dtype=data.dtype)


# -- views ----------------------------------------------------------------------------------------------------------

class View:
    """How a view tensor was made from its base (``tensor._base``): the chain of view ops, each ``(op, extra)``,
    and whether grad mode was on (an in-place change of a view made under no_grad is refused with grad mode on)."""

    __slots__ = ("chain", "grad")

    def __init__(self, chain, grad):
        self.chain = chain
        self.grad = grad

    def refresh(self, view):
        """Bring ``view`` up to date after its storage changed through its base or another view (called by
        whatever reads a view's history: ``grad_fn``, ``requires_grad``, ``apply``)."""
        refresh_view(view)


def apply_view(op, input, *extra, may_copy=False):
    """Apply a view op: the result shares ``input``'s storage and version counter and remembers its base and how
    to replay it from the base, so that in-place changes of either are seen by the other's autograd history.

    ``may_copy``: the forward may have copied instead (reshape of a non-contiguous array); then it is no view.
    """
    out = apply(op, input, *extra)
    if type(input) is not Tensor or (may_copy and not np.may_share_memory(out._data, input._data)):
        return out
    step = ((op, extra),)
    if input._base is None:
        out._base, out._view = input, View(step, state.grad_enabled)
    else:
        out._base, out._view = input._base, View(input._view.chain + step, input._view.grad and state.grad_enabled)
    out._vc = input._vc
    out._view_version = input._vc[0]
    node = out._grad_fn
    if node is not None:
        node.out_version = input._vc
        node.out_saved = input._vc[0]
    return out


def refresh_view(view):
    """As torch, a view whose storage changed in place gets its history regenerated from the base's (an
    AsStridedBackward0 node replaying the view from the base); a tangent is re-read from the base's tangent."""
    view._view_version = view._vc[0]
    base = view._base
    token = state.forward_token
    if token is not None and base._tangent is not None and base._tangent[0] is token:
        view._tangent = (token, replay(base._tangent[1], view._view.chain))
    if view._view.grad and base._requires_grad:
        _set_history(view, Node(AS_STRIDED, (base, view._view.chain), {}, view._data, state.epoch, view._vc))
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


def replay(x, chain):
    """The view ``chain`` (the view ops from a base, as ``apply_view`` records them) applied to ``x``."""
    for op, extra in chain:
        x = apply(op, x, *extra)
    return x


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``, undoing numpy broadcasting (the one place this is done)."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    if type(g) is Tensor:
        return (g.sum(dim=axes) if axes else g).reshape(shape)
    if axes:
        g = np.add.reduce(g, axis=axes)
    return g if g.shape == shape else np.reshape(g, shape)


def _replay_vjp(g, base, chain):
    """The cotangent of a base from that of its view: the chain's own VJPs, last step first."""
    inputs = [_data(base)]     # the view VJPs read only shapes
    for op, extra in chain[:-1]:
        inputs.append(apply(op, inputs[-1], *extra))
    for (op, extra), x in zip(reversed(chain), reversed(inputs)):
        g = op.vjps[0](g, None, x, *extra)
        if g.shape != x.shape:
            g = unbroadcast(g, x.shape)
    return g


def _as_strided_scatter_forward(g, value, chain):
    """``g`` with its view ``chain`` overwritten by ``value`` (torch's as_strided_scatter)."""
    out = np.empty_like(g)      # g's layout, so the replayed reshapes are views of out exactly as of the base
    out[...] = g
    region = replay(out, chain)
    if region.flags.writeable and np.shares_memory(region, out):
        region[...] = value
        return out
    out = np.array(g, order="C")   # a layout where a reshape copied: find the view's positions by their numbers
    positions = replay(np.arange(out.size).reshape(out.shape), chain)
    out.reshape(-1)[positions] = value
    return out


AS_STRIDED_SCATTER = defop(
    "AsStridedScatterBackward0", _as_strided_scatter_forward,
    (lambda g, ans, x, value, chain: as_strided_scatter(g, 0.0, chain),
     lambda g, ans, x, value, chain: replay(g, chain), None),
    (lambda t, ans, x, value, chain: as_strided_scatter(t, 0.0, chain),
     lambda t, ans, x, value, chain: as_strided_scatter(_zeros_like(ans), t, chain), None),
    saves=((), (), ()))


def as_strided_scatter(input, value, chain):
    return apply(AS_STRIDED_SCATTER, input, value, chain)


# A view's history regenerated after its storage changed in place: the view replayed from its base.
AS_STRIDED = defop("AsStridedBackward0", lambda base, chain: replay(base, chain),
                   (lambda g, ans, base, chain: _replay_vjp(g, base, chain), None),
                   (lambda t, ans, base, chain: replay(t, chain), None), saves=((), ()))


def _copy_slices_rule(i, g, ans, base, before, inner, chain, *args, **kw):
    """VJPs of an in-place op ``inner`` applied to the view ``chain`` of a base (torch's CopySlices).

    Input 0 is the base as it was: the cotangent outside the view, and inside it what ``inner`` passes to its
    own first input. Inputs 4... are ``inner``'s other operands. ``before`` (wrapped, so it has no edge) is the
    view's old value, for rules that read it.
    """
    (before,) = before
    if type(base) is not Tensor:          # an ordinary backward: the rules run on arrays
        before = before._data
    region = replay(g, chain)
    region_ans = replay(ans, chain)
    strides = _data(region_ans).strides
    if 0 in strides and any(s == 0 and n > 1 for s, n in zip(strides, region_ans.shape)):
        raise RuntimeError(OVERLAP)       # fill_ wrote an expanded view: torch's backward refuses it too
    if i == 0:
        rule = inner.vjps[0]
        inside = rule(region, region_ans, before, *args, **kw) if rule is not None else None
        return as_strided_scatter(g, 0.0 if inside is None else inside, chain)
    rule = inner.vjps[i - 3]
    return rule(region, region_ans, before, *args, **kw) if rule is not None else None


def _copy_slices_reads(args):
    """What the version check must cover: the inner op's reads, but not the (copied) old view."""
    base, (before,), inner, chain, *rest = args
    reads = inner.reads((before,) + tuple(rest))
    return {i + 3 for i in reads if i > 0} | ({-1} & reads)


COPY_SLICES = defop("CopySlices", None, _copy_slices_rule, None, variadic=True, saves=_copy_slices_reads)


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
        _set_history(self, node)
    else:
        _set_history(base, node)
        base._requires_grad = True
        _set_history(self, Node(AS_STRIDED, (base, self._view.chain), {}, self._data, state.epoch, self._vc))
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
            raise RuntimeError(_modified_message(tensor, node, counter[0], saved))


def _modified_message(tensor, node, version, saved) -> str:
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
