"""Custom differentiable functions, as torch.autograd.Function: a forward and its backward (and jvp) written by hand.

    class Exp(Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

    y = Exp.apply(x)          # y.grad_fn is <ExpBackward>

``forward(ctx, *args)`` (or, new style, ``forward(*args)`` with ``setup_context(ctx, inputs, output)``) runs with
gradients off; ``apply`` records one node whose backward calls ``backward(ctx, *grad_outputs)`` once per pass, on
tensors (with a graph under ``create_graph=True``, so the backward is itself differentiable). Several
differentiable outputs are recorded as one node holding their values packed end to end, each output a node that
routes its cotangent into its place (all named ``<Name>Backward``).
"""
from __future__ import annotations

import functools

import numpy as np

from ..creation import zeros_like
from ..dtypes import from_numpy
from ..grad_mode import no_grad, state
from ..inplace import modified_message
from ..node import Node, Op
from ..ops.concat import cat
from ..ops.indexing import getitem
from ..ops.shape import reshape, to
from ..tensor import Tensor, tangent_of

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

_NO_BACKWARD = ("You must implement either the backward or vjp method for your custom autograd.Function to use it "
                "with backward mode AD.")
_NO_JVP = "You must implement the jvp function for custom autograd.Function to use it with forward mode AD."


class FunctionCtx:
    """What ``forward`` (or ``setup_context``) leaves for ``backward`` and ``jvp``: saved tensors, flags, and
    any attribute set on it."""

    def save_for_backward(self, *tensors) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self.to_save = tensors
        self.saved_versions = [None if t is None else t._vc[0] for t in tensors]

    def save_for_forward(self, *tensors) -> None:
        self.saved_for_forward = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to save_for_backward; torch's error if one was changed in place since."""
        saved = tuple(getattr(self, "to_save", ()))
        for t, version in zip(saved, getattr(self, "saved_versions", ())):
            if t is not None and t._vc[0] != version:
                raise RuntimeError(modified_message(t, None, t._vc[0], version))
        return saved

    def mark_dirty(self, *args) -> None:
        self.dirty_tensors = args

    def mark_non_differentiable(self, *args) -> None:
        self.non_differentiable = args

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class Function:
    """Base class of custom functions: subclass it with static ``forward`` and ``backward`` (and optionally
    ``setup_context`` and ``jvp``), then call ``YourFunction.apply(*args)``."""

    __module__ = "autodiff.autograd.function"

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use new-"
                           "style autograd function with static forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(_NO_BACKWARD)

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError(_NO_JVP)

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.materialize_grads = True
        recording = state.grad_enabled and any(type(a) is Tensor and a._requires_grad for a in args)
        ctx.needs_input_grad = tuple(recording and type(a) is Tensor and a._requires_grad for a in args)
        token = state.forward_token
        state.forward_token = None      # the forward's own ops push no tangents: jvp gives the outputs' tangents
        try:
            with no_grad():
                if cls.setup_context is not Function.setup_context:
                    output = cls.forward(*args, **kwargs)
                    cls.setup_context(ctx, args, output)
                else:
                    output = cls.forward(ctx, *args, **kwargs)
        finally:
            state.forward_token = token
        outputs = _outputs(ctx, args, output if isinstance(output, tuple) else (output,), recording)
        if hasattr(ctx, "to_save"):     # versions as the forward leaves them (a dirty output was bumped just now)
            ctx.saved_versions = [None if t is None else t._vc[0] for t in ctx.to_save]
        if recording:
            _record(cls, ctx, args, outputs)
        if token is not None:
            _push_tangents(cls, ctx, args, outputs, token)
        return outputs if isinstance(output, tuple) else outputs[0]


def _outputs(ctx, args, outputs, recording):
    """The outputs as returned: a dirty (changed in place) input is itself, one more version on; an input returned
    unchanged becomes a new tensor sharing its storage, as torch's view of it."""
    dirty = {id(t) for t in getattr(ctx, "dirty_tensors", ())}
    result = []
    for out in outputs:
        if type(out) is Tensor and id(out) in dirty:
            if recording and out._requires_grad and out._grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
            out._bump_version()
        elif type(out) is Tensor and (any(out is a for a in args) or out._base is not None):
            out = Tensor._from_array(out._data)
        result.append(out)
    return tuple(result)


def _differentiable(ctx, outputs):
    excluded = {id(t) for t in getattr(ctx, "non_differentiable", ())}
    return [i for i, out in enumerate(outputs)
            if type(out) is Tensor and id(out) not in excluded and out._data.dtype.kind in "fc"]


def _record(cls, ctx, args, outputs):
    """One node for the call, its VJPs the user's backward; the differentiable outputs take it as their grad_fn
    (through a routing node each when there are several)."""
    name = f"{cls.__name__}Backward"
    chosen = _differentiable(ctx, outputs)
    backward = _user_backward(cls)
    call = _Call(ctx, backward, name, outputs, chosen, args)
    op = Op(name, None, call.vjp, variadic=True, saves=())
    if len(chosen) == 1:
        out = outputs[chosen[0]]
        _attach(out, Node(op, args, {}, out._data, state.epoch, out._vc))
        return
    packed = np.concatenate([outputs[j]._data.reshape(-1) for j in chosen]).astype(call.dtype)
    core = Tensor._from_array(packed)
    _attach(core, Node(op, args, {}, packed, state.epoch, core._vc))
    for position, j in enumerate(chosen):
        out = outputs[j]
        route = Op(name, None, (functools.partial(call.route, position),), saves=((),))
        node = Node(route, (core,), {}, out._data, state.epoch, out._vc)
        node.name_override = name
        _attach(out, node)


