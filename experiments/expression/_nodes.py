"""The compiled form of an expression: a small tree of the only operations the language has.

The parser builds nothing but these six node kinds; the evaluator knows nothing but them. A fuzz test walks
every parsed tree and checks that it is made of them alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._source import Span

UNARY_OPERATORS = ("-", "+")
BINARY_OPERATORS = ("+", "-", "*", "/", "**", "@")


@dataclass(frozen=True, slots=True)
class Number:
    """A finite real constant (a literal, ``pi``, ``e``, or constant arithmetic folded at parse time)."""

    value: float
    span: Span


@dataclass(frozen=True, slots=True)
class Parameter:
    """One of the objective's named parameters (a name from ``init``)."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Unary:
    """``-x`` or ``+x``."""

    op: str
    operand: Node
    span: Span


@dataclass(frozen=True, slots=True)
class Binary:
    """``left op right`` for op in ``+ - * / ** @``."""

    op: str
    left: Node
    right: Node
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    """A call to one of the whitelisted functions (``experiments.expression.FUNCTIONS``)."""

    function: str
    args: tuple[Node, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Slice:
    """``start:stop:step`` with integer constants (each may be absent)."""

    start: int | None
    stop: int | None
    step: int | None


@dataclass(frozen=True, slots=True)
class Index:
    """``value[key]``: integers and slices of integer constants, one per indexed dimension."""

    value: Node
    key: tuple[int | Slice, ...]
    span: Span


Node = Number | Parameter | Unary | Binary | Call | Index
NODE_TYPES = (Number, Parameter, Unary, Binary, Call, Index)


def children(node: Node) -> tuple[Node, ...]:
    """The sub-expressions of ``node``."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Index):
        return (node.value,)
    return ()


def walk(root: Node):
    """Every node of the tree, parents before children (iterative, so any depth is fine)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))
