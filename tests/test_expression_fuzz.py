"""Fuzzing the expression parser: thousands of generated strings and syntax trees.

Properties: parsing (and evaluating what parses) never executes code: the only audit events raised are
``ast.parse``'s own ``compile`` of exactly the given text and ``builtins.id``; it never takes long; and every
input either becomes a tree made only of the six allowed node kinds, or is refused with an ExpressionError.
Trees generated from the grammar alone evaluate like the same text evaluated by torch.
"""

from __future__ import annotations

import ast
import math
import sys
import threading
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import autodiff as ad
from experiments.errors import ExpressionError
from experiments.expression import (
    BINARY_OPERATORS,
    FUNCTIONS,
    MAX_LENGTH,
    NODE_TYPES,
    UNARY_OPERATORS,
    parse,
)
from experiments.expression._nodes import Binary, Call, Index, Number, Parameter, Slice, Unary
from experiments.expression._source import Span

NAMES = ("a", "b", "s", "M")
FUZZ = settings(
    deadline=timedelta(seconds=2),  # a bound on each example, generous for a loaded machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)

# -- what "never executes code" means: an audit-hook allowlist -------------------------------------------------
_recording = threading.local()


def _audit(event, args):
    log = getattr(_recording, "log", None)
    if log is not None:
        log.append((event, args))


sys.addaudithook(_audit)


def _params():
    return {
        "a": ad.tensor([0.5, -1.5], dtype=ad.float64, requires_grad=True),
        "b": ad.tensor([2.0, 0.25], dtype=ad.float64, requires_grad=True),
        "s": ad.tensor(0.75, dtype=ad.float64, requires_grad=True),
        "M": ad.tensor([[1.0, 2.0], [-0.5, 3.0]], dtype=ad.float64, requires_grad=True),
    }


_params()  # import everything the evaluator touches before recording starts


def _check_tree(expression) -> None:
    for node in expression.nodes():
        assert type(node) in NODE_TYPES
        for field in node.__dataclass_fields__:
            value = getattr(node, field)
            # Nothing callable or foreign is reachable from the tree: only numbers, names, spans, sub-nodes.
            assert isinstance(value, (str, float, int, tuple, Span, *NODE_TYPES)), (field, value)
        if isinstance(node, Number):
            assert math.isfinite(node.value)
        elif isinstance(node, Parameter):
            assert node.name in NAMES
        elif isinstance(node, Unary):
            assert node.op in UNARY_OPERATORS
        elif isinstance(node, Binary):
            assert node.op in BINARY_OPERATORS
        elif isinstance(node, Call):
            assert node.function in FUNCTIONS and len(node.args) in FUNCTIONS[node.function].arities
        elif isinstance(node, Index):
            assert all(type(k) is int or isinstance(k, Slice) for k in node.key)


def _event(label: str) -> None:
    try:
        event(label)
    except InvalidArgument:  # called outside a hypothesis test (the worst-case table)
        pass


def check_source(source: str) -> object:
    """Parse (and evaluate what parses) under the audit allowlist; returns the expression or the refusal."""
    _recording.log = []
    try:
        try:
            expression = parse(source, NAMES)
        except ExpressionError as refusal:
            outcome = refusal
            _event("refused")
        else:
            _event("parsed")
            _check_tree(expression)
            try:
                value = expression.evaluate(_params())
                assert isinstance(value, ad.Tensor)
            except ExpressionError:
                pass
            outcome = expression
    finally:
        log, _recording.log = _recording.log, None
    for audit_event, args in log:
        if audit_event == "compile":  # ast.parse of exactly our (stripped) text, nothing else compiled
            assert args[1] == "<unknown>" and args[0] in (source.strip().encode(), source.strip()), args
        else:
            assert audit_event == "builtins.id", (audit_event, args)
    return outcome


# -- strings ---------------------------------------------------------------------------------------------------
TOKENS = [
    *NAMES, "x", "c", "__class__", "__import__", "__builtins__", "__dict__", "__globals__", "__subclasses__",
    *FUNCTIONS, "pi", "e", "open", "eval", "exec", "compile", "getattr", "globals", "os", "system", "lambda",
    "import", "for", "in", "if", "else", "not", "and", "or", "yield", "await", "None", "True",
    "+", "-", "*", "/", "**", "//", "%", "@", "<", ">", "==", "~", "&", "|", "^", ":=", ".", "...",
    "(", ")", "[", "]", "{", "}", ",", ":", ";", "=", "0", "1", "2", "9", "-1", "0.5", "1e999", "10", "99",
    "'os'", '"x"', "b'x'", "f'{a}'", "1j", " ", "\n", "\\", "#", "\t", "\x00",
]


@settings(FUZZ, max_examples=2500)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_token_soup_is_parsed_or_refused_and_never_executed(source):
    check_source(source)


@settings(FUZZ, max_examples=800)
@given(st.text(max_size=80))
def test_arbitrary_text_is_parsed_or_refused_and_never_executed(source):
    check_source(source)


# -- syntax trees, allowed and not -----------------------------------------------------------------------------
def _load(name):
    return ast.Name(id=name, ctx=ast.Load())


_leaf = st.one_of(
    st.sampled_from(NAMES + ("x", "pi", "e", "__import__", "open")).map(_load),
    st.one_of(
        st.integers(-(10**30), 10**30), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=3),
        st.booleans(), st.none(), st.complex_numbers(max_magnitude=2, allow_nan=False),
    ).map(lambda v: ast.Constant(value=v)),
)

