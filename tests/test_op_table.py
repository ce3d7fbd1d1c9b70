"""The op table as the single declaration: what editors read is generated from it, every public name it declares
is bound where it says, and what each entry says its rules read is what they read (over every row of
``tests/op_cases.py``)."""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

import autodiff as ad
from autodiff import _declarations
from autodiff.node import Node
from autodiff.ops import OPS, PUBLIC

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from op_cases import CASES  # noqa: E402


def test_the_generated_declarations_are_current():
    stale = [str(path.name) for path, text in _declarations.generated_files().items()
             if not path.exists() or path.read_text() != text]
    assert not stale, f"run `python -m autodiff._declarations` (stale: {', '.join(stale)})"


@pytest.mark.parametrize("binding", list(PUBLIC.values()), ids=list(PUBLIC))
def test_each_public_name_is_bound_where_its_entry_says(binding):
    module = sys.modules[binding.module]
    for name in (binding.name,) + binding.aliases:
        if binding.is_function:
            assert getattr(ad, name) is binding.function
        if binding.is_method:
            assert getattr(ad.Tensor, name) is binding.function
        if binding.inplace is not None:
            assert getattr(ad.Tensor, name + "_") is binding.inplace
    if binding.name.isidentifier() and hasattr(module, binding.name):
        assert getattr(module, binding.name) is binding.function


def test_a_generated_function_and_its_in_place_variant_behave_as_torchs():
    x = ad.tensor([0.5, 1.0], requires_grad=True)
    assert ad.sin.__name__ == "sin" and ad.sin.__module__ == "autodiff.ops.elementwise"
    y = x * 1
    y.sin_()
    assert y.grad_fn.name() == "SinBackward0"
    with pytest.raises(TypeError, match=r"sin\(\): argument 'input' \(position 1\) must be Tensor, not list"):
        ad.sin([1.0])


# -- what the rules read -------------------------------------------------------------------------------------------

def _nodes(out):
    seen, stack = set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if type(node) is not Node or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(key for _, key in node.edges)


def _poisoned(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return np.full_like(value, np.nan)
    return value


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_rule_reads_only_what_its_entry_declares(case):
    """Each VJP run again with every input (and the output) its entry does not declare replaced by NaNs: the
    cotangent must not change. A rule reading a value it does not declare would let an in-place change of that
    value go unnoticed by the version check."""
    xs = [ad.tensor(a, dtype=ad.float64, requires_grad=True) for a in case.inputs()]
    out = case.fn(ad, *xs)
    rng = np.random.default_rng(0)
    checked = 0
    for node in _nodes(out):
        op = node.op
        if op.variadic or not isinstance(op.saves, tuple):
            continue           # cat/stack read no value; CopySlices defers to the op it wraps
        args = [a._data if isinstance(a, ad.Tensor) else a for a in node.args]
        g = rng.standard_normal(np.shape(node.ans))
        for i, _ in node.edges:
            reads = op.saves[i]
            with np.errstate(all="ignore"):
                expected = op.vjps[i](g, node.ans, *args, **node.kw)
                poisoned = [a if j in reads else _poisoned(a) for j, a in enumerate(args)]
                ans = node.ans if -1 in reads else _poisoned(node.ans)
                got = op.vjps[i](g, ans, *poisoned, **node.kw)
            if expected is None:
                assert got is None
                continue
            assert np.array_equal(np.asarray(expected), np.asarray(got), equal_nan=True), (
                f"{op.name}: the VJP of input {i} reads more than {reads}")
            checked += 1
    assert checked or not any(type(n) is Node for n in _nodes(out)) or case.op in {"CatBackward0",
                                                                                  "StackBackward0", "CopySlices"}


def test_every_op_declares_what_its_rules_read():
    for op in OPS.values():
        assert op.saves is True or callable(op.saves) or (isinstance(op.saves, tuple) and (
            op.variadic or len(op.saves) == len(op.vjps))), op.name
