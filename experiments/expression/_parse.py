"""Text -> tree of allowed operations, by walking Python's ``ast`` against a whitelist.

Nothing here ever runs the text: ``ast.parse`` only builds a syntax tree, and every node of it is either
translated into one of the six node kinds of :mod:`._nodes` or refused with an :class:`ExpressionError`.
Limits are checked before (length, bracket nesting) and right after parsing (tree depth), so recursion here is
bounded; constant arithmetic is folded in Python floats with every exponent bounded.
"""

from __future__ import annotations

import ast
import math
import operator
import warnings
from collections.abc import Iterable

from ._functions import FUNCTIONS
from ._nodes import Binary, Call, Index, Node, Number, Parameter, Slice, Unary
from ._source import Span, refusal, span_of

MAX_LENGTH = 1000  # characters
MAX_NESTING = 32  # open brackets ( [ { at once
MAX_DEPTH = 100  # levels of the syntax tree (a chain a+a+...+a of n terms is n levels)
MAX_EXPONENT = 100  # |p| for a constant exponent p in x**p

CONSTANTS = {"pi": math.pi, "e": math.e}

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}
_FOLD = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow}
_OPERATOR_TEXT = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^",
    ast.BitAnd: "&", ast.Invert: "~", ast.Not: "not",
}
_DISALLOWED = {
    ast.Attribute: "attribute access is not allowed",
    ast.Lambda: "lambda expressions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions and generator expressions are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "boolean operators (and, or) are not allowed",
    ast.IfExp: "conditional expressions (x if c else y) are not allowed",
    ast.List: "lists are not allowed (write the values in init)",
    ast.Tuple: "tuples are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.FormattedValue: "strings are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "slices are only allowed inside [ ]",
}


def _describe_constant(value: object) -> str:
    if isinstance(value, str):
        return "strings are not allowed"
    if isinstance(value, bytes):
        return "bytes are not allowed"
    if isinstance(value, bool):
        return f"booleans ({value}) are not allowed"
    if value is None:
        return "None is not allowed"
    if value is Ellipsis:
        return "... is not allowed"
    if isinstance(value, complex):
        return "complex numbers are not allowed"
    return f"the constant {value!r} is not allowed"


