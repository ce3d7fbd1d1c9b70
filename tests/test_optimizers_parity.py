"""The parity table: every (optimizer, options) row against torch 2.13's numbers, step by step.

The reference is the committed golden data (tests/golden/optimizers, made by make_optimizer_golden.py from
torch), so these checks run without torch; with torch installed, the last tests also check that
the golden data is what torch computes today.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).parent / "golden" / "optimizers"
sys.path.insert(0, str(GOLDEN))

import optimizer_cases as oc  # noqa: E402

RTOL = 1e-6
ATOL = 1e-12
# Muon against torch as shipped: torch's Newton-Schulz runs in bfloat16, ours in the parameter's
# dtype. Measured over random matrices, the two NS outputs differ by at most 0.045 per entry (on
# entries of size up to ~1), so each step's update may differ by 5% of the step size:
# |theta_ours - theta_torch| <= 0.05 * sum of the adjusted learning rates so far.
MUON_BF16_STEP_TOLERANCE = 0.05
# torch itself computes the same trajectories differently in the last bits on different CPUs (its kernels for
# AVX2 and AVX-512 round differently): up to 1e-9 relative, after L-BFGS's history amplifies it, between the machine
# that made the golden data and an AVX-512 one. The golden data stands for torch within that, three orders of
# magnitude inside the parity tolerance above.
TORCH_CPU_RTOL = 1e-9
TORCH_CPU_ATOL = 1e-12


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN / "trajectories.npz") as data:
        return {key: data[key] for key in data.files}


def golden_case(golden, name):
    prefix = name + "|"
    return {k[len(prefix):]: v for k, v in golden.items() if k.startswith(prefix)}


def assert_trajectories_equal(ours, reference, rtol=RTOL, atol=ATOL):
    assert sorted(ours) == sorted(reference), "state keys differ from torch's"
    for key, expected in reference.items():
        got = ours[key]
        assert got.dtype == expected.dtype, f"{key}: dtype {got.dtype}, torch {expected.dtype}"
        assert got.shape == expected.shape, f"{key}: shape {got.shape}, torch {expected.shape}"
        for step in range(expected.shape[0]):
            np.testing.assert_allclose(got[step], expected[step], rtol=rtol, atol=atol,
                                       err_msg=f"{key} after step {step + 1}")


@pytest.mark.parametrize("case", oc.CASES, ids=[c[0] for c in oc.CASES])
def test_matches_torch_every_step(case, golden):
    ours, _ = oc.run_ours(case)
    assert_trajectories_equal(ours, golden_case(golden, case[0]))


@pytest.mark.parametrize("case", oc.OTHER_SHAPE_CASES, ids=[c[0] for c in oc.OTHER_SHAPE_CASES])
def test_other_shapes_match_torch(case, golden):
    ours, _ = oc.run_ours(case, shapes=oc.OTHER_SHAPES)
    assert_trajectories_equal(ours, golden_case(golden, case[0]))


@pytest.mark.parametrize("name,kwargs", oc.LBFGS_CASES, ids=[c[0] for c in oc.LBFGS_CASES])
def test_lbfgs_on_rosenbrock_matches_torch(name, kwargs, golden):
    ours = oc.run_lbfgs_ours(kwargs)
    assert_trajectories_equal(ours, golden_case(golden, name), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name,kwargs", oc.LBFGS_FLOAT32_CASES, ids=[c[0] for c in oc.LBFGS_FLOAT32_CASES])
def test_lbfgs_in_float32_follows_torchs_arithmetic_bit_for_bit(name, kwargs, golden):
    """torch's step scalars are float32 0-d tensors and its updates fused multiply-adds: Python floats or separate
    roundings would move the iterates apart from the 4th evaluation on."""
    ours = oc.run_lbfgs_ours(kwargs, oc.LBFGS_FLOAT32_STEPS, "float32", oc.LBFGS_FLOAT32_START)
    assert_trajectories_equal(ours, golden_case(golden, name), rtol=0, atol=0)
    np.testing.assert_allclose(ours["param0"][-1], [1.0, 1.0], atol=1e-4)


def test_lbfgs_keeps_its_step_scalars_as_torch_does():
    """t, ro and H_diag in the state are 0-d tensors of the parameters' dtype where torch's are, and survive a
    state_dict round trip as such."""
    import autodiff as ad
    import optimizers

    x = ad.tensor([-1.5, 2.0], requires_grad=True)
    opt = optimizers.LBFGS([x], lr=0.5, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    opt.step(closure)
    state = opt.state[x]
    assert all(isinstance(v, ad.Tensor) and v.dtype == ad.float32 and v.dim() == 0
               for v in [state["t"], state["H_diag"], *state["ro"]])
    assert all(v is None or (isinstance(v, ad.Tensor) and v.dtype == ad.float32) for v in state["al"])
    resumed = optimizers.LBFGS([x], lr=0.5, line_search_fn="strong_wolfe")
    resumed.load_state_dict(opt.state_dict())
    assert resumed.state[x]["H_diag"].dtype == ad.float32
    resumed.step(closure)


def test_lbfgs_strong_wolfe_reaches_rosenbrock_minimum(golden):
    final = np.concatenate([golden_case(golden, "lbfgs-strong_wolfe-tolerances")[f"param{i}"][-1]
                            for i in range(2)])
    np.testing.assert_allclose(final, np.ones(5), atol=1e-4)


@pytest.mark.parametrize("case", oc.MUON_CASES, ids=[c[0] for c in oc.MUON_CASES])
def test_muon_matches_torch_algorithm_in_float64(case, golden):
    """Same algorithm: equal to torch's Muon with its Newton-Schulz lifted to float64."""
    ours, _ = oc.run_ours(case, shapes=oc.MUON_SHAPES)
    assert_trajectories_equal(ours, golden_case(golden, case[0] + "-float64-ns"), atol=1e-10)


