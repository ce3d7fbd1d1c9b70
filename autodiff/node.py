"""Graph nodes (``grad_fn``) and the op declaration they read their rules from.

An :class:`Op` is declared once, in the rule table under ``autodiff/ops/``, with its forward (on numpy arrays),
one VJP per input and one JVP per input side by side. A :class:`Node` is one application of an op: it keeps the
op, the inputs (tensors or constants), the keyword arguments and the forward's result, and nothing per-op.
"""
from __future__ import annotations

import itertools
import weakref

from .anomaly import forward_trace
from .grad_mode import state
from .tensor import Tensor
from .utils.hooks import RemovableHandle

__all__ = ["Op", "Node", "OPS", "defop", "sequence", "POST_HOOKS"]

# What few nodes have is kept beside them, not in a slot every node pays for on the hot path: a node's
# ``metadata`` dict and its post hooks (``register_hook``), by node, forgotten with it.
_METADATA: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
POST_HOOKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

sequence = itertools.count()   # numbers the nodes in the order they are recorded


class Op:
    """A differentiable primitive.

    ``forward(*arrays, **kw)`` computes on numpy arrays. ``vjps[i](g, ans, *args, **kw)`` returns the
    cotangent of input ``i`` given the output cotangent ``g``; ``jvps[i](t, ans, *args, **kw)`` returns the
    output tangent contributed by the tangent ``t`` of input ``i``. Rules are written with autodiff's own
    functions and operators, so they run on raw arrays when gradients are not recorded and build a graph
    (double backward, forward-over-reverse) when they are. Broadcasting is undone by the engine, not the rules.
    Variadic ops (``cat``, ``stack``) give a single rule taking the input index first: ``vjp(i, g, ans, ...)``.
    """

    __slots__ = ("name", "forward", "vjps", "jvps", "variadic", "saves", "differentiable", "fills",
                 "reads_inputs", "grad_names")

    def __init__(self, name, forward, vjps=None, jvps=None, *, variadic=False, saves=True, differentiable=True,
                 fills=False, grad_names=None):
        self.name = name            # the grad_fn name, as torch prints it: "SumBackward0"
        self.forward = forward
        self.vjps = vjps
        self.jvps = jvps
        self.variadic = variadic
        # which input (or output, -1) values the VJPs read, so that in-place edits of them are errors: True (all),
        # a tuple giving, per input, what its VJP reads, or a function of the node's inputs giving the indices
        self.saves = saves
        self.differentiable = differentiable
        self.fills = fills          # writes one value everywhere (fill_, zero_): allowed where elements alias
        # whether a VJP may read an input's value (else the nodes need not remember the inputs' versions)
        self.reads_inputs = not isinstance(saves, tuple) or any(i >= 0 for reads in saves for i in reads)
        # torch's name for the node a create_graph gradient ends in, where torch's backward is one op of its own
        # (tanh's: TanhBackwardBackward0): a tuple per input, or a function (input index, node) -> name or None
        self.grad_names = grad_names

    def grad_name(self, i, node):
        names = self.grad_names
        return names(i, node) if callable(names) else names[i]

    def reads(self, args) -> set:
        """Indices of the arguments (-1: the output) whose values the VJPs of the grad-requiring inputs read."""
        if self.saves is True:
            return {i for i, a in enumerate(args) if isinstance(a, Tensor)} | {-1}
        if callable(self.saves):
            return self.saves(args)
        needed = set()
        for i, reads in enumerate(self.saves):
            if i < len(args) and isinstance(args[i], Tensor) and args[i]._requires_grad:
                needed.update(reads)
        return needed

    def jvp(self, i, t, ans, args, kw):
        if self.variadic:
            return self.jvps(i, t, ans, *args, **kw)
        return self.jvps[i](t, ans, *args, **kw)

    def __repr__(self) -> str:
        return f"Op({self.name})"