class _Compiler:
    def __init__(self, source: str, names: frozenset[str]) -> None:
        self.source = source
        self.names = names
        parameters = ", ".join(sorted(names)) or "(none)"
        self.allowed = (
            f"Allowed: numbers; the parameters {parameters}; the constants pi and e; + - * / ** @ and unary - +; "
            f"parentheses; calls to {', '.join(sorted(FUNCTIONS))}; indexing and slicing with integer constants "
            f"(x[0], x[-1], x[1:3], A[0, :]). Constant exponents are limited to |p| <= {MAX_EXPONENT}."
        )

    def refuse(self, problem: str, where: ast.AST | Span | None) -> Exception:
        span = span_of(where, self.source) if isinstance(where, ast.AST) else where
        return refusal(self.source, problem, span, self.allowed)

    # -- the whitelist walk ------------------------------------------------------------------------------
    def compile(self, node: ast.AST) -> Node:
        span = span_of(node, self.source)
        if isinstance(node, ast.Constant):
            return self.number(node, span)
        if isinstance(node, ast.Name):
            return self.name(node, span)
        if isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                raise self.refuse(f"the operator {_OPERATOR_TEXT[type(node.op)]} is not allowed", node)
            return self.fold(Unary(_UNARY[type(node.op)], self.compile(node.operand), span))
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                symbol = _OPERATOR_TEXT[type(node.op)]
                raise self.refuse(f"the operator {symbol} is not allowed", self.operator_span(node))
            return self.fold(Binary(_BINARY[type(node.op)], self.compile(node.left), self.compile(node.right), span))
        if isinstance(node, ast.Call):
            return self.call(node, span)
        if isinstance(node, ast.Subscript):
            return Index(self.compile(node.value), self.index_key(node.slice), span)
        if isinstance(node, ast.Attribute):
            # Point at the attribute's name, the part that makes it an attribute access.
            name_span = Span(span.end_line, span.end_column - len(node.attr), span.end_line, span.end_column)
            raise self.refuse(f"attribute access (.{node.attr}) is not allowed", name_span)
        raise self.refuse(_DISALLOWED.get(type(node), f"{type(node).__name__} is not allowed"), node)

    def number(self, node: ast.Constant, span: Span) -> Number:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.refuse(_describe_constant(value), node)
        try:
            as_float = float(value)
        except OverflowError:
            as_float = math.inf
        if not math.isfinite(as_float):
            raise self.refuse("the number is too large (it is not a finite float64)", node)
        return Number(as_float, span)

    def name(self, node: ast.Name, span: Span) -> Node:
        if node.id.startswith("__"):
            raise self.refuse(f"dunder names ({node.id}) are not allowed", node)
        if node.id in self.names:
            return Parameter(node.id, span)
        if node.id in CONSTANTS:
            return Number(CONSTANTS[node.id], span)
        if node.id in FUNCTIONS:
            raise self.refuse(f"{node.id} is a function: call it, {node.id}(...)", node)
        raise self.refuse(f"unknown name {node.id!r}", node)

    def call(self, node: ast.Call, span: Span) -> Call:
        if not isinstance(node.func, ast.Name):
            self.compile(node.func)  # refuses attributes, lambdas, ... with their own message
            raise self.refuse("only the named functions can be called", node.func)
        function = node.func.id
        if function.startswith("__"):
            raise self.refuse(f"dunder names ({function}) are not allowed", node.func)
        if function not in FUNCTIONS:
            what = "a parameter, not a function" if function in self.names else "not an allowed function"
            raise self.refuse(f"{function!r} is {what}", node.func)
        if node.keywords:
            keyword = node.keywords[0]
            raise self.refuse(f"keyword arguments ({keyword.arg or '**'}=) are not allowed", keyword)
        arities = FUNCTIONS[function].arities
        if len(node.args) not in arities:
            counts = " or ".join(str(n) for n in arities)
            raise self.refuse(f"{function}() takes {counts} argument(s), got {len(node.args)}", node)
        return Call(function, tuple(self.compile(arg) for arg in node.args), span)

    # -- indexing -------------------------------------------------------------------------------------------
    def index_key(self, key: ast.AST) -> tuple[int | Slice, ...]:
        items = key.elts if isinstance(key, ast.Tuple) else [key]
        if not items:
            raise self.refuse("an index needs at least one integer or slice", key)
        return tuple(self.slice(item) if isinstance(item, ast.Slice) else self.integer(item) for item in items)

    def slice(self, item: ast.Slice) -> Slice:
        def bound(part):
            return None if part is None else self.integer(part)

        return Slice(bound(item.lower), bound(item.upper), bound(item.step))

    def integer(self, node: ast.AST) -> int:
        sign = 1
        inner = node
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            sign = -1 if isinstance(node.op, ast.USub) else 1
            inner = node.operand
        if isinstance(inner, ast.Constant) and type(inner.value) is int and abs(inner.value) < 2**31:
            return sign * inner.value
        raise self.refuse("indices must be integer constants (like 0, -1, 1:3 or ::2)", node)

    # -- constant folding, bounded --------------------------------------------------------------------------
    def fold(self, node: Unary | Binary) -> Node:
        if isinstance(node, Binary) and node.op == "**" and isinstance(node.right, Number):
            if abs(node.right.value) > MAX_EXPONENT:
                raise self.refuse(
                    f"the exponent {node.right.value:g} is too large (constant exponents must satisfy "
                    f"|p| <= {MAX_EXPONENT})",
                    node.right.span,
                )
        if isinstance(node, Unary) and isinstance(node.operand, Number):
            value = -node.operand.value if node.op == "-" else node.operand.value
            return Number(value, node.span)
        if isinstance(node, Binary) and isinstance(node.left, Number) and isinstance(node.right, Number):
            if node.op == "@":
                raise self.refuse("@ needs tensors on both sides, not numbers", node.span)
            try:
                value = _FOLD[node.op](node.left.value, node.right.value)
            except (ZeroDivisionError, OverflowError) as exc:
                raise self.refuse(f"this constant cannot be computed ({exc})", node.span) from None
            if not isinstance(value, float) or not math.isfinite(value):
                raise self.refuse("this constant is not a finite real number", node.span)
            return Number(value, node.span)
        return node

    def operator_span(self, node: ast.BinOp) -> Span:
        """The operator token between the operands (found in the text: ast does not record it)."""
        left, right = span_of(node.left, self.source), span_of(node.right, self.source)
        if left.end_line == right.line:
            text = (self.source.splitlines() or [""])[left.end_line - 1]
            symbol = _OPERATOR_TEXT[type(node.op)]
            found = text.find(symbol, left.end_column, right.column)
            if found >= 0:
                return Span(left.end_line, found, left.end_line, found + len(symbol))
        return span_of(node, self.source)


