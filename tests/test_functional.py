"""autodiff.autograd.functional against torch.autograd.functional (golden data; live torch when installed),
closed-form Hessians, agreement of the forward- and reverse-mode strategies, and the vector products against
the full Hessian."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from autodiff.autograd import functional as F

GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))

import functional_cases as fc  # noqa: E402

DATA = json.loads((GOLDEN / "functional.json").read_text())
RESULTS = DATA["results"]
ERRORS = DATA["errors"]

def assert_matches(ours, golden, path="result"):
    """Same tuple structure, shapes and dtype as torch's result, values equal to float64 rounding."""
    for kind in ("tuple", "list"):   # torch's forward-mode jacobian gives lists for tuple inputs
        if kind in golden:
            assert type(ours).__name__ == kind, f"{path}: expected a {kind}, got {type(ours).__name__}"
            assert len(ours) == len(golden[kind]), path
            for i, (o, g) in enumerate(zip(ours, golden[kind])):
                assert_matches(o, g, f"{path}[{i}]")
            return
    assert isinstance(ours, ad.Tensor), f"{path}: expected a Tensor, got {type(ours).__name__}"
    assert list(ours.shape) == golden["shape"], path
    assert str(ours.dtype).split(".")[-1] == golden["dtype"], path
    np.testing.assert_allclose(ours.detach().numpy().reshape(-1), golden["values"], rtol=1e-12, atol=1e-12,
                               err_msg=path)


def _transform_keys():
    keys = []
    for name in fc.CASES:
        for transform in fc.transforms(ad, name):
            keys.append(f"{name}|{transform}")
    return keys


@pytest.mark.parametrize("key", _transform_keys())
def test_matches_torch_golden(key):
    name, transform = key.split("|")
    result = fc.transforms(ad, name)[transform]()
    assert_matches(result, RESULTS[key], key)


def test_golden_covers_every_case():
    expected = set(_transform_keys()) | {f"second_order|{k}" for k in fc.second_order(ad)}
    assert expected == set(RESULTS)


@pytest.mark.parametrize("key", list(fc.second_order(ad)))
def test_create_graph_results_are_differentiable(key):
    """d/d(inputs, v) of sum(result) with create_graph=True, as torch computes it."""
    result = fc.second_order(ad)[key]()
    assert_matches(result, RESULTS[f"second_order|{key}"], key)


@pytest.mark.parametrize("key", sorted(ERRORS))
def test_errors_match_torch(key):
    kind, message = ERRORS[key]
    with pytest.raises(Exception) as info:
        fc.error_calls(ad)[key]()
    assert type(info.value).__name__ == kind
    assert str(info.value) == message


def test_signatures_match_torch():
    """Same parameter names, kinds and defaults as torch 2.13's functional API, gradcheck and gradgradcheck."""
    assert fc.signatures(ad) == DATA["signatures"]


def test_live_torch_agrees_with_golden():
    """The committed golden data is what the installed torch computes (regenerate with make_functional_golden.py)."""
    torch = pytest.importorskip("torch")
    live = fc.run_all(torch)
    assert set(live) == set(RESULTS)
    for key, golden in RESULTS.items():
        assert _close(live[key], golden), key
    assert fc.run_errors(torch, "torch") == ERRORS
    assert fc.signatures(torch) == DATA["signatures"]


def _close(a, b):
    for kind in ("tuple", "list"):
        if kind in a:
            return kind in b and len(a[kind]) == len(b[kind]) and all(map(_close, a[kind], b[kind]))
    same_kind = a["shape"] == b["shape"] and a["dtype"] == b["dtype"]
    return same_kind and np.allclose(a["values"], b["values"], rtol=1e-12, atol=1e-12)


# -- closed forms ---------------------------------------------------------------------------------------------------

def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def rosenbrock_hessian(x):
    """H = d^2/dx^2 sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, written out."""
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        h[i + 1, i + 1] += 200
        h[i, i + 1] = h[i + 1, i] = -400 * x[i]
    return h


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
@pytest.mark.parametrize("point", [[1.0, 1.0], [1.0, -1.0, 2.0, 0.5], [-1.25, 0.75, 3.0]])
def test_hessian_of_rosenbrock_is_exact(point, strategy):
    x = ad.tensor(point, dtype=ad.float64)
    h = F.hessian(rosenbrock, x, outer_jacobian_strategy=strategy)
    np.testing.assert_array_equal(h.numpy(), rosenbrock_hessian(point))


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_hessian_of_the_seed_objective_is_exact(strategy):
    """sum(3a^3 - b^2) at a=[2,3], b=[6,4] (float32, as the seed notebook): H_aa = diag(18a), H_bb = -2I."""
    a = ad.tensor([2.0, 3.0], requires_grad=True)
    b = ad.tensor([6.0, 4.0], requires_grad=True)
    (haa, hab), (hba, hbb) = F.hessian(lambda a, b: ad.sum(3 * a ** 3 - b ** 2), (a, b),
                                       outer_jacobian_strategy=strategy)
    assert haa.dtype == ad.float32
    assert haa.tolist() == [[36.0, 0.0], [0.0, 54.0]]
    assert hbb.tolist() == [[-2.0, 0.0], [0.0, -2.0]]
    assert hab.tolist() == hba.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert not haa.requires_grad and a.grad is None   # nothing leaks into the caller's tensors


