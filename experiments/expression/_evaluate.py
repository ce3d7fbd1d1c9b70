"""Evaluate a compiled tree by calling autodiff: values and gradients are the engine's (torch's)."""

from __future__ import annotations

import operator
from collections.abc import Mapping

import autodiff as ad

from ._functions import FUNCTIONS
from ._nodes import Binary, Call, Index, Node, Number, Parameter, Slice, Unary

_BINARY = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow,
    "@": operator.matmul,
}


class EvaluationFailure(Exception):
    """An operation of the tree failed; carries the node, so the caller can point at it."""

    def __init__(self, node: Node, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.node = node
        self.cause = cause


def _as_tensor(value, dtype):
    return value if isinstance(value, ad.Tensor) else ad.tensor(value, dtype=dtype)


def _key(key: tuple[int | Slice, ...]):
    items = tuple(slice(k.start, k.stop, k.step) if isinstance(k, Slice) else k for k in key)
    return items[0] if len(items) == 1 else items


def evaluate(root: Node, params: Mapping[str, ad.Tensor], dtype) -> ad.Tensor:
    """The value of ``root`` with the parameters bound to ``params``, as a tensor of ``dtype``'s kind.

    Raises:
        EvaluationFailure: naming the innermost node whose operation raised (e.g. shapes that do not broadcast).
    """

    def value(node: Node):
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Parameter):
            return params[node.name]
        try:
            if isinstance(node, Unary):
                operand = value(node.operand)
                return -operand if node.op == "-" else +operand
            if isinstance(node, Binary):
                return _BINARY[node.op](_as_tensor(value(node.left), dtype), value(node.right))
            if isinstance(node, Call):
                args = [_as_tensor(value(arg), dtype) for arg in node.args]
                return FUNCTIONS[node.function].call(*args)
            if isinstance(node, Index):
                return _as_tensor(value(node.value), dtype)[_key(node.key)]
        except EvaluationFailure:
            raise
        except Exception as exc:  # the engine's own error, attributed to this node
            raise EvaluationFailure(node, exc) from exc
        raise TypeError(f"not a node of the expression language: {node!r}")

    return _as_tensor(value(root), dtype)
