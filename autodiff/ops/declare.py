"""How an op is declared: one entry names the op's rules and the public names bound to it.

``defop`` (from ``autodiff.node``) declares a differentiable op: its grad_fn name, forward, VJPs, JVPs and what
the VJPs read. ``declare`` binds public names to it: the module function (``autodiff.sin``) and its aliases, the
Tensor method of the same names and the in-place variant (``Tensor.sin_``). Given an op, it generates them;
given a hand-written function (for an op whose arguments choose among overloads, such as ``pow`` or ``sum``), it
binds that. ``unary`` is the common case of an elementwise op of one input, in one line:

    sinh = declare("sinh", unary("SinhBackward0", np.sinh, lambda ans, x: cosh(x), reads=(0,)), inplace=True)

``PUBLIC`` holds every binding. ``autodiff.methods`` attaches the methods and in-place variants to Tensor from
it, and ``python -m autodiff.methods`` regenerates the declarations editors read (the Tensor method stubs and
``autodiff/__init__.py``'s imports), which a test keeps current.
"""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass

import numpy as np

from ..dispatch import apply
from ..node import Op, defop
from ..tensor import Tensor
from ..inplace import apply_inplace
from ._helpers import check_tensor, floating, times

_ndarray = np.ndarray

__all__ = ["defop", "declare", "unary", "by_input", "floating_forward", "PUBLIC", "Binding"]


@dataclass(frozen=True)
class Binding:
    """The public names of one entry: ``name`` and ``aliases`` as module functions (``function``) and Tensor
    methods (``method``), and the in-place variant ``name_`` (and each ``alias_``) when ``inplace`` is given."""

    name: str
    function: object
    module: str
    aliases: tuple = ()
    is_function: bool = True
    is_method: bool = True
    inplace: object = None


PUBLIC: dict[str, Binding] = {}


def declare(name, target=None, *, aliases=(), function=True, method=True, inplace=None):
    """Bind public names to an op (generating the function) or to a hand-written function; returns the function.

    ``inplace``: True to generate ``Tensor.<name>_`` from the op, an op to generate it from (beside a hand-written
    function), or a hand-written in-place function.
    Without ``target``, a decorator for a hand-written function.
    """
    if target is None:
        return lambda func: declare(name, func, aliases=aliases, function=function, method=method, inplace=inplace)
    # the module the entry is in (a generated function is made here, so it is named after the caller's module)
    module = target.__module__ if callable(target) else sys._getframe(1).f_globals["__name__"]
    if isinstance(target, Op):
        func = _generated_function(target, name, module)
        if inplace is True:
            inplace = _generated_inplace(target, name + "_", module)
    else:
        func = target
        if inplace is True:
            raise ValueError(f"{name}: a hand-written function needs a hand-written in-place variant or its op")
    if isinstance(inplace, Op):
        inplace = _generated_inplace(inplace, name + "_", module)
    if name in PUBLIC:
        raise ValueError(f"public name {name} declared twice")
    PUBLIC[name] = Binding(name, func, module, tuple(aliases), function, method, inplace or None)
    return func


def unary(name, forward, partial, reads, grad_name=None):
    """An elementwise op of one input whose VJP and JVP multiply by ``partial(ans, x)``; ``reads`` says what
    the partial reads: ``(0,)`` the input, ``(-1,)`` the output, ``()`` neither (tests check it). ``grad_name``:
    torch's name for the node of a create_graph gradient, where torch's backward is an op of its own."""
    def vjp(g, ans, x):
        # times() hands a large broadcast 1 through without a pass; small cotangents multiply directly
        return g * partial(ans, x) if type(g) is not _ndarray or g.size <= 4096 else times(g, partial(ans, x))
    return defop(name, forward, (vjp,), (lambda t, ans, x: t * partial(ans, x),), saves=(tuple(reads),),
                 grad_names=grad_name and (grad_name,))


def by_input(rule, inputs) -> dict:
    """The rules of an elementwise op of several inputs, written once: ``rule(i, g, ans, *args, **kw)`` is ``g``
    times the partial derivative of the output w.r.t. input ``i`` (None where there is none). Being linear in
    ``g``, the same function is the JVP with a tangent in place of ``g``. Returns ``vjps`` and ``jvps`` for defop.
    """
    rules = tuple(functools.partial(rule, i) for i in range(inputs))
    return {"vjps": rules, "jvps": rules}


def floating_forward(func):
    """``func`` applied to the input as a floating array (ints and bools give the default float, as torch)."""
    def forward(x):
        return func(x) if x.dtype.kind == "f" else func(floating(x))
    forward.__name__ = getattr(func, "__name__", "forward")
    return forward


def _generated_function(op, name, module):
    """The module function of an op: ``name(input)`` or ``name(input, other)``, as torch names the arguments."""
    arity = len(op.vjps)
    forward = op.forward
    if arity == 1:
        def function(input):
            if type(input) is _ndarray:      # a rule running on arrays (a backward that records no graph)
                return forward(input)
            if type(input) is not Tensor:
                check_tensor(input, name)
            return apply(op, input)
    elif arity == 2:
        def function(input, other):
            return apply(op, input, other)
    else:
        raise ValueError(f"{name}: write the function of an op of {arity} inputs by hand")
    return _named(function, name, module, f"``{name}`` ({op.name}): see torch.{name}.")


def _generated_inplace(op, name, module):
    arity = len(op.vjps)
    if arity == 1:
        def inplace(self):
            return apply_inplace(self, op)
    elif arity == 2:
        def inplace(self, other):
            return apply_inplace(self, op, other)
    else:
        raise ValueError(f"{name}: write the in-place variant of an op of {arity} inputs by hand")
    return _named(inplace, name, module, f"In-place ``{name}``, recorded as {op.name}.")


def _named(func, name, module, doc):
    func.__name__ = func.__qualname__ = name
    func.__module__ = module
    func.__doc__ = doc
    return func
