"""The objective expression language: user text in, a tree of whitelisted autodiff operations out.

``objective=expression objective.expr='sum(3*a**3 - b**2)' objective.init.a=[2,3] objective.init.b=[6,4]``
minimises a function typed on the command line. The text is the only place user input becomes computation, so
it is never given to ``eval``/``exec``/``compile``: :func:`parse` builds Python's syntax tree (``ast`` in
``'eval'`` mode, which only parses) and walks it against a whitelist, translating each node into one of six
operations (:mod:`experiments.expression._nodes`) or refusing it with an
:class:`~experiments.errors.ExpressionError` that shows the expression, puts a caret line under the offending
part and says what is allowed. Evaluation calls ``autodiff`` functions only.

Grammar (Python's precedence and associativity; ``**`` binds tighter than unary minus on its left)::

    expression := term   (("+" | "-") term)*
    term       := factor (("*" | "/" | "@") factor)*
    factor     := ("-" | "+") factor | power
    power      := postfix ["**" factor]
    postfix    := atom ("[" index ("," index)* "]")*
    index      := integer | [integer] ":" [integer] [":" [integer]]
    integer    := ["-" | "+"] digits
    atom       := number | parameter | "pi" | "e" | function "(" expression ("," expression)* ")"
                | "(" expression ")"

* ``number``: an int or float literal (``3``, ``0.5``, ``1e-3``), finite in float64.
* ``parameter``: a name given in ``objective.init``; any other name is refused.
* ``function``: one of :data:`FUNCTIONS`: elementwise ``abs cos exp log relu sigmoid sin sqrt square tan
  tanh``; reductions over all elements ``sum mean prod norm logsumexp max min``; ``max(x, y)`` / ``min(x, y)``
  elementwise; ``softmax(x)`` along the last dimension; ``dot(x, y)`` for 1-D tensors. Positional arguments
  only.
* ``@`` is matrix multiplication; indexing follows torch (``A[0, 1:]``, ``x[-1]``, ``x[::2]``).

Refused: attribute access, any name starting with ``__``, calls to anything but the functions above, lambdas,
comprehensions, strings, booleans, None, comparisons, ``and``/``or``/``not``, conditional expressions, lists,
tuples, dicts, keyword arguments, starred arguments, ``:=``, the operators ``// % << >> & | ^ ~``, and
statements (``import`` is a statement: it does not parse in ``'eval'`` mode).

Limits (resource exhaustion): at most :data:`MAX_LENGTH` characters, brackets nested at most
:data:`MAX_NESTING` deep, a syntax tree at most :data:`MAX_DEPTH` levels deep, and a constant exponent ``p`` in
``x ** p`` with ``|p| <=`` :data:`MAX_EXPONENT`. Constant sub-expressions are folded in Python floats at parse
time (so ``9**9**9`` is refused at its exponent ``9**9`` rather than computed), and all arithmetic on
parameters happens in floating point tensors, so no integer ever grows without bound.

Example::

    >>> expr = parse("sum(3*a**3 - b**2)", names=["a", "b"])
    >>> expr.evaluate({"a": ad.tensor([2., 3.]), "b": ad.tensor([6., 4.])})
    tensor(53.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import autodiff as ad

from experiments.errors import ExpressionError

from ._evaluate import EvaluationFailure, evaluate
from ._functions import FUNCTIONS
from ._nodes import BINARY_OPERATORS, NODE_TYPES, UNARY_OPERATORS, Node, Parameter, walk
from ._parse import CONSTANTS, MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, MAX_NESTING, _Compiler, compile_expression
from ._source import refusal

__all__ = [
    "BINARY_OPERATORS",
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_NESTING",
    "NODE_TYPES",
    "UNARY_OPERATORS",
    "Expression",
    "ExpressionError",
    "parse",
]


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, the parameter names it may use, and its tree of allowed operations."""

    source: str
    names: frozenset[str]
    root: Node

    def nodes(self):
        """Every node of the tree (parents first)."""
        return walk(self.root)

    def used_names(self) -> frozenset[str]:
        """The parameter names the expression actually uses."""
        return frozenset(node.name for node in self.nodes() if isinstance(node, Parameter))

    def evaluate(self, params: Mapping[str, ad.Tensor]) -> ad.Tensor:
        """The expression's value at ``params`` (name -> tensor), built from autodiff operations.

        Raises:
            ExpressionError: when an operation fails at these values (shapes that do not broadcast, an index
                out of range, ...), pointing at the operation.
        """
        dtype = next(iter(params.values())).dtype if params else ad.get_default_dtype()
        try:
            return evaluate(self.root, params, dtype)
        except EvaluationFailure as failure:
            allowed = _Compiler(self.source, self.names).allowed
            shapes = ", ".join(f"{name}: {tuple(t.shape)}" for name, t in params.items())
            raise refusal(
                self.source,
                f"this operation fails at the given values ({failure}); parameter shapes are {shapes}",
                failure.node.span,
                allowed,
            ) from failure.cause


def parse(source: str, names: Iterable[str]) -> Expression:
    """Parse ``source`` over the parameter names ``names`` into an :class:`Expression`.

    Raises:
        ExpressionError: anything outside the grammar or the limits (see the module docstring).
    """
    names = frozenset(names)
    root = compile_expression(source, names)
    return Expression(source.strip(), names, root)
