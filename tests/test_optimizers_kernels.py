"""The numpy kernels' blocked path: cutting a large array into cache-sized blocks must not change
a single bit, and non-contiguous arrays take the whole-array path with the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers import _functional as F
from optimizers._functional import _blocks

TEST_BLOCK = 4096
N = 3 * TEST_BLOCK + 17  # several blocks and a ragged last one

KERNELS = {
    "sgd": (F.sgd_, 1, dict(lr=0.01, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False,
                            maximize=False, first_step=False)),
    "sgd-nesterov": (F.sgd_, 1, dict(lr=0.01, momentum=0.9, dampening=0, weight_decay=0, nesterov=True,
                                     maximize=True, first_step=False)),
    "adam": (F.adam_, 3, dict(step=3.0, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
                              amsgrad=True, maximize=False, decoupled_weight_decay=False)),
    "adamw": (F.adam_, 2, dict(step=3.0, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
                               amsgrad=False, maximize=True, decoupled_weight_decay=True)),
    "adamax": (F.adamax_, 2, dict(step=2.0, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8,
                                  weight_decay=0.1, maximize=False)),
    "nadam": (F.nadam_, 2, dict(step=2.0, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
                                momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False)),
    "radam": (F.radam_, 2, dict(step=8.0, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
                                decoupled_weight_decay=True, maximize=False)),
    "rmsprop": (F.rmsprop_, 3, dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.1, momentum=0.9,
                                    centered=True, maximize=False)),
    "adagrad": (F.adagrad_, 1, dict(step=2.0, lr=0.01, lr_decay=0.1, weight_decay=0.1, eps=1e-10,
                                    maximize=True)),
    "adadelta": (F.adadelta_, 2, dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.1, maximize=False)),
    "lion": (F.lion_, 1, dict(lr=0.01, beta1=0.9, beta2=0.99, weight_decay=0.1, maximize=True)),
    "adabelief": (F.adabelief_, 3, dict(step=3.0, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-16,
                                        weight_decay=0.1, decoupled_weight_decay=False, amsgrad=True,
                                        maximize=False)),
}


def arrays(n_state, dtype, shape=(N,)):
    """Parameter and gradient ~ N(0, 1); the first state in [1, 2], the others in [0.1, 0.3]
    (positive, and a centered RMSprop's square average above its squared mean)."""
    rng = np.random.default_rng(7)
    values = [rng.standard_normal(shape), rng.standard_normal(shape)]
    values += [(1.0 if i == 0 else 0.1) + (1.0 if i == 0 else 0.2) * rng.random(shape)
               for i in range(n_state)]
    return [v.astype(dtype) for v in values]


def call(kernel, arrs, hyper):
    if kernel is F.adam_ and len(arrs) == 4:  # without amsgrad's max_exp_avg_sq
        return kernel(*arrs, None, **hyper)
    if kernel is F.nadam_:
        return kernel(*arrs, np.ones((), np.float32), **hyper)
    return kernel(*arrs, **hyper)


@pytest.mark.parametrize("name", KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocked_equals_whole_array(name, dtype, monkeypatch):
    kernel, n_state, hyper = KERNELS[name]
    monkeypatch.setattr(_blocks, "BLOCK", TEST_BLOCK)
    blocked = arrays(n_state, dtype)
    call(kernel, blocked, hyper)
    whole = arrays(n_state, dtype)
    monkeypatch.setattr(_blocks, "SMALL", 10 * N)  # the whole-array path
    call(kernel, whole, hyper)
    for got, expected in zip(blocked, whole):
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == dtype


@pytest.mark.parametrize("name", KERNELS)
def test_non_contiguous_arrays(name):
    kernel, n_state, hyper = KERNELS[name]
    big = arrays(n_state, np.float64, shape=(N, 2))
    strided = [a[:, 0] for a in big]
    assert not strided[0].flags.c_contiguous
    contiguous = [a[:, 0].copy() for a in big]
    call(kernel, strided, hyper)
    call(kernel, contiguous, hyper)
    for got, expected in zip(strided, contiguous):
        np.testing.assert_array_equal(got, expected)
    # the strided update wrote through to the original storage
    np.testing.assert_array_equal(big[0][:, 0], contiguous[0])


def test_large_adam_step_matches_torch():
    torch = pytest.importorskip("torch")
    p, g = arrays(0, np.float32)
    m, v = np.zeros_like(p), np.zeros_like(p)
    tp = torch.tensor(p.copy(), requires_grad=True)
    opt = torch.optim.Adam([tp], lr=0.01, weight_decay=0.1)
    for step in (1.0, 2.0):
        tp.grad = torch.from_numpy(g)
        opt.step()
        F.adam_(p, g, m, v, None, step=step, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8,
                weight_decay=0.1, amsgrad=False, maximize=False, decoupled_weight_decay=False)
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(m, opt.state[tp]["exp_avg"].numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", KERNELS)
def test_small_arrays_reuse_scratch_without_reading_it(name):
    """Small arrays get scratch kept between calls: a kernel must write it before reading it."""
    kernel, n_state, hyper = KERNELS[name]
    shape = (3, 5)
    expected = arrays(n_state, np.float64, shape=shape)
    call(kernel, expected, hyper)
    for scratch in _blocks._local.small.values():  # poison what the last calls left behind
        for buffer in scratch:
            buffer.fill(np.nan)
    got = arrays(n_state, np.float64, shape=shape)
    call(kernel, got, hyper)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    first = _blocks._small_scratch(got[0], 2)
    assert first is _blocks._small_scratch(got[0], 2) and first[0] is not first[1]
