"""Every row of the op table (tests/op_cases.py) through the same checks, in float64.

* value and grad_fn name against torch (the committed golden file; live torch too when importable);
* first derivatives in reverse mode (VJP) and forward mode (JVP, via forward_ad) against central differences;
* second derivatives (double backward with create_graph, as torch's gradgradcheck) against central differences
  of the first derivatives;
* every op of ``autodiff.ops.OPS`` is covered by a row (checked by walking the recorded graphs).

Regenerate the golden file with ``python tests/golden/make_ops_golden.py`` where torch is installed.
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

import autodiff as ad
from autodiff.ops import OPS

sys.path.insert(0, str(pathlib.Path(__file__).parent / "golden"))
from make_ops_golden import load, torch_rows  # noqa: E402
from op_cases import CASES, directions, evaluate, first_order, grad_fn_name  # noqa: E402

GOLDEN = load()

# Engine bugs (autodiff/dispatch.py, methods.py: not the op table), each in /work/notes/engine_bugs.md.
_INPLACE_JVP = "forward-mode tangents do not pass through in-place ops (engine_bugs.md #4)"
_INPLACE = {"MulBackward0-mul_", "DivBackward0-div_", "ClampBackward1-inplace", "FillBackward2", "ZeroBackward0", "CopyBackwards", "AddBackward0-add_",
                              "SubBackward0-sub_", "ExpBackward0-exp_"}
_ZERO = "Tensor.zero_ records FillBackward2, torch ZeroBackward0 (engine_bugs.md #5)"
KNOWN = {"jvp": {row: _INPLACE_JVP for row in _INPLACE},
         "name": {"ZeroBackward0": _ZERO}, "graph": {"ZeroBackward0": _ZERO}}


def rows(check):
    """The table as pytest params, with the known engine bugs of ``check`` marked xfail(strict=True)."""
    params = []
    for case in CASES:
        reason = KNOWN.get(check, {}).get(case.id)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def _inputs(case):
    """The golden inputs (the same numbers torch saw)."""
    return [np.asarray(a) for a in GOLDEN[case.id]["inputs"]]


def _dirs(case):
    row = GOLDEN[case.id]
    return {"v": row["v"], "u": row["u"], "w": row["w"]}


_ours: dict = {}


def ours(case):
    if case.id not in _ours:
        _ours[case.id] = evaluate(ad, case, _inputs(case), _dirs(case))
    return _ours[case.id]


def close(actual, expected, tol):
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def value(case, arrays):
    with ad.no_grad():
        out = case.fn(ad, *[ad.tensor(a, dtype=ad.float64) for a in arrays])
    return out.numpy().astype(np.float64)


def numeric_gradient(f, arrays, i, eps):
    """Central differences of the scalar function ``f(arrays)`` w.r.t. every element of ``arrays[i]``."""
    grad = np.zeros(arrays[i].shape)
    for j in np.ndindex(*arrays[i].shape):
        plus = [a.copy() for a in arrays]
        minus = [a.copy() for a in arrays]
        plus[i][j] += eps
        minus[i][j] -= eps
        grad[j] = (f(plus) - f(minus)) / (2 * eps)
    return grad


# -- against torch ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", rows("name"))
def test_value_and_grad_fn_match_torch(case):
    golden, result = GOLDEN[case.id], ours(case)
    assert result["name"] == golden["name"] == case.op
    assert result["value"].shape == golden["value"].shape
    close(result["value"], golden["value"], 1e-12)


@pytest.mark.parametrize("case", rows("vjp"))
def test_vjp_matches_torch(case):
    for mine, theirs in zip(ours(case)["grads"], GOLDEN[case.id]["grads"]):
        close(mine, theirs, 1e-10)


@pytest.mark.parametrize("case", rows("second"))
def test_second_order_matches_torch(case):
    for mine, theirs in zip(ours(case)["second"], GOLDEN[case.id]["second"]):
        close(mine, theirs, 1e-10)


@pytest.mark.parametrize("case", rows("jvp"))
def test_jvp_matches_torch(case):
    close(ours(case)["jvp"], GOLDEN[case.id]["jvp"], 1e-10)


def test_golden_file_is_torch_today():
    """Live torch gives the committed numbers (the golden file is fresh and the rows unchanged)."""
    pytest.importorskip("torch")
    live = torch_rows()
    assert set(live) == set(GOLDEN)
    for row_id, fields in live.items():
        assert fields["name"] == GOLDEN[row_id]["name"], row_id
        for key in ("value", "jvp"):
            close(fields[key], GOLDEN[row_id][key], 1e-12)
        for key in ("inputs", "grads", "second"):
            for a, b in zip(fields[key], GOLDEN[row_id][key]):
                close(a, b, 1e-12)


# -- against finite differences -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", rows("vjp"))
def test_vjp_matches_finite_differences(case):
    arrays, v = _inputs(case), _dirs(case)["v"]
    grads = ours(case)["grads"]
    for i in range(len(arrays)):
        numeric = numeric_gradient(lambda xs: np.sum(v * value(case, xs)), arrays, i, case.eps)
        close(grads[i], numeric, case.tol)


@pytest.mark.parametrize("case", rows("jvp"))
def test_jvp_matches_finite_differences(case):
    arrays, u = _inputs(case), _dirs(case)["u"]
    plus = value(case, [a + case.eps * t for a, t in zip(arrays, u)])
    minus = value(case, [a - case.eps * t for a, t in zip(arrays, u)])
    close(ours(case)["jvp"], (plus - minus) / (2 * case.eps), case.tol)


@pytest.mark.parametrize("case", rows("second"))
def test_second_order_matches_finite_differences(case):
    """d/d(x, v) of s(x, v) = sum_i <grad_i(x, v), w_i>, with grad from the first-order (plain) backward."""
    arrays, dirs = _inputs(case), _dirs(case)

    def s(xs_and_v):
        *xs, v = xs_and_v
        _, _, _, grads = first_order(ad, case, xs, v)
        return sum(np.sum(g.numpy() * w) for g, w in zip(grads, dirs["w"]) if g is not None)

    points = arrays + [dirs["v"]]
    second = ours(case)["second"]
    eps = max(case.eps, 1e-5)
    for i in range(len(points)):
        close(second[i], numeric_gradient(s, points, i, eps), max(case.tol, 1e-5))


# -- coverage -----------------------------------------------------------------------------------------------------

def graph_names(tensors) -> set:
    """grad_fn names reachable from ``tensors`` (iterative walk over next_functions)."""
    names, seen = set(), set()
    stack = [t.grad_fn for t in tensors if t is not None and t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(grad_fn_name(node))
        stack.extend(fn for fn, _ in getattr(node, "next_functions", ()))  # engine_bugs.md #6
    return names


@pytest.mark.parametrize("case", rows("graph"))
def test_row_records_the_ops_it_names(case):
    out, xs, vt, grads = first_order(ad, case, _inputs(case), _dirs(case)["v"], create_graph=True)
    names = graph_names([out, *grads])
    assert case.op in names
    assert set(case.covers) <= names, names


def test_every_op_in_the_table_has_a_row():
    covered = {case.op for case in CASES} | {name for case in CASES for name in case.covers}
    assert set(OPS) - covered == set()


def test_rows_have_unique_ids_and_directions_fit():
    assert len({case.id for case in CASES}) == len(CASES)
    case = CASES[0]
    assert directions(case, (3, 4))["v"].shape == (3, 4)
