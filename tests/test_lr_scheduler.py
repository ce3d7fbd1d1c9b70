"""Learning-rate schedulers: every scheduler's rate (and momentum) sequence equals torch 2.13's.

Each row of CASES builds a scheduler from one namespace of scheduler classes (``optimizers.lr_scheduler`` or
``torch.optim.lr_scheduler``) over a three-group optimizer and runs STEPS steps. The sequences are compared
with committed golden values (tests/golden/lr_scheduler/sequences.json, so the check runs without torch) and,
when torch is installed, with torch itself. Regenerate the golden file with
``python tests/test_lr_scheduler.py --regenerate`` (needs torch).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

STEPS = 120
GOLDEN = Path(__file__).parent / "golden" / "lr_scheduler" / "sequences.json"
GROUP_LRS = (0.1, 0.03, 0.002)


def halve_every_ten(epoch):
    return 0.5 ** (epoch // 10)


def inverse_sqrt_warmup(epoch):
    return min(1.0, (epoch + 1) / 10) / math.sqrt(max(epoch, 10) / 10)


def decay_then_hold(epoch):
    return 0.95 if epoch < 60 else 1.0


class PiecewiseFactor:
    """A callable object: LambdaLR saves its __dict__ in state_dict (plain functions are saved as None)."""

    def __init__(self, boundary, after):
        self.boundary = boundary
        self.after = after

    def __call__(self, epoch):
        return 1.0 if epoch < self.boundary else self.after


def plateau_metric(step):
    """A loss that improves in bursts and stagnates in between (with small noise), so the patience logic acts."""
    return 1.0 / (1 + step // 13) + 1e-3 * ((step * 7) % 5)


def rising_metric(step):
    return math.log1p(step // 11) - 1e-3 * ((step * 3) % 4)


# (case id, optimizer kind, build(S, optimizer) -> scheduler, metric for ReduceLROnPlateau or None)
CASES = [
    ("step", "sgd", lambda S, o: S.StepLR(o, step_size=7), None),
    ("step_gamma", "sgd", lambda S, o: S.StepLR(o, step_size=3, gamma=0.9), None),
    ("multistep", "sgd", lambda S, o: S.MultiStepLR(o, milestones=[10, 30, 31, 80], gamma=0.5), None),
    ("multistep_repeated", "sgd", lambda S, o: S.MultiStepLR(o, milestones=[20, 20, 60], gamma=0.7), None),
    ("exponential", "sgd", lambda S, o: S.ExponentialLR(o, gamma=0.97), None),
    ("cosine", "sgd", lambda S, o: S.CosineAnnealingLR(o, T_max=120), None),
    ("cosine_eta_min_restarting", "sgd", lambda S, o: S.CosineAnnealingLR(o, T_max=25, eta_min=1e-4), None),
    ("linear_default", "sgd", lambda S, o: S.LinearLR(o), None),
    ("linear_warmup", "sgd", lambda S, o: S.LinearLR(o, start_factor=0.05, total_iters=40), None),
    ("linear_decay", "sgd", lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=90), None),
    ("constant_default", "sgd", lambda S, o: S.ConstantLR(o), None),
    ("constant", "sgd", lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=40), None),
    ("lambda", "sgd", lambda S, o: S.LambdaLR(o, lr_lambda=halve_every_ten), None),
    (
        "lambda_per_group",
        "sgd",
        lambda S, o: S.LambdaLR(
            o, lr_lambda=[halve_every_ten, inverse_sqrt_warmup, PiecewiseFactor(50, 0.25)]
        ),
        None,
    ),
    (
        "sequential_constant_exponential",
        "sgd",
        lambda S, o: S.SequentialLR(
            o, schedulers=[S.ConstantLR(o, factor=0.1, total_iters=20), S.ExponentialLR(o, gamma=0.9)], milestones=[20]
        ),
        None,
    ),
    (
        "sequential_warmup_cosine_step",
        "adam",
        lambda S, o: S.SequentialLR(
            o,
            schedulers=[
                S.LinearLR(o, start_factor=0.1, total_iters=10),
                S.CosineAnnealingLR(o, T_max=60, eta_min=1e-5),
                S.StepLR(o, step_size=5, gamma=0.8),
            ],
            milestones=[10, 70],
        ),
        None,
    ),
    ("onecycle", "sgd", lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=STEPS), None),
    (
        "onecycle_linear_three_phase",
        "sgd",
        lambda S, o: S.OneCycleLR(
            o, max_lr=[0.5, 0.2, 0.01], total_steps=STEPS, anneal_strategy="linear", three_phase=True
        ),
        None,
    ),
    (
        "onecycle_adam_epochs",
        "adam",
        lambda S, o: S.OneCycleLR(
            o,
            max_lr=0.3,
            epochs=12,
            steps_per_epoch=10,
            pct_start=0.25,
            base_momentum=[0.8, 0.85, 0.7],
            max_momentum=0.95,
            div_factor=10.0,
            final_div_factor=100.0,
        ),
        None,
    ),
    (
        "onecycle_no_momentum",
        "adam",
        lambda S, o: S.OneCycleLR(o, max_lr=0.05, total_steps=150, cycle_momentum=False, three_phase=True),
        None,
    ),
    ("multiplicative", "sgd", lambda S, o: S.MultiplicativeLR(o, lr_lambda=decay_then_hold), None),
    (
        "multiplicative_per_group",
        "sgd",
        lambda S, o: S.MultiplicativeLR(o, lr_lambda=[decay_then_hold, PiecewiseFactor(30, 0.97), halve_every_ten]),
        None,
    ),
    ("polynomial_default", "sgd", lambda S, o: S.PolynomialLR(o), None),
    ("polynomial_square", "sgd", lambda S, o: S.PolynomialLR(o, total_iters=100, power=2.0), None),
    (
        "chained_constant_exponential",
        "sgd",
        lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.1, total_iters=10), S.ExponentialLR(o, gamma=0.98)]),
        None,
    ),
    (
        "chained_linear_cosine_explicit_optimizer",
        "adam",
        lambda S, o: S.ChainedScheduler(
            [S.LinearLR(o, start_factor=0.2, total_iters=15), S.CosineAnnealingLR(o, T_max=40, eta_min=1e-4)], o
        ),
        None,
    ),
    ("warm_restarts", "sgd", lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=17), None),
    (
        "warm_restarts_growing",
        "sgd",
        lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-4),
        None,
    ),
    ("cyclic_triangular", "sgd", lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=13), None),
    (
        "cyclic_triangular2_asymmetric",
        "sgd",
        lambda S, o: S.CyclicLR(
            o, base_lr=[0.01, 0.02, 1e-4], max_lr=[0.1, 0.05, 1e-3], step_size_up=7, step_size_down=18,
            mode="triangular2", base_momentum=[0.8, 0.85, 0.7], max_momentum=0.95,
        ),
        None,
    ),
    (
        "cyclic_exp_range_adam",
        "adam",
        lambda S, o: S.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=10, mode="exp_range", gamma=0.99),
        None,
    ),
    (
        "cyclic_custom_scale_iterations_no_momentum",
        "sgd",
        lambda S, o: S.CyclicLR(
            o, base_lr=0.001, max_lr=0.004, step_size_up=6, scale_fn=halve_every_ten, scale_mode="iterations",
            cycle_momentum=False,
        ),
        None,
    ),
    ("plateau", "sgd", lambda S, o: S.ReduceLROnPlateau(o, patience=3), plateau_metric),
    (
        "plateau_abs_cooldown_min_lr",
        "sgd",
        lambda S, o: S.ReduceLROnPlateau(
            o, factor=0.5, patience=2, threshold=1e-3, threshold_mode="abs", cooldown=4, min_lr=[1e-3, 1e-4, 0.0]
        ),
        plateau_metric,
    ),
    ("plateau_max", "adam", lambda S, o: S.ReduceLROnPlateau(o, mode="max", factor=0.3, patience=0), rising_metric),
    (
        "plateau_max_abs_eps",
        "sgd",
        lambda S, o: S.ReduceLROnPlateau(
            o, mode="max", factor=0.5, patience=1, threshold=0.01, threshold_mode="abs", min_lr=0.01, eps=1e-3
        ),
        rising_metric,
    ),
]
CASE_IDS = [case[0] for case in CASES]


def make_optimizer(kind, tensor_factory, optimizer_classes):
    """A three-group optimizer of ``kind`` ("sgd" with momentum, or "adam") in the given library."""
    groups = [{"params": [tensor_factory()], "lr": lr} for lr in GROUP_LRS]
    if kind == "sgd":
        return optimizer_classes["sgd"](groups, lr=0.5, momentum=0.9)
    return optimizer_classes["adam"](groups, lr=0.5, betas=(0.9, 0.999))


def momentum_of(group):
    if "betas" in group:
        return group["betas"][0]
    return group["momentum"]


def run_case(case, schedulers, tensor_factory, optimizer_classes):
    """Per step (construction included): the scheduler's last lrs and the groups' momenta."""
    _, kind, build, metric = case
    optimizer = make_optimizer(kind, tensor_factory, optimizer_classes)
    scheduler = build(schedulers, optimizer)
    record = {"last_lr": [], "momentum": []}

    def snapshot():
        last_lr = [float(lr) for lr in scheduler.get_last_lr()]
        assert last_lr == [float(group["lr"]) for group in optimizer.param_groups]
        record["last_lr"].append(last_lr)
        record["momentum"].append([float(momentum_of(group)) for group in optimizer.param_groups])

    snapshot()
    for step in range(STEPS):
        optimizer.step()  # no gradients: a no-op that tells the scheduler the order is right
        if metric is None:
            scheduler.step()
        else:
            scheduler.step(metric(step))
        snapshot()
    return record


def ours():
    import autodiff
    import optimizers
    from optimizers import lr_scheduler

    classes = {"sgd": optimizers.SGD, "adam": optimizers.Adam}
    return lr_scheduler, (lambda: autodiff.zeros(2, dtype=autodiff.float64, requires_grad=True)), classes


def torchs(torch):
    classes = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
    factory = lambda: torch.zeros(2, dtype=torch.float64, requires_grad=True)  # noqa: E731
    return torch.optim.lr_scheduler, factory, classes


def assert_sequences_equal(actual, expected, label):
    for key in expected:
        assert len(actual[key]) == len(expected[key]), (label, key)
        for step, (got, want) in enumerate(zip(actual[key], expected[key])):
            assert got == pytest.approx(want, rel=1e-12, abs=0.0), f"{label}: {key} at step {step}: {got} != {want}"


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN.read_text())


def test_golden_file_covers_every_case(golden):
    assert sorted(golden["cases"]) == sorted(CASE_IDS)
    assert golden["steps"] == STEPS


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_sequence_matches_golden(case, golden):
    assert_sequences_equal(run_case(case, *ours()), golden["cases"][case[0]], case[0])


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_sequence_matches_torch(case):
    torch = pytest.importorskip("torch")
    expected = run_case(case, *torchs(torch))
    assert_sequences_equal(run_case(case, *ours()), expected, case[0])


def regenerate():
    import torch

    torch.set_default_dtype(torch.float64)
    cases = {case[0]: run_case(case, *torchs(torch)) for case in CASES}
    payload = {"torch_version": torch.__version__, "steps": STEPS, "group_lrs": list(GROUP_LRS), "cases": cases}
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(payload, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {GOLDEN} ({len(cases)} cases)")


if __name__ == "__main__":
    if "--regenerate" in sys.argv:
        regenerate()
