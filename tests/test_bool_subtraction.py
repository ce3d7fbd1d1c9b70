"""Subtraction and negation refuse bool operands with torch's messages (numpy would compute ``1 - mask`` as
integers), each case run on autodiff and, when importable, on torch."""
from __future__ import annotations

import pytest

import autodiff as ad

ONE_BOOL = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, "
            "use the `~` or `logical_not()` operator instead.")
TWO_BOOLS = ("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` "
             "operator instead.")
NEGATION = ("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use "
            "the `~` or `logical_not()` operator instead.")


@pytest.fixture(params=["autodiff", "torch"])
def m(request):
    if request.param == "torch":
        return pytest.importorskip("torch")
    return ad


CASES = [
    ("1 - mask", lambda m, b, f: 1 - b, ONE_BOOL),
    ("mask - 1", lambda m, b, f: b - 1, ONE_BOOL),
    ("mask - 1.5", lambda m, b, f: b - 1.5, ONE_BOOL),
    ("floats - True", lambda m, b, f: f - True, ONE_BOOL),
    ("True - floats", lambda m, b, f: True - f, ONE_BOOL),
    ("floats - mask", lambda m, b, f: f - b, ONE_BOOL),
    ("mask - floats", lambda m, b, f: b - f, ONE_BOOL),
    ("sub(mask, 1)", lambda m, b, f: m.sub(b, 1), ONE_BOOL),
    ("sub(floats, mask, alpha=2)", lambda m, b, f: m.sub(f, b, alpha=2), ONE_BOOL),
    ("subtract(floats, mask)", lambda m, b, f: m.subtract(f, b), ONE_BOOL),
    ("rsub(mask, 1)", lambda m, b, f: m.rsub(b, 1), ONE_BOOL),
    ("mask.sub_(1)", lambda m, b, f: b.sub_(1), ONE_BOOL),
    ("floats.sub_(mask)", lambda m, b, f: f.sub_(b), ONE_BOOL),
    ("mask - mask", lambda m, b, f: b - b, TWO_BOOLS),
    ("mask - True", lambda m, b, f: b - True, TWO_BOOLS),
    ("sub(mask, mask)", lambda m, b, f: m.sub(b, b), TWO_BOOLS),
    ("-mask", lambda m, b, f: -b, NEGATION),
    ("neg(mask)", lambda m, b, f: m.neg(b), NEGATION),
]


@pytest.mark.parametrize("expression, run, message", CASES, ids=[c[0] for c in CASES])
def test_bool_subtraction_is_refused(m, expression, run, message):
    with pytest.raises(RuntimeError) as raised:
        run(m, m.tensor([True, False]), m.tensor([1.0, 2.0]))
    assert str(raised.value) == message


def test_bool_tensors_still_add_and_invert(m):
    b = m.tensor([True, False])
    assert (b + b).tolist() == [True, False]
    assert (~b).tolist() == [False, True] and m.logical_not(b).tolist() == [False, True]
    assert (1 - b.float()).tolist() == [0.0, 1.0]
