"""The expression language: accepted expressions against hand-written autodiff (and torch), refused ones with
the caret under the offending part."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad
from experiments.errors import ConfigError, ExpressionError
from experiments.expression import MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, MAX_NESTING, parse

VALUES = {
    "a": [2.0, 3.0],
    "b": [6.0, 4.0],
    "x": [0.0, 1.0, 2.0, 3.0],
    "s": 0.7,
    "M": [[1.0, -2.0], [0.5, 3.0]],
}

# (expression, reference written against a module m that is autodiff or torch, expected value or None)
ACCEPTED = [
    ("sum(3*a**3 - b**2)", lambda m, a, b, **_: m.sum(3 * a**3 - b**2), 53.0),
    ("2*dot(x, x)", lambda m, x, **_: 2 * m.dot(x, x), 28.0),
    ("mean(sin(a) * cos(b)) + tanh(a[0])", lambda m, a, b, **_: m.mean(m.sin(a) * m.cos(b)) + m.tanh(a[0]), None),
    ("exp(-a[1]) + log(b[0]) + sqrt(b[-1])", lambda m, a, b, **_: m.exp(-a[1]) + m.log(b[0]) + m.sqrt(b[-1]), None),
    ("norm(a - b) ** 2 / 2", lambda m, a, b, **_: m.norm(a - b) ** 2 / 2, 8.5),
    ("-a[0] ** 2 + +b[1]", lambda m, a, b, **_: -(a[0] ** 2) + b[1], 0.0),
    ("sum(abs(a - 3)) + prod(b)", lambda m, a, b, **_: m.sum(m.abs(a - 3)) + m.prod(b), 25.0),
    (
        "max(a) + min(b) + sum(max(a, b)) - sum(min(a, b))",
        lambda m, a, b, **_: m.max(a) + m.min(b) + m.sum(m.maximum(a, b)) - m.sum(m.minimum(a, b)),
        12.0,
    ),
    ("sum(sigmoid(a) + relu(a - 2.5))", lambda m, a, **_: m.sum(m.sigmoid(a) + m.relu(a - 2.5)), None),
    (
        "logsumexp(a * b) + softmax(a)[0]",
        lambda m, a, b, **_: m.logsumexp((a * b).reshape(-1), 0) + m.softmax(a, -1)[0],
        None,
    ),
    (
        "sum(M @ a) + M[0, 1] * sum(M[1, :]) + sum(M[:, 0]) + M[-1, -1]",
        lambda m, a, M, **_: m.sum(M @ a) + M[0, 1] * m.sum(M[1, :]) + m.sum(M[:, 0]) + M[-1, -1],
        None,
    ),
    ("sum(x[::2] * x[1:3]) + sum(x[-2:])", lambda m, x, **_: m.sum(x[::2] * x[1:3]) + m.sum(x[-2:]), 9.0),
    (
        "(a[0] - 1)**2 + 100*(a[1] - a[0]**2)**2",
        lambda m, a, **_: (a[0] - 1) ** 2 + 100 * (a[1] - a[0] ** 2) ** 2,
        101.0,
    ),
    ("sum(square(a) - tan(b / 10))", lambda m, a, b, **_: m.sum(m.square(a) - m.tan(b / 10)), None),
    ("pi * e * sum(a) / 2 ** 3", lambda m, a, **_: math.pi * math.e * m.sum(a) / 8, None),
    ("sum(a ** b / 10)", lambda m, a, b, **_: m.sum(a**b / 10), None),
    ("2 ** a[0] + sum(1 / a)", lambda m, a, **_: 2 ** a[0] + m.sum(1 / a), None),
    ("dot(a, b) ** 0.5", lambda m, a, b, **_: m.dot(a, b) ** 0.5, 24.0**0.5),
    ("s**4 - 3*s + sin(s)**-2", lambda m, s, **_: s**4 - 3 * s + m.sin(s) ** -2, None),
    ("(sum(a)\n + sum(b))", lambda m, a, b, **_: m.sum(a) + m.sum(b), 15.0),
    ("   sum(a) * 1e-3   ", lambda m, a, **_: m.sum(a) * 1e-3, 0.005),
    ("sum(a[:,] - 0.5)", lambda m, a, **_: m.sum(a - 0.5), 4.0),
]


def _bind(module, source, dtype, requires_grad=True):
    names = sorted(parse(source, VALUES).used_names())
    return {name: module.tensor(VALUES[name], dtype=dtype, requires_grad=requires_grad) for name in names}


@pytest.mark.parametrize("source, reference, expected", ACCEPTED, ids=[row[0] for row in ACCEPTED])
def test_accepted_expressions_match_hand_written_autodiff(source, reference, expected):
    params = _bind(ad, source, ad.float64)
    value = parse(source, params).evaluate(params)
    value.backward()
    mine = {name: t.grad.numpy().copy() for name, t in params.items()}

    params = _bind(ad, source, ad.float64)
    hand = reference(ad, **params)
    hand.backward()
    np.testing.assert_allclose(value.item(), hand.item(), rtol=1e-13)
    for name, t in params.items():
        np.testing.assert_allclose(mine[name], t.grad.numpy(), rtol=1e-13, atol=1e-15, err_msg=name)
    if expected is not None:
        assert value.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("source, reference, expected", ACCEPTED, ids=[row[0] for row in ACCEPTED])
def test_accepted_expressions_match_torch(source, reference, expected):
    torch = pytest.importorskip("torch")
    params = _bind(ad, source, ad.float32)
    value = parse(source, params).evaluate(params)
    value.backward()
    assert value.dtype == ad.float32  # constants do not promote the parameters' dtype, as in torch
    theirs = _bind(torch, source, torch.float32)
    reference_value = reference(torch, **theirs)
    reference_value.backward()
    np.testing.assert_allclose(value.item(), reference_value.item(), rtol=1e-6)
    for name, t in params.items():
        np.testing.assert_allclose(t.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


# (expression, the text the caret must start under, or its column (None: no caret), a fragment of the message)
REFUSED = [
    ("a.__class__", "__class__", "attribute access"),
    ("a.sum()", "sum", "attribute access"),
    ("__import__('os')", "__import__", "dunder"),
    ("__import__('os').system('ls')", "system", "attribute access"),
    ("().__class__.__bases__[0].__subclasses__()", "__subclasses__", "attribute access"),
    ("(lambda: 1)()", "lambda", "lambda"),
    ("lambda: a", "lambda", "lambda"),
    ("[x for x in a]", "[x for", "comprehensions"),
    ("sum(x for x in a)", "(x for", "comprehensions"),
    ("open('f')", "open", "not an allowed function"),
    ("eval('1')", "eval", "not an allowed function"),
    ("exec('1')", "exec", "not an allowed function"),
    ("compile('1', '', 'eval')", "compile", "not an allowed function"),
    ("getattr(a, 'x')", "getattr", "not an allowed function"),
    ("globals()", "globals", "not an allowed function"),
    ("breakpoint()", "breakpoint", "not an allowed function"),
    ("9**9**9", 3, "exponent"),
    ("a**10**10", "10**10", "exponent"),
    (f"a**{MAX_EXPONENT + 1}", str(MAX_EXPONENT + 1), "exponent"),
    (f"a**-{MAX_EXPONENT + 1}", f"-{MAX_EXPONENT + 1}", "exponent"),
    ("a**(2*99)", "2*99", "exponent"),
    ("(" * (MAX_NESTING + 8) + "a" + ")" * (MAX_NESTING + 8), "(" * 8 + "a", "nested"),
    ("sum(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1), "(a", "nested"),
    ("a" + "+a" * (MAX_DEPTH + 5), None, "levels deep"),
    ("-" * 400 + "a", None, "levels deep"),
    ("a" * (MAX_LENGTH + 1), None, "characters long"),
    ("", None, "empty"),
    ("c + a", "c", "unknown name"),
    ("a + os", "os", "unknown name"),
    ("'s' + a", "'s'", "strings"),
    ("b'x'", "b'x'", "bytes"),
    ("f'{a}'", "f'{a}'", "strings"),
    ("True + a", "True", "booleans"),
    ("None", "None", "None"),
    ("a + 1j", "1j", "complex"),
    ("a if b else a", "a if", "conditional"),
    ("a < b", "a < b", "comparisons"),
    ("a and b", "a and b", "boolean operators"),
    ("not a", "not a", "operator not"),
    ("~a", "~a", "operator ~"),
    ("a // 2", "//", "operator //"),
    ("(a) %(b)", "%", "operator %"),
    ("a | b", "|", "operator |"),
    ("[a, b]", "[a, b]", "lists"),
    ("sum((a, b))", "(a, b)", "tuples"),
    ("{a}", "{a}", "sets"),
    ("{1: a}", "{1: a}", "dicts"),
    ("(x := a)", "x := a", "assignment"),
    ("sum(*a)", "*a", "starred"),
    ("sum(a, dim=0)", "dim=0", "keyword"),
    ("sum(**{'dim': 0})", "**{", "keyword"),
    ("sum(a, b)", "sum(a, b)", "takes 1 argument"),
    ("dot(a)", "dot(a)", "takes 2 argument"),
    ("a[1.5]", "1.5", "integer constants"),
    ("a[b]", "b]", "integer constants"),
    ("a[0:1.5]", "1.5", "integer constants"),
    ("a[...]", "...", "integer constants"),
    ("a(1)", "a(1)", "a parameter, not a function"),
    ("a[0](1)", "a[0](1)", "only the named functions"),
    ("sum", "sum", "is a function"),
    ("1e999 * a", "1e999", "too large"),
    ("a + 1/0", "1/0", "cannot be computed"),
    ("a + (-8) ** 0.5", "(-8) ** 0.5", "not a finite real"),
    ("import os", "import", "malformed"),
    ("a; b", ";", "malformed"),
    ("sum(3*a**3 - b**2", "(", "never closed"),
    ("a +", None, "malformed"),
    ("a\x00", "\x00", "U+0000"),
    ("a\u202e + b", "\u202e", "U+202E"),
    ("await a", "await a", "await"),
    ("yield a", "yield", "malformed"),
]


@pytest.mark.parametrize("source, caret_at, fragment", REFUSED, ids=[repr(row[0])[:40] for row in REFUSED])
def test_refused_expressions_point_at_the_offending_part(source, caret_at, fragment):
    with pytest.raises(ExpressionError) as info:
        parse(source, ["a", "b"])
    error = info.value
    message = str(error)
    assert isinstance(error, ConfigError) and isinstance(error, ValueError)
    assert fragment in message
    assert "Allowed:" in message
    assert message.startswith("Expression refused")
    if caret_at is None:
        return
    stripped = source.strip()
    column = caret_at if isinstance(caret_at, int) else stripped.index(caret_at)
    assert error.column == column
    lines = message.splitlines()
    caret_line = next(i for i, line in enumerate(lines) if set(line.strip()) == {"^"})
    assert lines[caret_line - 1] == "    " + stripped.splitlines()[error.line - 1]
    assert lines[caret_line].index("^") == 4 + column


def test_a_refusal_on_a_later_line_names_the_line():
    source = "(sum(a)\n + a.__dict__)"
    with pytest.raises(ExpressionError) as info:
        parse(source, ["a"])
    assert info.value.line == 2 and info.value.column == source.splitlines()[1].index("__dict__")
    assert "(line 2)" in str(info.value)


def test_columns_count_characters_not_bytes():
    with pytest.raises(ExpressionError) as info:
        parse("é + c", ["a", "é"])
    assert info.value.column == 4


def test_non_string_expressions_are_refused():
    with pytest.raises(ExpressionError, match="must be a string"):
        parse(3, ["a"])


def test_an_evaluation_failure_points_at_the_operation():
    expr = parse("sum(a) + dot(a, x)", ["a", "x"])
    params = {"a": ad.tensor([1.0, 2.0]), "x": ad.tensor([1.0, 2.0, 3.0])}
    with pytest.raises(ExpressionError) as info:
        expr.evaluate(params)
    assert info.value.column == len("sum(a) + ")
    assert "a: (2,), x: (3,)" in str(info.value)


def test_constants_are_folded_and_names_recorded():
    expr = parse("a * (2 * pi) - -3", ["a", "b"])
    assert [type(node).__name__ for node in expr.nodes()] == ["Binary", "Binary", "Parameter", "Number", "Number"]
    assert expr.used_names() == {"a"}
    assert expr.source == "a * (2 * pi) - -3"


def test_evaluation_keeps_the_parameter_dtype_and_the_graph():
    a = ad.tensor([2.0, 3.0], dtype=ad.float32, requires_grad=True)
    value = parse("sum(exp(a) * 0.1) + 1e-3", ["a"]).evaluate({"a": a})
    assert value.dtype == ad.float32 and value.requires_grad and value.shape == ()


def test_softmax_of_a_scalar_is_one_with_zero_gradient_as_in_torch():
    s = ad.tensor(0.7, dtype=ad.float64, requires_grad=True)
    value = parse("softmax(s) * 2", ["s"]).evaluate({"s": s})
    value.backward()
    assert value.item() == 2.0 and s.grad.item() == 0.0
