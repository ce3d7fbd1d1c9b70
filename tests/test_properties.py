"""Property tests: random shapes and broadcasting pairs, values against numpy and gradients against directional
central differences (float64), and against torch when it is importable.

Hypothesis draws the shapes, dims and a seed; the numbers come from numpy's generator with that seed, so values do
not tie by accident where an op is not differentiable (ties get their own property, checked against torch).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad

try:
    import torch
except ImportError:      # the torch comparisons are skipped; numpy and finite differences still run
    torch = None

SETTINGS = settings(max_examples=40, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4)


def draw_arrays(seed, shapes_, low=-2.0, high=2.0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=s) for s in shapes_]


def check(fn, arrays, expected=None, seed=0, eps=1e-6, tol=1e-6):
    """Value (vs ``expected`` from numpy), VJP and JVP vs directional central differences, and vs torch."""
    xs = [ad.tensor(a, dtype=ad.float64, requires_grad=True) for a in arrays]
    out = fn(ad, *xs)
    value = out.detach().numpy()
    if expected is not None:
        np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    rng = np.random.default_rng(seed + 1)
    v = rng.standard_normal(value.shape)
    grads = ad.autograd.grad(out, xs, ad.tensor(v, dtype=ad.float64), allow_unused=True)
    grads = [np.zeros(a.shape) if g is None else g.numpy() for g, a in zip(grads, arrays)]
    for g, a in zip(grads, arrays):
        assert g.shape == a.shape
    directions = [rng.standard_normal(a.shape) for a in arrays]

    def f(step):
        with ad.no_grad():
            return fn(ad, *[ad.tensor(a + step * u, dtype=ad.float64) for a, u in zip(arrays, directions)]).numpy()

    difference = (f(eps) - f(-eps)) / (2 * eps)
    analytic = sum(np.sum(g * u) for g, u in zip(grads, directions))
    assert analytic == pytest.approx(np.sum(v * difference), rel=tol, abs=tol)
    fwd = ad.autograd.forward_ad
    with fwd.dual_level():        # forward mode along the same direction
        duals = [fwd.make_dual(ad.tensor(a, dtype=ad.float64), ad.tensor(u, dtype=ad.float64))
                 for a, u in zip(arrays, directions)]
        tangent = fwd.unpack_dual(fn(ad, *duals)).tangent
    tangent = np.zeros(value.shape) if tangent is None else tangent.numpy()
    np.testing.assert_allclose(tangent, difference, rtol=tol, atol=tol)
    if torch is not None:
        compare_with_torch(fn, arrays, value, v, grads)


def compare_with_torch(fn, arrays, value, v, grads):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(torch, *ts)
    np.testing.assert_allclose(value, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    expected = torch.autograd.grad(out, ts, torch.tensor(v), allow_unused=True)
    for g, e, a in zip(grads, expected, arrays):
        e = np.zeros(a.shape) if e is None else e.numpy()
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-10)


BINARY = {
    "add": (lambda m, x, y: x + y, np.add),
    "sub": (lambda m, x, y: m.sub(x, y, alpha=2), lambda x, y: x - 2 * y),
    "mul": (lambda m, x, y: x * y, np.multiply),
    "div": (lambda m, x, y: x / (y * y + 0.5), lambda x, y: x / (y * y + 0.5)),
    "maximum": (lambda m, x, y: m.maximum(x, y), np.maximum),
    "minimum": (lambda m, x, y: m.minimum(x, y), np.minimum),
    "pow": (lambda m, x, y: (x * x + 0.5) ** y, lambda x, y: (x * x + 0.5) ** y),
    "where": (lambda m, x, y: m.where(x > y, x * y, y), lambda x, y: np.where(x > y, x * y, y)),
    "lerp": (lambda m, x, y: m.lerp(x, y, 0.25), lambda x, y: x + 0.25 * (y - x)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shape_pair=pairs, seed=seeds)
def test_binary_ops_broadcast_with_correct_gradients(name, shape_pair, seed):
    fn, reference = BINARY[name]
    arrays = draw_arrays(seed, shape_pair.input_shapes)
    check(fn, arrays, reference(*arrays), seed)


UNARY = {
    "exp": (lambda m, x: m.exp(x), np.exp, (-2, 2)),
    "log": (lambda m, x: m.log(x), np.log, (0.2, 3)),
    "sqrt": (lambda m, x: m.sqrt(x), np.sqrt, (0.2, 3)),
    "tanh": (lambda m, x: m.tanh(x), np.tanh, (-2, 2)),
    "sigmoid": (lambda m, x: m.sigmoid(x), lambda x: 1 / (1 + np.exp(-x)), (-5, 5)),
    "sin": (lambda m, x: m.sin(x), np.sin, (-3, 3)),
    "abs": (lambda m, x: m.abs(x), np.abs, (-2, 2)),
    "relu": (lambda m, x: m.relu(x), lambda x: np.maximum(x, 0), (-2, 2)),
    "clamp": (lambda m, x: m.clamp(x, -0.5, 1.0), lambda x: np.clip(x, -0.5, 1.0), (-2, 2)),
    "cube": (lambda m, x: x ** 3, lambda x: x ** 3, (-2, 2)),
    "reciprocal": (lambda m, x: 1 / x, lambda x: 1 / x, (0.5, 2)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_unary_ops(name, shape, seed):
    fn, reference, (low, high) = UNARY[name]
    (x,) = draw_arrays(seed, [shape], low, high)
    check(fn, [x], reference(x), seed)


@st.composite
def shape_and_dims(draw, min_dims=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                         unique_by=lambda d: d % len(shape)))
    return shape, tuple(dims)


REDUCTIONS = {
    "sum": (lambda dims, keep: lambda m, x: x.sum(dims, keepdim=keep),
            lambda x, dims, keep: np.sum(x, axis=dims, keepdims=keep)),
    "mean": (lambda dims, keep: lambda m, x: m.mean(x, dims, keepdim=keep),
             lambda x, dims, keep: np.mean(x, axis=dims, keepdims=keep)),
    "amax": (lambda dims, keep: lambda m, x: m.amax(x, dims, keepdim=keep),
             lambda x, dims, keep: np.amax(x, axis=dims, keepdims=keep)),
    "logsumexp": (lambda dims, keep: lambda m, x: m.logsumexp(x, dims, keepdim=keep),
                  lambda x, dims, keep: np.log(np.sum(np.exp(x), axis=dims, keepdims=keep))),
    "norm": (lambda dims, keep: lambda m, x: m.norm(x, p=2, dim=dims, keepdim=keep),
             lambda x, dims, keep: np.sqrt(np.sum(x * x, axis=dims, keepdims=keep))),
    "var": (lambda dims, keep: lambda m, x: m.var(x, dims, keepdim=keep),
            lambda x, dims, keep: np.var(x, axis=dims, keepdims=keep, ddof=1)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(shape_dims=shape_and_dims(), keepdim=st.booleans(), seed=seeds)
def test_reductions_over_random_dims(name, shape_dims, keepdim, seed):
    shape, dims = shape_dims
    if name == "var" and all(shape[d] == 1 for d in dims):
        dims = tuple(range(len(shape)))     # a variance over one element is nan (as torch); keep it finite
        if int(np.prod(shape)) == 1:
            return
    make, reference = REDUCTIONS[name]
    (x,) = draw_arrays(seed, [shape])
    check(make(dims, keepdim), [x], reference(x, tuple(d % len(shape) for d in dims), keepdim), seed)


@SETTINGS
@given(shape_dims=shape_and_dims(), seed=seeds)
def test_softmax_and_log_softmax(shape_dims, seed):
    shape, dims = shape_dims
    dim = dims[0]
    (x,) = draw_arrays(seed, [shape], -4, 4)
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    expected = e / e.sum(axis=dim, keepdims=True)
    check(lambda m, t: m.softmax(t, dim), [x], expected, seed)
    check(lambda m, t: m.log_softmax(t, dim), [x], np.log(expected), seed)


@SETTINGS
@given(batch=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
       n=st.integers(1, 4), k=st.integers(1, 4), p=st.integers(1, 4),
       vector_left=st.booleans(), vector_right=st.booleans(), seed=seeds)
def test_matmul_with_batch_broadcasting(batch, n, k, p, vector_left, vector_right, seed):
    left = (k,) if vector_left else batch.input_shapes[0] + (n, k)
    right = (k,) if vector_right else batch.input_shapes[1] + (k, p)
    arrays = draw_arrays(seed, [left, right])
    check(lambda m, x, y: x @ y, arrays, np.matmul(*arrays), seed)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), data=st.data(), seed=seeds)
def test_shape_ops(shape, data, seed):
    (x,) = draw_arrays(seed, [shape])
    order = data.draw(st.permutations(range(len(shape))))
    check(lambda m, t: t.permute(*order) * 2, [x], np.transpose(x, order) * 2, seed)
    check(lambda m, t: t.reshape(-1) ** 2, [x], x.reshape(-1) ** 2, seed)
    d0, d1 = data.draw(st.integers(0, len(shape) - 1)), data.draw(st.integers(0, len(shape) - 1))
    check(lambda m, t: m.transpose(t, d0, d1).exp(), [x], np.exp(np.swapaxes(x, d0, d1)), seed)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    check(lambda m, t: m.cat([t, t * 3], dim), [x], np.concatenate([x, x * 3], dim), seed)
    check(lambda m, t: m.stack([t, t.sin()], dim), [x], np.stack([x, np.sin(x)], dim), seed)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5), data=st.data(), seed=seeds)
def test_integer_array_indexing_accumulates_repeats(shape, data, seed):
    (x,) = draw_arrays(seed, [shape])
    index = data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=8))
    check(lambda m, t: t[index] * 2, [x], x[index] * 2, seed)
    t = ad.tensor(x, requires_grad=True)
    t[index].sum().backward()
    counts = np.zeros(shape[0])
    np.add.at(counts, index, 1)
    np.testing.assert_array_equal(t.grad.numpy(), np.broadcast_to(counts.reshape((-1,) + (1,) * (len(shape) - 1)),
                                                                  shape))


@SETTINGS
@given(shape_pair=pairs, scalar=st.one_of(st.integers(-3, 3), st.floats(-3, 3)), seed=seeds)
def test_float32_stays_float32(shape_pair, scalar, seed):
    a, b = draw_arrays(seed, shape_pair.input_shapes)
    x = ad.tensor(a, dtype=ad.float32, requires_grad=True)
    y = ad.tensor(b, dtype=ad.float32)
    out = ((x * scalar + y) / 2 - scalar) ** 2
    assert out.dtype == ad.float32
    out.sum().backward()
    assert x.grad.dtype == ad.float32
    z = x + ad.tensor(b, dtype=ad.float64)
    assert z.dtype == (ad.float32 if len(shape_pair.input_shapes[1]) == 0 and len(a.shape) > 0 else ad.float64)


@pytest.mark.skipif(torch is None, reason="ties are compared with torch")
@SETTINGS
@given(shape_dims=shape_and_dims(), seed=seeds)
def test_ties_split_gradients_as_torch(shape_dims, seed):
    """Integer-valued inputs tie often: max/min/amax/amin/maximum must route gradients as torch does."""
    shape, dims = shape_dims
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=shape).astype(np.float64)
    y = rng.integers(-2, 3, size=shape).astype(np.float64)
    v = rng.standard_normal(1)
    for fn in (lambda m, t, u: m.max(t), lambda m, t, u: m.min(t), lambda m, t, u: m.amax(t, dims),
               lambda m, t, u: m.amin(t, dims, keepdim=True), lambda m, t, u: m.maximum(t, u),
               lambda m, t, u: m.minimum(t, u), lambda m, t, u: m.norm(t, p=float("inf"))):
        xs = [ad.tensor(a, dtype=ad.float64, requires_grad=True) for a in (x, y)]
        out = fn(ad, *xs)
        grads = ad.autograd.grad((out * float(v[0])).sum(), xs, allow_unused=True)
        grads = [np.zeros(shape) if g is None else g.numpy() for g in grads]
        compare_with_torch(lambda m, t, u: (fn(m, t, u) * float(v[0])).sum(), [x, y],
                           (out * float(v[0])).sum().detach().numpy(), np.array(1.0), grads)


@pytest.mark.skipif(torch is None, reason="float32 results are compared with torch")
@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_float32_values_and_gradients_within_a_few_ulps_of_torch(name, shape, seed):
    """Same dtype as torch, and values within ~4 ulps (different libm implementations round differently)."""
    fn, _, (low, high) = UNARY[name]
    (x,) = draw_arrays(seed, [shape], low, high)
    x = x.astype(np.float32)
    ours = ad.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    a, t = fn(ad, ours), fn(torch, theirs)
    assert str(a.dtype) == str(t.dtype).replace("torch", "autodiff")
    np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=5e-7, atol=1e-7)
    a.sum().backward()
    t.sum().backward()
    assert ours.grad.dtype == ad.float32
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=2e-6, atol=1e-6)


# -- random programs of in-place and out-of-place ops, run on autodiff and torch ------------------------------------

STEPS = {
    "mul_x": lambda m, ts, i: ts.append(ts[i] * ts[0]),
    "sin": lambda m, ts, i: ts.append(m.sin(ts[i])),
    "add_const": lambda m, ts, i: ts.append(ts[i] + 0.5),
    "clone": lambda m, ts, i: ts.append(ts[i].clone()),
    "add_": lambda m, ts, i: ts[i].add_(ts[0], alpha=0.5),
    "mul_": lambda m, ts, i: ts[i].mul_(ts[-1] if i != len(ts) - 1 else ts[0] * 1),   # y.mul_(y): see api test
    "sub_": lambda m, ts, i: ts[i].sub_(0.25),
    "exp_": lambda m, ts, i: ts[i].exp_(),
    "clamp_": lambda m, ts, i: ts[i].clamp_(-1.0, 1.5),
    # views: in-place changes through them reach their base, and the base's reach them
    "view_first": lambda m, ts, i: ts.append(ts[i][0:1] if ts[i].ndim else ts[i][None]),
    "view_all": lambda m, ts, i: ts.append(ts[i][...]),
    "view_reshaped": lambda m, ts, i: ts.append(ts[i].reshape(1, -1)[0]),
}


def run_program(m, x, program):
    """Apply ``program`` [(step, index)] to [x]; return the outcome: values and grad, or the error raised."""
    leaf = m.tensor(x, dtype=m.float64, requires_grad=True)
    ts = [leaf * 1]
    try:
        for step, index in program:
            STEPS[step](m, ts, index % len(ts))
        total = sum(t.sum() for t in ts)
        total.backward()
    except RuntimeError as error:
        return ("error", str(error).split(":")[0])
    return ("ok", [t.detach().numpy().tolist() for t in ts], None if leaf.grad is None else leaf.grad.numpy().tolist())


programs = st.lists(st.tuples(st.sampled_from(sorted(STEPS)), st.integers(0, 5)), min_size=1, max_size=6)


@pytest.mark.skipif(torch is None, reason="random programs are compared with torch")
@settings(max_examples=150, deadline=None, derandomize=True)
@given(program=programs, seed=seeds)
def test_random_in_place_programs_match_torch(program, seed):
    (x,) = draw_arrays(seed, [(3,)], -1, 1)
    ours, theirs = run_program(ad, x, program), run_program(torch, x, program)
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "ok":
        np.testing.assert_allclose(ours[1][-1], theirs[1][-1], rtol=1e-12)
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-10, atol=1e-12)
    else:
        assert ours[1] == theirs[1]