def _attach(tensor, node):
    tensor._grad_fn = node
    tensor._requires_grad = True


def _user_backward(cls):
    backward, vjp = cls.backward, cls.vjp
    if backward is not Function.backward and vjp is not Function.vjp and backward is not vjp:
        raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not allowed. You should "
                           "only implement one of them.")
    return vjp if vjp is not Function.vjp else backward


class _Call:
    """One application's backward: the outputs' cotangents gathered, the user's backward run once per pass (the
    engine asks for each input's gradient in turn, with the same cotangent), its results checked."""

    def __init__(self, ctx, backward, name, outputs, chosen, args):
        self.ctx, self.backward, self.name, self.args = ctx, backward, name, args
        self.outputs = [out if type(out) is Tensor else None for out in outputs]
        self.chosen = chosen
        self.dtype = np.result_type(*[outputs[j]._data.dtype for j in chosen])
        self.sizes = [outputs[j]._data.size for j in chosen]
        self.received = set()       # outputs whose cotangent arrived in this pass (set_materialize_grads(False))
        self.cache = (None, None)

    def route(self, position, g, ans, core):
        """An output's cotangent placed into the packed cotangent of the call's node."""
        self.received.add(position)
        before, size = sum(self.sizes[:position]), self.sizes[position]
        after = sum(self.sizes) - before - size
        if type(g) is not Tensor:
            packed = np.zeros(sum(self.sizes), self.dtype)
            packed[before:before + size] = np.reshape(g, -1)
            return packed
        parts = [Tensor._from_array(np.zeros(before, self.dtype)), to(reshape(g, (-1,)), from_numpy(self.dtype)),
                 Tensor._from_array(np.zeros(after, self.dtype))]
        return cat(parts)

    def vjp(self, i, g, ans, *args):
        if self.cache[0] is not g:
            self.cache = (g, self._run(g))
        grads = self.cache[1]
        return grads[i] if i < len(grads) else None

    def _run(self, g):
        recorded = type(g) is Tensor
        if not recorded:
            g = Tensor._from_array(np.asarray(g))
        grad_outputs = self._grad_outputs(g)
        with no_grad() if not recorded else _unchanged():
            grads = self.backward(self.ctx, *grad_outputs)
        grads = _checked(self.name, grads if isinstance(grads, tuple) else (grads,), self.args)
        return [gi if gi is None or recorded else gi._data for gi in grads]

    def _grad_outputs(self, g):
        """A cotangent per output: its part of the packed one, zeros (or None, without materialize_grads) for
        outputs no cotangent reached and for the non-differentiable ones."""
        if len(self.chosen) == 1:
            given = {self.chosen[0]: g}
        else:
            given, offset = {}, 0
            for position, (j, size) in enumerate(zip(self.chosen, self.sizes)):
                if position in self.received or self.ctx.materialize_grads:
                    given[j] = reshape(getitem(g, slice(offset, offset + size)), self.outputs[j].shape)
                offset += size
            self.received = set()
        result = []
        for j, out in enumerate(self.outputs):
            if j in given:
                result.append(given[j])
            elif out is not None and self.ctx.materialize_grads:
                result.append(zeros_like(out))
            else:
                result.append(None)
        return result


class _unchanged:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _checked(name, grads, args):
    """torch's checks of what a backward returned: one gradient per input (extra Nones allowed), each of a shape
    the input's expands to."""
    if len(grads) != len(args):
        if len(grads) > len(args) and all(g is None for g in grads[len(args):]):
            grads = grads[:len(args)]
        else:
            raise RuntimeError(f"function {name} returned an incorrect number of gradients (expected {len(args)}, "
                               f"got {len(grads)})")
    for i, (g, a) in enumerate(zip(grads, args)):
        if g is None or type(a) is not Tensor or not a._requires_grad:
            continue
        shape, got = a._data.shape, g.shape
        try:
            compatible = np.broadcast_shapes(shape, tuple(got)) == tuple(got)
        except ValueError:
            compatible = False
        if not compatible:
            raise RuntimeError(f"Function {name} returned an invalid gradient at index {i} - got {list(got)} but "
                               f"expected shape compatible with {list(shape)}")
    return [g if type(a) is Tensor and a._requires_grad else None for g, a in zip(grads, args)]


def _push_tangents(cls, ctx, args, outputs, token):
    """Forward mode: the outputs' tangents from the user's jvp, given every tensor input's tangent (zeros for an
    input without one, None for arguments that are not tensors)."""
    tangents = [tangent_of(a) if type(a) is Tensor and a._tangent is not None and a._tangent[0] is token else None
                for a in args]
    if all(t is None for t in tangents):
        return
    tangents = [zeros_like(a) if t is None and type(a) is Tensor else t for t, a in zip(tangents, args)]
    state.forward_token = None
    try:
        result = cls.jvp(ctx, *tangents)
    finally:
        state.forward_token = token
    result = result if isinstance(result, tuple) else (result,)
    for out, tangent in zip(outputs, result):
        if type(out) is Tensor and tangent is not None:
            value = tangent if tangent._requires_grad else np.asarray(tangent._data, out._data.dtype)
            out._tangent = (token, value)


def once_differentiable(fn):
    """Mark a backward as not differentiable: it runs with gradients off, so its results carry no graph (a second
    derivative through it fails, as torch's)."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)
    return wrapper