@pytest.mark.parametrize("case", oc.MUON_CASES, ids=[c[0] for c in oc.MUON_CASES])
def test_muon_within_bfloat16_tolerance_of_torch(case, golden):
    from optimizers._functional.muon import adjusted_lr

    kwargs = case[2]
    ours, _ = oc.run_ours(case, shapes=oc.MUON_SHAPES)
    reference = golden_case(golden, case[0])
    assert sorted(ours) == sorted(reference)
    step_lr = max(adjusted_lr(kwargs["lr"], kwargs.get("adjust_lr_fn"), s) for s in oc.MUON_SHAPES)
    steps = np.arange(1, oc.STEPS + 1)
    for key, expected in reference.items():
        bound = MUON_BF16_STEP_TOLERANCE * step_lr * steps
        diff = np.abs(ours[key] - expected).reshape(oc.STEPS, -1).max(axis=1)
        assert np.all(diff <= bound), f"{key}: {diff} exceeds {bound}"


def test_golden_data_is_what_torch_computes(golden):
    pytest.importorskip("torch")
    import make_optimizer_golden

    fresh = make_optimizer_golden.trajectories()
    assert sorted(fresh) == sorted(golden)
    for key, values in fresh.items():
        np.testing.assert_allclose(values, golden[key], rtol=TORCH_CPU_RTOL, atol=TORCH_CPU_ATOL, err_msg=key)


def test_golden_text_is_what_torch_prints():
    pytest.importorskip("torch")
    import make_optimizer_golden

    stored = json.loads((GOLDEN / "torch_text.json").read_text())
    fresh = make_optimizer_golden.torch_text()
    assert fresh["reprs"] == stored["reprs"]
    assert fresh["errors"] == stored["errors"]


# Options drawn at random per optimizer (seeded), against torch itself: combinations the table's
# rows do not spell out (e.g. maximize with weight decay and amsgrad together).
OPTION_SPACE = {
    "SGD": dict(lr=[0.01, 0.05], momentum=[0.0, 0.5, 0.9], dampening=[0.0, 0.2], weight_decay=[0.0, 0.1],
                nesterov=[False, True], maximize=[False, True]),
    "Adam": dict(lr=[0.01, 0.05], betas=[(0.9, 0.999), (0.5, 0.8)], eps=[1e-8, 1e-3], weight_decay=[0.0, 0.1],
                 amsgrad=[False, True], maximize=[False, True], decoupled_weight_decay=[False, True]),
    "AdamW": dict(lr=[0.01, 0.05], weight_decay=[0.0, 0.1], amsgrad=[False, True], maximize=[False, True]),
    "Adamax": dict(lr=[0.01, 0.05], betas=[(0.9, 0.999), (0.5, 0.8)], weight_decay=[0.0, 0.1],
                   maximize=[False, True]),
    "NAdam": dict(lr=[0.01, 0.05], momentum_decay=[4e-3, 0.1], weight_decay=[0.0, 0.1],
                  decoupled_weight_decay=[False, True], maximize=[False, True]),
    "RAdam": dict(lr=[0.01, 0.05], betas=[(0.9, 0.999), (0.9, 0.8)], weight_decay=[0.0, 0.1],
                  decoupled_weight_decay=[False, True], maximize=[False, True]),
    "RMSprop": dict(lr=[0.005, 0.01], alpha=[0.99, 0.8], weight_decay=[0.0, 0.1], momentum=[0.0, 0.5],
                    centered=[False, True], maximize=[False, True]),
    "Rprop": dict(lr=[0.01, 0.05], etas=[(0.5, 1.2), (0.2, 1.9)], step_sizes=[(1e-6, 50), (1e-3, 0.05)],
                  maximize=[False, True]),
    "Adagrad": dict(lr=[0.05, 0.1], lr_decay=[0.0, 0.1], weight_decay=[0.0, 0.1],
                    initial_accumulator_value=[0.0, 0.3], maximize=[False, True]),
    "Adadelta": dict(lr=[0.5, 1.0], rho=[0.9, 0.5], weight_decay=[0.0, 0.1], maximize=[False, True]),
    "ASGD": dict(lr=[0.01, 0.05], lambd=[1e-4, 1e-2], alpha=[0.75, 0.5], t0=[3, 1e6],
                 weight_decay=[0.0, 0.1], maximize=[False, True]),
    "Adafactor": dict(lr=[0.01, 0.05], beta2_decay=[-0.8, -0.5], d=[1.0, 1.5], weight_decay=[0.0, 0.1],
                      maximize=[False, True]),
}


def random_rows(per_optimizer=3, seed=11):
    rng = np.random.default_rng(seed)
    rows = []
    for cls, space in OPTION_SPACE.items():
        for i in range(per_optimizer):
            kwargs = {k: v[rng.integers(len(v))] for k, v in space.items()}
            if kwargs.get("nesterov") and (kwargs["momentum"] == 0 or kwargs["dampening"] != 0):
                kwargs["nesterov"] = False  # torch refuses that combination
            rows.append((f"{cls.lower()}-random{i}", cls, kwargs))
    return rows


RANDOM_ROWS = random_rows()


@pytest.mark.parametrize("case", RANDOM_ROWS, ids=[c[0] for c in RANDOM_ROWS])
def test_random_option_combinations_match_torch(case):
    pytest.importorskip("torch")
    ours, _ = oc.run_ours(case, steps=15)
    theirs, _ = oc.run_torch(case, steps=15)
    assert_trajectories_equal(ours, theirs)
