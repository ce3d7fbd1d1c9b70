"""Every row of the op table (tests/op_cases.py) through the same checks, in float64.

* value and grad_fn name against torch (the committed golden file; live torch too when importable);
* first derivatives in reverse mode (VJP) and forward mode (JVP, via forward_ad) against central differences;
* second derivatives in both modes, against central differences of the first derivatives and against torch:
  reverse-over-reverse (double backward with create_graph, as torch's gradgradcheck) and forward-over-reverse
  (the forward-mode tangent of the create_graph gradients);
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
from op_cases import CASES, directions, evaluate, first_order, forward_over_reverse, grad_fn_name  # noqa: E402

GOLDEN = load()

KNOWN: dict = {}    # {check: {row id: reason}}: an engine bug found by a row is marked here, xfail(strict=True)
FINITE_DIFFERENCES = {"fd_vjp", "fd_jvp", "fd_second", "fd_fwd_second"}


def rows(check):
    """The table as pytest params, with the known engine bugs of ``check`` marked xfail(strict=True).

    Rows at kinks (``case.kink``) are compared with torch only: differences there measure nothing.
    """
    params = []
    for case in CASES:
        if case.kink and check in FINITE_DIFFERENCES:
            continue
        reason = KNOWN.get(check.removeprefix("fd_"), {}).get(case.id)
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


#: torch's names for create_graph gradients that autodiff gives too, besides torch's own backward ops
#: (``TanhBackwardBackward0``, ``SelectBackwardBackward0`` ...): the inverses of the view ops.
MATCHED_GRAD_NAMES = {"SqueezeBackward1", "UnsqueezeBackward0", "IndexPutImplBackward0"}


def _torch_grad_names(case):
    return [str(name) for name in GOLDEN[case.id]["grad_names"]]


@pytest.mark.parametrize("case", rows("name"))
def test_create_graph_gradients_carry_torchs_grad_fn_names(case):
    """Where torch's create_graph gradient ends in a backward op of its own (``TanhBackwardBackward0``) or a view's
    inverse, ours carries the same grad_fn name (elsewhere both end in ordinary ops, named as each computes)."""
    for mine, theirs in zip(ours(case)["grad_names"], _torch_grad_names(case)):
        if "BackwardBackward" in theirs or theirs in MATCHED_GRAD_NAMES:
            assert mine == theirs


def test_the_grad_fn_name_rows_cover_torchs_backward_ops():
    names = {name for case in CASES for name in _torch_grad_names(case)}
    assert {"TanhBackwardBackward0", "SigmoidBackwardBackward0", "ThresholdBackwardBackward0",
            "SoftmaxBackwardDataBackward0", "LogSoftmaxBackwardDataBackward0", "SelectBackwardBackward0",
            "SliceBackwardBackward0", "SqueezeBackward1", "UnsqueezeBackward0", "IndexPutImplBackward0"} <= names


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


@pytest.mark.parametrize("case", rows("fwd_second"))
def test_forward_over_reverse_matches_torch(case):
    for mine, theirs in zip(forward_over_reverse(ad, case, _inputs(case), _dirs(case)),
                            GOLDEN[case.id]["fwd_second"]):
        close(mine, theirs, 1e-10)


def test_golden_file_is_torch_today():
    """Live torch gives the committed numbers (the golden file is fresh and the rows unchanged)."""
    pytest.importorskip("torch")
    live = torch_rows()
    assert set(live) == set(GOLDEN)
    for row_id, fields in live.items():
        assert fields["name"] == GOLDEN[row_id]["name"], row_id
        assert [str(n) for n in fields["grad_names"]] == [str(n) for n in GOLDEN[row_id]["grad_names"]], row_id
        for key in ("value", "jvp", "v"):
            close(fields[key], GOLDEN[row_id][key], 1e-12)
        for key in ("inputs", "u", "w", "grads", "second", "fwd_second"):
            for a, b in zip(fields[key], GOLDEN[row_id][key]):
                close(a, b, 1e-12)


# -- against finite differences -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", rows("fd_vjp"))
def test_vjp_matches_finite_differences(case):
    arrays, v = _inputs(case), _dirs(case)["v"]
    grads = ours(case)["grads"]
    for i in range(len(arrays)):
        numeric = numeric_gradient(lambda xs: np.sum(v * value(case, xs)), arrays, i, case.eps)
        close(grads[i], numeric, case.tol)


@pytest.mark.parametrize("case", rows("fd_jvp"))
def test_jvp_matches_finite_differences(case):
    arrays, u = _inputs(case), _dirs(case)["u"]
    plus = value(case, [a + case.eps * t for a, t in zip(arrays, u)])
    minus = value(case, [a - case.eps * t for a, t in zip(arrays, u)])
    close(ours(case)["jvp"], (plus - minus) / (2 * case.eps), case.tol)


@pytest.mark.parametrize("case", rows("fd_second"))
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


@pytest.mark.parametrize("case", rows("fd_fwd_second"))
def test_forward_over_reverse_matches_finite_differences(case):
    """Second order in forward mode: tangent of grad(x, v) along w vs central differences of grad along w."""
    arrays, dirs = _inputs(case), _dirs(case)

    def grads_at(step):
        points = [a + step * w for a, w in zip(arrays, dirs["w"])]
        _, _, _, grads = first_order(ad, case, points, dirs["v"])
        return [np.zeros(a.shape) if g is None else g.numpy() for g, a in zip(grads, arrays)]

    eps = max(case.eps, 1e-5)
    numeric = [(p - q) / (2 * eps) for p, q in zip(grads_at(eps), grads_at(-eps))]
    for mine, expected in zip(forward_over_reverse(ad, case, arrays, dirs), numeric):
        close(mine, expected, max(case.tol, 1e-5))


# -- coverage -----------------------------------------------------------------------------------------------------

def graph_names(tensors) -> set:
    """grad_fn names reachable from ``tensors`` (iterative walk over next_functions), and the ops autodiff's nodes
    recorded (a create_graph gradient's node carries torch's name, TanhBackwardBackward0, for a product)."""
    names, seen = set(), set()
    stack = [t.grad_fn for t in tensors if t is not None and t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(grad_fn_name(node))
        op = getattr(node, "op", None)      # the op recorded, where the node carries torch's name for another
        if op is not None:
            names.add(op.name)
        stack.extend(fn for fn, _ in node.next_functions)
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


# -- dtypes: promotion as torch's (float32 stays float32 with Python scalars) ---------------------------------------

def _f32(m):
    return m.tensor([1.0, 2.0])


def _f64(m):
    return m.tensor([1.0, 2.0], dtype=m.float64)


def _i64(m):
    return m.tensor([1, 2])


def _b(m):
    return m.tensor([True, False])


# (label, expression, torch 2.13's result dtype)
DTYPES = [
    ("float32 * float", lambda m: _f32(m) * 2.5, "float32"),
    ("float32 * int", lambda m: _f32(m) * 2, "float32"),
    ("float * float32", lambda m: 2.5 / _f32(m), "float32"),
    ("float32 + float64", lambda m: _f32(m) + _f64(m), "float64"),
    ("float32 + 0-d float64", lambda m: _f32(m) + m.tensor(1.0, dtype=m.float64), "float32"),
    ("int64 * float", lambda m: _i64(m) * 1.5, "float32"),
    ("int64 / int", lambda m: _i64(m) / 2, "float32"),
    ("int64 / int64", lambda m: _i64(m) / _i64(m), "float32"),
    ("int64 + float32", lambda m: _i64(m) + _f32(m), "float32"),
    ("int64 + 0-d float32", lambda m: _i64(m) + m.tensor(5.0), "float32"),
    ("float32 + 0-d int64", lambda m: _f32(m) + m.tensor(5), "float32"),
    ("int64 + bool", lambda m: _i64(m) + True, "int64"),
    ("bool + bool", lambda m: _b(m) + _b(m), "bool"),
    ("bool * int", lambda m: _b(m) * 2, "int64"),
    ("bool * float", lambda m: _b(m) * 2.0, "float32"),
    ("int64.sum", lambda m: _i64(m).sum(), "int64"),
    ("bool.sum", lambda m: _b(m).sum(), "int64"),
    ("int64 ** 2", lambda m: _i64(m) ** 2, "int64"),
    ("int64 ** 0.5", lambda m: _i64(m) ** 0.5, "float32"),
    ("int ** int64", lambda m: 2 ** _i64(m), "int64"),
    ("float ** int64", lambda m: 2.0 ** _i64(m), "float32"),
    ("exp(int64)", lambda m: m.exp(_i64(m)), "float32"),
    ("sqrt(int64)", lambda m: m.sqrt(_i64(m)), "float32"),
    ("sigmoid(int64)", lambda m: m.sigmoid(_i64(m)), "float32"),
    ("float32 > int", lambda m: _f32(m) > 1, "bool"),
    ("-int64", lambda m: -_i64(m), "int64"),
    ("abs(int64)", lambda m: m.abs(_i64(m)), "int64"),
    ("where(bool, int64, float)", lambda m: m.where(_b(m), _i64(m), 1.5), "float32"),
    ("max(int64)", lambda m: m.max(_i64(m)), "int64"),
    ("int64.prod", lambda m: _i64(m).prod(), "int64"),
    ("float64.softmax", lambda m: _f64(m).softmax(0), "float64"),
    ("cat(int64, float32)", lambda m: m.cat([_i64(m), _f32(m)]), "float32"),
    ("stack(float32, float64)", lambda m: m.stack([_f32(m), _f64(m)]), "float64"),
    ("clamp(int64, float)", lambda m: m.clamp(_i64(m), 0.5), "float32"),
    ("clamp(int64, int)", lambda m: m.clamp(_i64(m), 1), "int64"),
    ("maximum(int64, float32)", lambda m: m.maximum(_i64(m), _f32(m)), "float32"),
    ("float32 grad stays float32", lambda m: _grad_of(m, lambda x: (x * 2.5 + 1) ** 2 / 3), "float32"),
]


def _grad_of(m, f):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    f(x).sum().backward()
    return x.grad


def _dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


@pytest.mark.parametrize("label, expression, expected", DTYPES, ids=[row[0] for row in DTYPES])
def test_result_dtype_is_torchs(label, expression, expected):
    assert _dtype_name(expression(ad)) == expected


@pytest.mark.parametrize("label, expression, expected", DTYPES, ids=[row[0] for row in DTYPES])
def test_result_dtype_table_is_torch_today(label, expression, expected):
    torch = pytest.importorskip("torch")
    assert _dtype_name(expression(torch)) == expected


# -- errors: torch's exception type and wording ---------------------------------------------------------------------

def _ones(m, *shape):
    return m.ones(*shape)


ERRORS = [
    ("dot dtypes", lambda m: m.dot(_f32(m), _f64(m)), RuntimeError,
     "dot : expected both vectors to have same dtype, but found Float and Double"),
    ("mean of int64", lambda m: _i64(m).mean(), RuntimeError,
     "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long"),
    ("int64 requires grad", lambda m: m.tensor([1, 2], requires_grad=True), RuntimeError,
     "Only Tensors of floating point and complex dtype can require gradients"),
    ("norm of int64", lambda m: _i64(m).norm(), RuntimeError,
     "linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long"),
    ("int64 ** -1", lambda m: _i64(m) ** -1, RuntimeError, "Integers to negative integer powers are not allowed."),
    ("mm shapes", lambda m: m.mm(_ones(m, 2, 3), _ones(m, 2, 3)), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    ("matrix @ vector", lambda m: _ones(m, 2, 3) @ _ones(m, 2), RuntimeError,
     "size mismatch, got input (2), mat (2x3), vec (2)"),
    ("broadcast", lambda m: _ones(m, 2, 3) + _ones(m, 2), RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1"),
    ("reshape", lambda m: _ones(m, 2, 3).reshape(4), RuntimeError, "shape '[4]' is invalid for input of size 6"),
    ("view", lambda m: _ones(m, 2, 3).view(5), RuntimeError, "shape '[5]' is invalid for input of size 6"),
    ("sum dim", lambda m: _ones(m, 2, 3).sum(2), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("cat sizes", lambda m: m.cat([_ones(m, 2, 3), _ones(m, 3, 2)]), RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 2 for tensor number 1 in "
     "the list."),
    ("stack sizes", lambda m: m.stack([_ones(m, 2), _ones(m, 3)]), RuntimeError,
     "stack expects each tensor to be equal size, but got [2] at entry 0 and [3] at entry 1"),
    ("item", lambda m: _ones(m, 2).item(), RuntimeError, "a Tensor with 2 elements cannot be converted to Scalar"),
    ("bool", lambda m: bool(_ones(m, 2)), RuntimeError,
     "Boolean value of Tensor with more than one value is ambiguous"),
    ("softmax dim", lambda m: _ones(m, 2).softmax(1), IndexError,
     "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    ("permute", lambda m: _ones(m, 2, 3).permute(0), RuntimeError,
     "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired "
     "ordering of dimensions i.e. input.dim() = 2 is not equal to len(dims) = 1"),
    ("transpose", lambda m: _ones(m, 2, 3).transpose(0, 2), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("dot 2-D", lambda m: m.dot(_ones(m, 2, 2), _ones(m, 2)), RuntimeError,
     "1D tensors expected, but got 2D and 1D tensors"),
    ("dot lengths", lambda m: m.dot(_ones(m, 2), _ones(m, 3)), RuntimeError,
     "inconsistent tensor size, expected tensor [2] and src [3] to have the same number of elements, but got 2 "
     "and 3 elements respectively"),
    ("squeeze dim", lambda m: _ones(m, 2).squeeze(3), IndexError,
     "Dimension out of range (expected to be in range of [-1, 0], but got 3)"),
    ("unsqueeze dim", lambda m: _ones(m, 2).unsqueeze(3), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 3)"),
    ("index", lambda m: _ones(m, 2)[5], IndexError, "index 5 is out of bounds for dimension 0 with size 2"),
    ("float index", lambda m: _ones(m, 2)[m.tensor([0.0])], IndexError,
     "tensors used as indices must be long, int, byte or bool tensors"),
    ("expand", lambda m: _ones(m, 2, 3).expand(3, 3), RuntimeError,
     "The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 0.  "
     "Target sizes: [3, 3].  Tensor sizes: [2, 3]"),
    ("max of empty", lambda m: _ones(m, 0).max(), RuntimeError,
     "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the "
     "'dim' argument."),
    ("in-place dtype", lambda m: _i64(m).add_(1.5), RuntimeError,
     "result type Float can't be cast to the desired output type Long"),
    ("in-place shape", lambda m: _ones(m, 2).add_(_ones(m, 2, 2)), RuntimeError,
     "output with shape [2] doesn't match the broadcast shape [2, 2]"),
    ("tensor of str", lambda m: m.tensor("a"), TypeError, "new(): invalid data type 'str'"),
    ("flatten", lambda m: _ones(m, 2, 3).flatten(1, 0), RuntimeError,
     "flatten() has invalid args: start_dim cannot come after end_dim"),
    ("clamp without bounds", lambda m: m.clamp(_ones(m, 2)), RuntimeError,
     "torch.clamp: At least one of 'min' or 'max' must not be None"),
    ("t of 3-D", lambda m: _ones(m, 1, 2, 3).t(), RuntimeError,
     "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    ("mv", lambda m: m.mv(_ones(m, 2, 3), _ones(m, 2)), RuntimeError,
     "size mismatch, got input (2), mat (2x3), vec (2)"),
    ("ragged", lambda m: m.tensor([[1.0, 2.0], [3.0]]), ValueError, "expected sequence of length 2 at dim 1 (got 1)"),
    ("negative size", lambda m: m.randn(-1), RuntimeError,
     "Trying to create tensor with negative dimension -1: [-1]"),
    ("arange sign", lambda m: m.arange(0, 5, -1), RuntimeError,
     "upper bound and lower bound inconsistent with step sign"),
    ("eye", lambda m: m.eye(-1), RuntimeError, "n must be greater or equal to 0, got -1"),
    ("linspace", lambda m: m.linspace(0, 1, -1), RuntimeError, "number of steps must be non-negative"),
    ("fro norm over 3 dims", lambda m: m.norm(_ones(m, 1, 1, 1), dim=(0, 1, 2)), RuntimeError,
     "linalg.matrix_norm: dim must be a 2-tuple. Got 0 1 2"),
    ("tensor + str", lambda m: _f32(m) + "a", TypeError, "unsupported operand type(s) for +: 'Tensor' and 'str'"),
    ("tensor + list", lambda m: _f32(m) + [1.0, 2.0], TypeError,
     "unsupported operand type(s) for +: 'Tensor' and 'list'"),
    ("tensor - None", lambda m: _f32(m) - None, TypeError,
     "unsupported operand type(s) for -: 'Tensor' and 'NoneType'"),
    ("str - tensor", lambda m: "a" - _f32(m), TypeError, "unsupported operand type(s) for -: 'str' and 'Tensor'"),
    ("tensor ** str", lambda m: _f32(m) ** "a", TypeError,
     "unsupported operand type(s) for ** or pow(): 'Tensor' and 'str'"),
    ("exp of a list", lambda m: m.exp([1.0, 2.0]), TypeError,
     "exp(): argument 'input' (position 1) must be Tensor, not list"),
    ("sqrt of a float", lambda m: m.sqrt(2.0), TypeError,
     "sqrt(): argument 'input' (position 1) must be Tensor, not float"),
    ("zeros of float", lambda m: m.zeros(2.5), TypeError,
     "zeros(): argument 'size' (position 1) must be tuple of ints, not float"),
]


@pytest.mark.parametrize("label, expression, error, message", ERRORS, ids=[row[0] for row in ERRORS])
def test_error_type_and_message_are_torchs(label, expression, error, message):
    with pytest.raises(error) as raised:
        expression(ad)
    assert str(raised.value) == message


@pytest.mark.parametrize("label, expression, error, message", ERRORS, ids=[row[0] for row in ERRORS])
def test_error_table_is_torch_today(label, expression, error, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(error) as raised:
        expression(torch)
    assert str(raised.value).split("\n")[0] == message


@pytest.mark.parametrize("case", rows("float32"))
def test_float32_rows_stay_float32(case):
    """Every op keeps float32 float32 (value, VJPs, JVP), and agrees with the float64 results to float32 precision."""
    arrays = [a.astype(np.float32) for a in _inputs(case)]
    dirs = {key: [np.asarray(d, dtype=np.float32) for d in value] if isinstance(value, list) else
            np.asarray(value, dtype=np.float32) for key, value in _dirs(case).items()}
    xs = [ad.tensor(a, requires_grad=True) for a in arrays]
    out = case.fn(ad, *xs)
    assert out.dtype == ad.float32
    grads = ad.autograd.grad(out, xs, ad.tensor(dirs["v"]), allow_unused=True)
    assert all(g is None or g.dtype == ad.float32 for g in grads)
    golden = GOLDEN[case.id]
    tol = 1e-4 if not case.kink else 1e-3
    np.testing.assert_allclose(out.detach().numpy(), golden["value"], rtol=tol, atol=tol)
    for g, expected in zip(grads, golden["grads"]):
        np.testing.assert_allclose(np.zeros(expected.shape) if g is None else g.numpy(), expected, rtol=tol, atol=tol)
    fwd = ad.autograd.forward_ad
    with fwd.dual_level():
        duals = [fwd.make_dual(ad.tensor(a), ad.tensor(u)) for a, u in zip(arrays, dirs["u"])]
        tangent = fwd.unpack_dual(case.fn(ad, *duals)).tangent
    assert tangent is None or tangent.dtype == ad.float32
