"""Views: tensors sharing their base's storage, and the ops that move gradients between a view and its base.

A view (basic indexing, reshape, transpose, expand, ...) shares its base's storage and version counter and
remembers how to replay itself from the base (:class:`View`). ``AsStridedBackward0`` replays a view from its base
and ``CopySlices`` is the base's node after an in-place change of one of its views (``autodiff.inplace`` records
both: the two modules together hold torch's aliasing semantics).
"""
from __future__ import annotations

import numpy as np

from .dispatch import apply
from .grad_mode import state
from .node import Node, defop
from .tensor import Tensor

__all__ = ["View", "apply_view", "refresh_view", "set_history", "replay", "as_strided_scatter", "unbroadcast",
           "AS_STRIDED", "COPY_SLICES", "OVERLAP"]

OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
           "location. Please clone() the tensor before performing the operation.")


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
        set_history(view, Node(AS_STRIDED, (base, view._view.chain), {}, view._data, state.epoch, view._vc))
        view._requires_grad = True


def set_history(t, node):
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