_binops = st.sampled_from(
    [ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult, ast.FloorDiv, ast.Mod, ast.BitOr, ast.LShift]
)
_unaryops = st.sampled_from([ast.USub, ast.UAdd, ast.Not, ast.Invert])
_index = st.one_of(
    st.integers(-3, 3).map(lambda i: ast.Constant(value=i)),
    st.builds(
        ast.Slice,
        lower=st.none() | st.integers(-3, 3).map(lambda i: ast.Constant(value=i)),
        upper=st.none() | st.integers(-3, 3).map(lambda i: ast.Constant(value=i)),
        step=st.none() | st.integers(1, 2).map(lambda i: ast.Constant(value=i)),
    ),
)


def _compound(children):
    functions = st.sampled_from(sorted(FUNCTIONS) + ["open", "getattr", "eval", "__import__", "print"])
    return st.one_of(
        st.builds(lambda l, op, r: ast.BinOp(left=l, op=op(), right=r), children, _binops, children),
        st.builds(lambda op, v: ast.UnaryOp(op=op(), operand=v), _unaryops, children),
        st.builds(
            lambda f, args: ast.Call(func=_load(f), args=args, keywords=[]),
            functions, st.lists(children, min_size=0, max_size=3),
        ),
        st.builds(
            lambda v, key: ast.Subscript(value=v, slice=key, ctx=ast.Load()),
            children, _index | children,
        ),
        st.builds(lambda v, attr: ast.Attribute(value=v, attr=attr, ctx=ast.Load()), children,
                  st.sampled_from(["__class__", "sum", "real", "__globals__"])),
        st.builds(lambda v: ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[],
                                                          defaults=[]), body=v), children),
        st.builds(lambda v, it: ast.ListComp(elt=v, generators=[ast.comprehension(
            target=ast.Name(id="x", ctx=ast.Store()), iter=it, ifs=[], is_async=0)]), children, children),
        st.builds(lambda l, r: ast.Compare(left=l, ops=[ast.Lt()], comparators=[r]), children, children),
        st.builds(lambda t, c, f: ast.IfExp(test=c, body=t, orelse=f), children, children, children),
        st.builds(lambda vs: ast.List(elts=vs, ctx=ast.Load()), st.lists(children, max_size=2)),
        st.builds(lambda vs: ast.Tuple(elts=vs, ctx=ast.Load()), st.lists(children, max_size=2)),
        st.builds(lambda f, v: ast.Call(func=_load(f), args=[v], keywords=[ast.keyword(arg="dim", value=v)]),
                  functions, children),
    )


any_tree = st.recursive(_leaf, _compound, max_leaves=25)


def _unparse(node: ast.expr) -> str:
    return ast.unparse(ast.fix_missing_locations(ast.Expression(body=node)))


@settings(FUZZ, max_examples=1200)
@given(any_tree.map(_unparse))
def test_generated_syntax_trees_are_parsed_or_refused_and_never_executed(source):
    check_source(source)


# -- trees of the grammar alone: accepted, and evaluated like torch evaluates the same text ---------------------
_grammar_leaf = st.one_of(
    st.sampled_from(NAMES + ("pi", "e")).map(_load),
    st.floats(min_value=-4, max_value=4, allow_nan=False).map(lambda v: ast.Constant(value=round(v, 3))),
    st.integers(-3, 3).map(lambda v: ast.Constant(value=v)),
)
_grammar_ops = st.sampled_from([ast.Add, ast.Sub, ast.Mult, ast.Div, ast.MatMult])


def _grammar_compound(children):
    small_exponent = st.integers(-3, 3).map(lambda v: ast.Constant(value=v)) | st.sampled_from(NAMES).map(_load)
    return st.one_of(
        st.builds(lambda l, op, r: ast.BinOp(left=l, op=op(), right=r), children, _grammar_ops, children),
        st.builds(lambda l, r: ast.BinOp(left=l, op=ast.Pow(), right=r), children, small_exponent),
        st.builds(lambda op, v: ast.UnaryOp(op=op(), operand=v), st.sampled_from([ast.USub, ast.UAdd]), children),
        st.sampled_from(sorted(FUNCTIONS)).flatmap(
            lambda f: st.lists(children, min_size=min(FUNCTIONS[f].arities), max_size=max(FUNCTIONS[f].arities))
            .map(lambda args: ast.Call(func=_load(f), args=args, keywords=[]))
        ),
        st.builds(lambda v, key: ast.Subscript(value=v, slice=key, ctx=ast.Load()), children, _index),
    )