class Node:
    """One recorded application of an op: what ``tensor.grad_fn`` is."""

    __module__ = "autodiff.autograd.graph"     # where torch's Node says it lives

    __slots__ = ("op", "args", "arrays", "edges", "versions", "kw", "ans", "epoch", "seq", "out_version", "out_saved",
                 "freed", "retained", "hooks", "name_override", "ans_tangent", "trace", "__weakref__")

    # ``autodiff.dispatch.apply`` records its nodes without calling this (the same fields, set inline: it is the
    # hot path); keep the two in step.
    def __init__(self, op, args, kw, ans, epoch, out_version):
        self.op = op
        self.args = args
        # the inputs' arrays as recorded, what the VJPs read in a backward that records no graph (valid while
        # state.epoch is still self.epoch: an in-place change or a .data assignment ticks the clock)
        self.arrays = [a._data if type(a) is Tensor else a for a in args]
        # Where each grad-requiring input's cotangent goes, bound now (as torch binds edges): the input's node,
        # or the input itself for a leaf. A later in-place op that rebases the input does not re-route them.
        self.edges = [(i, a._grad_fn or a) for i, a in enumerate(args) if type(a) is Tensor and a._requires_grad]
        # each input's version when recorded: the backward compares them (torch's saved_version)
        self.versions = [a._vc[0] if type(a) is Tensor else 0 for a in args] if op.reads_inputs else None
        self.kw = kw
        self.ans = ans
        self.epoch = epoch              # state.epoch when recorded: no in-place change since means nothing to check
        self.seq = next(sequence)       # the order of recording: the backward runs nodes latest first
        self.out_version = out_version  # the output's version counter (the VJP may read the output)
        self.out_saved = out_version[0]
        self.freed = False
        self.retained = None        # non-leaf tensors of this node that called retain_grad()
        self.hooks = None           # hook dicts of the tensors whose grad_fn this is (register_hook)
        self.name_override = None
        self.ans_tangent = None
        self.trace = forward_trace() if state.anomaly else None   # where it was recorded (anomaly mode)

    def name(self) -> str:
        return self.name_override or self.op.name

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def metadata(self) -> dict:
        """A dict for the user's own notes on this node, as torch's ``Node.metadata``."""
        return _METADATA.setdefault(self, {})

    def register_prehook(self, fn) -> RemovableHandle:
        """Register ``fn(grad_outputs) -> None | grad_outputs``, run on the node's cotangent before its VJPs (after
        the hooks of the tensor it made)."""
        hooks: dict = {}
        handle = RemovableHandle(hooks)
        hooks[handle.id] = lambda g: _first(fn((g,)))
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hooks)
        return handle

    def register_hook(self, fn) -> RemovableHandle:
        """Register ``fn(grad_inputs, grad_outputs) -> None | grad_inputs``, run after the node's VJPs (a tuple
        with an entry per tensor input, None where no gradient flows) before the gradients go on."""
        hooks = POST_HOOKS.setdefault(self, {})
        handle = RemovableHandle(hooks)
        hooks[handle.id] = fn
        return handle

    @property
    def next_functions(self):
        bound = dict(self.edges)
        out = []
        for i, a in enumerate(self.args):
            if i in bound:
                key = bound[i]
                out.append((_AccumulateGrad(key) if type(key) is Tensor else key, 0))
            elif type(a) is Tensor:
                out.append((None, 0))
        return tuple(out)


def _first(grads):
    return None if grads is None else grads[0]


class _AccumulateGrad:
    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    next_functions = ()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


OPS: dict[str, Op] = {}   # every op, by grad_fn name: the rule table the ops under ``autodiff/ops/`` declare into


def defop(name, forward, vjps=None, jvps=None, **options) -> Op:
    """Declare a differentiable op once: forward on arrays, a VJP and a JVP per input."""
    op = Op(name, forward, vjps, jvps, **options)
    if name in OPS:
        raise ValueError(f"op {name} declared twice")
    OPS[name] = op
    return op