# -- strategies and products agree ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(fc.CASES))
def test_forward_and_reverse_jacobians_agree(name):
    func = fc.CASES[name][0](ad)
    x = fc.make_inputs(ad, name)
    reverse = F.jacobian(func, x)
    for vectorize in (False, True):
        forward = F.jacobian(func, x, vectorize=vectorize, strategy="forward-mode")
        _assert_same_structure_close(forward, reverse)


@pytest.mark.parametrize("name", [n for n in fc.CASES if fc.is_scalar(ad, n)])
def test_products_agree_with_the_hessian(name):
    func = fc.CASES[name][0](ad)
    x = fc.make_inputs(ad, name)
    xs = x if isinstance(x, tuple) else (x,)
    vs = tuple(ad.tensor(fc.pattern(tuple(t.shape), 0.5 + i), dtype=ad.float64) for i, t in enumerate(xs))
    h = F.hessian(func, x)
    _assert_same_structure_close(F.hessian(func, x, outer_jacobian_strategy="forward-mode"), h)
    blocks = h if isinstance(x, tuple) else ((h,),)
    flat = [[np.asarray(b.numpy()).reshape(xs[i].numel(), xs[j].numel()) for j, b in enumerate(row)]
            for i, row in enumerate(blocks)]
    v_flat = [v.numpy().reshape(-1) for v in vs]
    v_arg = vs if isinstance(x, tuple) else vs[0]
    _, hv = F.hvp(func, x, v_arg)
    _, vh = F.vhp(func, x, v_arg)
    hv = hv if isinstance(x, tuple) else (hv,)
    vh = vh if isinstance(x, tuple) else (vh,)
    for i in range(len(xs)):
        expected_hv = sum(flat[i][j] @ v_flat[j] for j in range(len(xs)))
        expected_vh = sum(v_flat[j] @ flat[j][i] for j in range(len(xs)))
        np.testing.assert_allclose(hv[i].numpy().reshape(-1), expected_hv, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(vh[i].numpy().reshape(-1), expected_vh, rtol=1e-12, atol=1e-12)


def _assert_same_structure_close(a, b):
    if isinstance(b, (tuple, list)):
        assert isinstance(a, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same_structure_close(x, y)
        return
    assert a.shape == b.shape
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


# -- what the transforms give back -----------------------------------------------------------------------------------

def test_jvp_is_forward_mode():
    """jvp runs func once, on dual tensors, and never a backward pass."""
    seen = []

    def func(x):
        seen.append(ad.autograd.forward_ad.unpack_dual(x).tangent)
        return x.sin()

    x = ad.tensor([0.5, 1.0], dtype=ad.float64)
    v = ad.tensor([1.0, -2.0], dtype=ad.float64)
    out, tangent = F.jvp(func, x, v)
    assert len(seen) == 1 and seen[0].tolist() == v.tolist()
    np.testing.assert_allclose(tangent.numpy(), np.cos([0.5, 1.0]) * [1.0, -2.0])


def test_results_are_detached_without_create_graph():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    cube_sum = lambda a: (a ** 3).sum()  # noqa: E731
    for out, product in (F.vjp(lambda a: a ** 2, x, x.detach()), F.jvp(lambda a: a ** 2, x, x.detach()),
                         F.vhp(cube_sum, x, x.detach()), F.hvp(cube_sum, x, x.detach())):
        assert not out.requires_grad and not product.requires_grad
    assert not F.jacobian(lambda a: a ** 2, x).requires_grad
    assert x.grad is None


def test_create_graph_keeps_the_output_graph():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    out, product = F.vjp(lambda a: a ** 2, x, ad.ones(2), create_graph=True)
    assert out.grad_fn is not None and product.grad_fn is not None
    (g,) = ad.autograd.grad(product.sum(), x)
    assert g.tolist() == [2.0, 2.0]
    out, product = F.jvp(lambda a: a ** 2, x, ad.ones(2), create_graph=True)
    assert repr(out) == "tensor([1., 4.], grad_fn=<PowBackward0>)"   # the function's own graph, as torch's
    assert repr(product) == "tensor([2., 4.], grad_fn=<MulBackward0>)"


def test_strict_false_gives_zeros_for_unused_inputs():
    x, y = ad.tensor([1.0, 2.0]), ad.tensor([3.0, 4.0, 5.0])
    _, (gx, gy) = F.vjp(lambda a, b: (a ** 2).sum(), (x, y))
    assert gx.tolist() == [2.0, 4.0] and gy.tolist() == [0.0, 0.0, 0.0]
    (jx, jy) = F.jacobian(lambda a, b: a * 2, (x, y))
    assert jy.shape == (2, 3) and not jy.numpy().any()
    _, tangent = F.jvp(lambda a, b: (a * 0 + 1.0, b.detach()), (x, y), (x, y))
    assert tangent[0].tolist() == [0.0, 0.0] and tangent[1].tolist() == [0.0, 0.0, 0.0]


def test_forward_mode_jacobian_takes_the_output_dtype_reverse_the_input_dtype():
    x = ad.tensor([1.0, 2.0])
    assert F.jacobian(lambda a: a.double() * 3, x).dtype == ad.float32
    assert F.jacobian(lambda a: a.double() * 3, x, strategy="forward-mode").dtype == ad.float64


def test_inputs_left_untouched():
    x = ad.tensor([1.0, 2.0])
    F.hessian(lambda a: (a ** 3).sum(), x, outer_jacobian_strategy="forward-mode")
    F.jacobian(lambda a, b: a * b, (x, ad.tensor([3.0, 4.0])), strategy="forward-mode")
    assert not x.requires_grad and x.grad is None and x.tolist() == [1.0, 2.0]


def test_hessian_create_graph_gives_third_derivatives():
    x = ad.tensor([1.0, 2.0], dtype=ad.float64, requires_grad=True)
    h = F.hessian(lambda a: (a ** 4).sum(), x, create_graph=True)   # diag(12 a^2)
    (g,) = ad.autograd.grad(h.sum(), x)
    assert g.tolist() == [24.0, 48.0]


def test_empty_inputs_and_outputs():
    x = ad.zeros(0, dtype=ad.float64)
    y = ad.tensor([1.0, 2.0], dtype=ad.float64)
    for strategy in ("reverse-mode", "forward-mode"):
        jx, jy = F.jacobian(lambda a, b: b * 2, (x, y), strategy=strategy)
        assert jx.shape == (2, 0) and jy.tolist() == [[2.0, 0.0], [0.0, 2.0]]
        j = F.jacobian(lambda b: b[:0], y, strategy=strategy)
        assert j.shape == (0, 2)


def test_the_documented_functional_example_prints_what_it_says():
    """Each line of docs/engine.md's functional example ending in ``# <repr>`` evaluates to that repr."""
    from docs_text import code_blocks, section

    [block] = code_blocks(section("docs/engine.md", "Higher-order and functional API"), "python")
    namespace: dict = {}
    exec(compile(block, "docs/engine.md", "exec"), namespace)
    checked = 0
    for line in block.splitlines():
        code, _, comment = line.partition("  # ")
        if comment.strip().startswith(("tensor", "(", "True")):
            assert repr(eval(code.strip(), namespace)) == comment.strip(), code
            checked += 1
    assert checked == 7


# -- random expressions against live torch ---------------------------------------------------------------------------

_UNARY = ["sin", "tanh", "exp", "sigmoid", "square"]
_BINARY = ["add", "mul", "sub", "div_softened"]


def _random_expression(rng):
    """A small random composition of two broadcastable inputs, as a function of the module it runs on."""
    steps = [(rng.choice(_UNARY), rng.choice(_BINARY), int(rng.integers(2))) for _ in range(3)]

    def build(m):
        def func(x, y):
            value = x
            for unary, binary, swap in steps:
                value = getattr(m, unary)(value)
                a, b = (y, value) if swap else (value, y)
                if binary == "div_softened":
                    value = a / (1 + b * b)
                else:
                    value = getattr(m, binary)(a, b)
            return value
        return func
    return build


_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2,)), ((2, 2), ())]


@pytest.mark.parametrize("seed", range(10))
def test_random_expressions_match_live_torch(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    build = _random_expression(rng)
    shape_x, shape_y = _SHAPES[seed % len(_SHAPES)]
    data = [rng.uniform(-1.5, 1.5, shape_x), rng.uniform(-1.5, 1.5, shape_y)]

    def both(call):
        ours = call(ad, tuple(ad.tensor(d, dtype=ad.float64) for d in data))
        theirs = call(torch, tuple(torch.tensor(d, dtype=torch.float64) for d in data))
        assert_matches(ours, fc.encode(theirs))

    both(lambda m, xy: m.autograd.functional.jacobian(build(m), xy))
    both(lambda m, xy: m.autograd.functional.jacobian(build(m), xy, vectorize=True, strategy="forward-mode"))
    both(lambda m, xy: m.autograd.functional.hessian(lambda x, y: build(m)(x, y).sum(), xy))
    both(lambda m, xy: m.autograd.functional.hvp(lambda x, y: build(m)(x, y).sum(), xy, xy)[1])
    both(lambda m, xy: m.autograd.functional.jvp(build(m), xy, xy)[1])