grammar_tree = st.recursive(_grammar_leaf, _grammar_compound, max_leaves=12)

TORCH_FUNCTIONS = {
    "abs": "abs", "cos": "cos", "exp": "exp", "log": "log", "relu": "relu", "sigmoid": "sigmoid", "sin": "sin",
    "sqrt": "sqrt", "square": "square", "tan": "tan", "tanh": "tanh", "sum": "sum", "mean": "mean",
    "prod": "prod", "norm": "norm", "dot": "dot",
}


def torch_value(torch, node: ast.expr, params):
    """The reference: the same Python syntax tree evaluated directly with torch (test-only code)."""
    def value(n):
        if isinstance(n, ast.Constant):
            return float(n.value)
        if isinstance(n, ast.Name):
            return {"pi": math.pi, "e": math.e}.get(n.id) or params[n.id]
        if isinstance(n, ast.UnaryOp):
            v = value(n.operand)
            return -v if isinstance(n.op, ast.USub) else +v
        if isinstance(n, ast.BinOp):
            left, right = value(n.left), value(n.right)
            if not isinstance(left, torch.Tensor):
                left = torch.tensor(left, dtype=torch.float64)
            ops = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.Div: "__truediv__",
                   ast.Pow: "__pow__", ast.MatMult: "__matmul__"}
            return getattr(left, ops[type(n.op)])(right)
        if isinstance(n, ast.Call):
            args = [a if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=torch.float64)
                    for a in map(value, n.args)]
            name = n.func.id
            if name in ("max", "min"):
                return getattr(torch, name)(args[0]) if len(args) == 1 else getattr(torch, name + "imum")(*args)
            if name == "logsumexp":
                return torch.logsumexp(args[0].reshape(-1), 0)
            if name == "softmax":
                return torch.softmax(args[0], -1)
            return getattr(torch, TORCH_FUNCTIONS[name])(*args)
        if isinstance(n, ast.Subscript):
            base = value(n.value)
            if not isinstance(base, torch.Tensor):
                base = torch.tensor(base, dtype=torch.float64)
            def one(k):
                if isinstance(k, ast.Slice):
                    return slice(*(None if p is None else ast.literal_eval(p) for p in (k.lower, k.upper, k.step)))
                return ast.literal_eval(k)
            return base[one(n.slice)]
        raise AssertionError(n)

    result = value(node)
    return result if isinstance(result, torch.Tensor) else torch.tensor(result, dtype=torch.float64)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's "invalid value" where torch quietly gives NaN
@settings(FUZZ, max_examples=400)
@given(grammar_tree.map(_unparse))
def test_grammar_trees_are_accepted_and_evaluate_like_torch(source):
    torch = pytest.importorskip("torch")
    try:
        expression = parse(source, NAMES)
    except ExpressionError as refusal:  # only constant arithmetic that has no finite value may be refused
        assert "constant" in str(refusal), str(refusal)
        return
    _check_tree(expression)
    params = _params()
    theirs = {k: torch.tensor(v.detach().numpy(), requires_grad=True) for k, v in params.items()}
    try:
        expected = torch_value(torch, ast.parse(source, mode="eval").body, theirs)
    except (RuntimeError, IndexError, ValueError, TypeError):
        event("torch raised; so must we")
        with pytest.raises(ExpressionError):
            expression.evaluate(params)
        return
    value = expression.evaluate(params)
    assert tuple(value.shape) == tuple(expected.shape)
    np.testing.assert_allclose(value.detach().numpy(), expected.detach().numpy(), rtol=1e-9, atol=1e-12,
                               equal_nan=True)
    event("values compared")
    if value.ndim == 0 and value.requires_grad and np.isfinite(value.item()):
        event("gradients compared")
        value.backward()
        expected.backward()
        for name in params:
            mine, reference = params[name].grad, theirs[name].grad
            assert (mine is None) == (reference is None), name
            if mine is not None:
                np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-8, atol=1e-10,
                                           equal_nan=True, err_msg=f"{name} in {source}")


# -- the worst inputs under the length limit finish promptly -----------------------------------------------------
WORST = [
    "-" * (MAX_LENGTH - 1) + "a",
    "a" + "**a" * ((MAX_LENGTH - 1) // 3),
    "a" + "+a" * ((MAX_LENGTH - 1) // 2),
    "(" * (MAX_LENGTH // 2) + ")" * (MAX_LENGTH // 2),
    "a" + "[0]" * ((MAX_LENGTH - 1) // 3),
    "9" * MAX_LENGTH,
    "9**" * ((MAX_LENGTH - 1) // 3) + "9",
    "exp(" * 32 + "a" + ")" * 32,
    "a" * (10 * MAX_LENGTH),
]


@pytest.mark.parametrize("source", WORST, ids=[s[:12] for s in WORST])
def test_worst_case_inputs_are_refused_or_parsed_without_executing(source):
    check_source(source)
