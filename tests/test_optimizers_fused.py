"""``fused=True``: the single-pass numba kernels of SGD and Adam give the numpy kernels' numbers
(and so torch's). Without numba, ``fused=True`` runs the numpy kernels and this file skips."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

from optimizers._functional import fused  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent / "golden" / "optimizers"))

import optimizer_cases as oc  # noqa: E402

ROWS = [c for c in oc.CASES
        if c[1] in ("SGD", "Adam", "AdamW") and "fused" not in c[2] and "foreach" not in c[2]]


def as_fused(case):
    name, cls, kwargs, groups = oc.unpack(case)
    row = (name + "-fused", cls, {**kwargs, "fused": True})
    return row if groups is None else row + (groups,)


def test_numba_kernels_are_available():
    assert fused.available()


@pytest.mark.parametrize("case", ROWS, ids=[c[0] for c in ROWS])
def test_fused_equals_numpy_kernel(case):
    numpy_run, _ = oc.run_ours(case)
    fused_run, _ = oc.run_ours(as_fused(case))
    assert sorted(numpy_run) == sorted(fused_run)
    for key, values in numpy_run.items():
        np.testing.assert_allclose(fused_run[key], values, rtol=1e-12, atol=1e-14, err_msg=key)


def test_fused_kernel_runs_on_float32_and_matches():
    rng = np.random.default_rng(3)
    p, g = rng.standard_normal(1000).astype(np.float32), rng.standard_normal(1000).astype(np.float32)
    m, v = np.zeros_like(p), np.zeros_like(p)
    q, mm, vv = p.copy(), m.copy(), v.copy()
    from optimizers._functional import adam_

    kwargs = dict(step=1.0, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                  amsgrad=False, maximize=False, decoupled_weight_decay=False)
    assert fused.adam_fused_(p, g, m, v, None, **kwargs)
    adam_(q, g, mm, vv, None, **kwargs)
    np.testing.assert_allclose(p, q, rtol=1e-6)
    assert p.dtype == np.float32


def test_non_contiguous_arrays_fall_back_to_numpy():
    p = np.zeros((4, 2))[:, 0]
    assert not fused.sgd_fused_(p, np.ones(4), None, lr=0.1, momentum=0, dampening=0,
                                weight_decay=0, nesterov=False, maximize=False, first_step=False)