def _check_text(source: object, compiler_names: frozenset[str]) -> str:
    if not isinstance(source, str):
        compiler = _Compiler(str(source), compiler_names)
        raise compiler.refuse(f"an expression must be a string, got {type(source).__name__}", None)
    return source


def _scan_text(compiler: _Compiler, source: str) -> None:
    """Refuse control characters (they would garble the message) and brackets nested too deep."""
    depth = 0
    line, column = 1, 0
    for char in source:
        if not (char.isprintable() or char in "\n\t"):
            raise compiler.refuse(
                f"the character U+{ord(char):04X} is not allowed", Span(line, column, line, column + 1)
            )
        if char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise compiler.refuse(
                    f"brackets are nested more than {MAX_NESTING} deep", Span(line, column, line, column + 1)
                )
        elif char in ")]}":
            depth -= 1
        if char == "\n":
            line, column = line + 1, 0
        else:
            column += 1


def _check_depth(compiler: _Compiler, tree: ast.AST) -> None:
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise compiler.refuse(f"the expression is nested more than {MAX_DEPTH} levels deep", node)
        stack.extend(
            (child, depth + 1) for child in ast.iter_child_nodes(node) if not isinstance(child, ast.expr_context)
        )


def _syntax_error(compiler: _Compiler, source: str, exc: BaseException) -> Exception:
    if isinstance(exc, SyntaxError) and exc.lineno:
        lines = source.splitlines() or [""]
        line = min(exc.lineno, len(lines))
        text = lines[line - 1]
        # offset is 1-based in characters; 0 or None means "at the end" (the text stopped too early).
        column = min(exc.offset - 1, len(text)) if exc.offset and exc.offset > 0 else len(text)
        end = exc.end_offset - 1 if exc.end_lineno == exc.lineno and (exc.end_offset or 0) - 1 > column else column + 1
        return compiler.refuse(f"malformed expression ({exc.msg})", Span(line, column, line, min(end, len(text) + 1)))
    return compiler.refuse(f"malformed expression ({type(exc).__name__}: {exc})", None)


def compile_expression(source: object, names: Iterable[str]) -> Node:
    """Parse ``source`` into a tree of allowed operations over the parameters ``names``.

    Raises:
        ExpressionError: for anything outside the grammar or the limits, pointing at the offending part.
    """
    names = frozenset(names)
    # Surrounding blank space is no part of the expression (YAML block scalars add some); eval() drops it too.
    source = _check_text(source, names).strip()
    compiler = _Compiler(source, names)
    if len(source) > MAX_LENGTH:
        raise compiler.refuse(f"the expression is {len(source)} characters long; the limit is {MAX_LENGTH}", None)
    if not source.strip():
        raise compiler.refuse("the expression is empty", None)
    _scan_text(compiler, source)
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" and the like: the refusal says enough
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError) as exc:
        raise _syntax_error(compiler, source, exc) from None
    _check_depth(compiler, tree)
    return compiler.compile(tree.body)
