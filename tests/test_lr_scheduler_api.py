"""The scheduler contract beyond the rate sequences: state dicts, resuming, step(epoch), warnings and errors.

Messages are checked against torch 2.13's literal wording, so these tests run without torch; where torch is
installed, state dicts and resumed sequences are also compared with torch's directly.
"""

from __future__ import annotations

import math
import re
import warnings

import autodiff
import pytest

import optimizers
from optimizers import lr_scheduler as S

BEFORE_OPTIMIZER = "Detected call of `lr_scheduler.step()` before `optimizer.step()`"
OVERRIDDEN = "Seems like `optimizer.step()` has been overridden after learning rate scheduler initialization"
GET_LAST_LR = "To get the last learning rate computed by the scheduler, please use `get_last_lr()`."
EPOCH_DEPRECATED = "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated"


def sgd(lrs=(0.1, 0.03), momentum=0.9):
    groups = [{"params": [autodiff.zeros(2, dtype=autodiff.float64, requires_grad=True)], "lr": lr} for lr in lrs]
    return optimizers.SGD(groups, lr=0.5, momentum=momentum)


def torch_sgd(torch, lrs=(0.1, 0.03), momentum=0.9):
    groups = [{"params": [torch.zeros(2, dtype=torch.float64, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=0.5, momentum=momentum)


def scaled(epoch):
    return 0.9**epoch


# Schedulers whose whole state dict is compared with torch's after some steps (same code on both sides).
STATEFUL = {
    "step": lambda L, o: L.StepLR(o, 4, gamma=0.5),
    "multistep": lambda L, o: L.MultiStepLR(o, [3, 3, 9]),
    "exponential": lambda L, o: L.ExponentialLR(o, 0.9),
    "cosine": lambda L, o: L.CosineAnnealingLR(o, 10, eta_min=0.001),
    "linear": lambda L, o: L.LinearLR(o, 0.2, 0.9, 7),
    "constant": lambda L, o: L.ConstantLR(o, 0.25, 6),
    "lambda": lambda L, o: L.LambdaLR(o, scaled),
    "onecycle": lambda L, o: L.OneCycleLR(o, [1.0, 0.5], total_steps=40, three_phase=True),
    "sequential": lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, 0.5, total_iters=4), L.ExponentialLR(o, 0.8)], milestones=[5]
    ),
    "multiplicative": lambda L, o: L.MultiplicativeLR(o, scaled),
    "polynomial": lambda L, o: L.PolynomialLR(o, 20, power=0.5),
    "chained": lambda L, o: L.ChainedScheduler([L.StepLR(o, 3), L.ExponentialLR(o, 0.9)]),
    "warm_restarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, 4, T_mult=3, eta_min=0.01),
    "cyclic": lambda L, o: L.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=3, mode="triangular2"),
}


def run(build, optimizer, lib, steps):
    scheduler = build(lib, optimizer)
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
    return scheduler


def test_construction_takes_step_zero_and_records_initial_lr():
    optimizer = sgd()
    scheduler = S.StepLR(optimizer, step_size=3)
    assert scheduler.last_epoch == 0
    assert scheduler.base_lrs == [0.1, 0.03]
    assert [group["initial_lr"] for group in optimizer.param_groups] == [0.1, 0.03]
    assert scheduler.get_last_lr() == [0.1, 0.03]
    # A second scheduler keeps the first one's initial_lr (setdefault), as in torch.
    optimizer.param_groups[0]["lr"] = 7.0
    assert S.ExponentialLR(optimizer, 0.5).base_lrs == [0.1, 0.03]


def test_get_last_lr_is_a_copy():
    optimizer = sgd()
    scheduler = S.ExponentialLR(optimizer, 0.5)
    scheduler.get_last_lr()[0] = 123.0  # the list is the scheduler's, but never the optimizer's group
    assert optimizer.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_state_dict_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours = run(STATEFUL[name], sgd(), S, 13).state_dict()
    theirs = run(STATEFUL[name], torch_sgd(torch), torch.optim.lr_scheduler, 13).state_dict()
    assert list(ours) == list(theirs)
    assert ours == theirs


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_resume_from_state_dicts_continues_exactly(name):
    build = STATEFUL[name]
    uninterrupted = []
    optimizer = sgd()
    scheduler = build(S, optimizer)
    for _ in range(30):
        optimizer.step()
        scheduler.step()
        uninterrupted.append(scheduler.get_last_lr())

    optimizer = sgd()
    scheduler = run(build, optimizer, S, 12)
    saved_optimizer, saved_scheduler = optimizer.state_dict(), scheduler.state_dict()
    # Restore as torch documents: build the scheduler first, then load both states.
    optimizer = sgd(lrs=(5.0, 5.0))
    scheduler = build(S, optimizer)
    optimizer.load_state_dict(saved_optimizer)
    scheduler.load_state_dict(saved_scheduler)
    resumed = []
    for _ in range(18):
        optimizer.step()
        scheduler.step()
        resumed.append(scheduler.get_last_lr())
    assert resumed == uninterrupted[12:]


def test_lambda_state_dict_saves_callable_objects_only():
    class Factor:
        def __init__(self):
            self.value = 0.5

        def __call__(self, epoch):
            return self.value

    factor = Factor()
    scheduler = S.LambdaLR(sgd(), [scaled, factor])
    assert scheduler.state_dict()["lr_lambdas"] == [None, {"value": 0.5}]
    saved = scheduler.state_dict()
    saved["lr_lambdas"][1] = {"value": 0.25}
    scheduler.load_state_dict(saved)
    assert factor.value == 0.25 and "lr_lambdas" in saved


def test_resume_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\] when resuming"):
        S.StepLR(sgd(), 3, last_epoch=5)


@pytest.mark.parametrize(
    "build",
    [
        lambda L, o: L.CosineAnnealingLR(o, T_max=20, eta_min=0.01, last_epoch=7),
        lambda L, o: L.StepLR(o, 3, last_epoch=7),
        lambda L, o: L.ExponentialLR(o, 0.9, last_epoch=7),
        lambda L, o: L.LinearLR(o, 0.1, total_iters=10, last_epoch=7),
    ],
    ids=["cosine", "step", "exponential", "linear"],
)
def test_resume_with_last_epoch_matches_torch(build):
    torch = pytest.importorskip("torch")

    def sequence(optimizer, lib):
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"]
        scheduler = build(lib, optimizer)
        values = [scheduler.get_last_lr()]
        for _ in range(25):
            optimizer.step()
            scheduler.step()
            values.append(scheduler.get_last_lr())
        return values

    assert sequence(sgd(), S) == sequence(torch_sgd(torch), torch.optim.lr_scheduler)


CLOSED_FORM = {
    "step": (lambda L, o: L.StepLR(o, 4, gamma=0.5), [3, 4, 9, 17]),
    "multistep": (lambda L, o: L.MultiStepLR(o, [3, 3, 9], gamma=0.5), [2, 3, 10]),
    "exponential": (lambda L, o: L.ExponentialLR(o, 0.9), [5, 1, 30]),
    "cosine": (lambda L, o: L.CosineAnnealingLR(o, 10, eta_min=0.001), [3, 10, 15]),
    "linear": (lambda L, o: L.LinearLR(o, 0.2, 0.9, 7), [2, 7, 12]),
    "constant": (lambda L, o: L.ConstantLR(o, 0.25, 6), [5, 6, 2]),
    "lambda": (lambda L, o: L.LambdaLR(o, scaled), [4, 9]),
    "multiplicative": (lambda L, o: L.MultiplicativeLR(o, scaled), [4, 9]),
    "polynomial": (lambda L, o: L.PolynomialLR(o, 10, power=2.0), [3, 12, 7]),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORM))
def test_step_with_epoch_warns_and_uses_the_closed_form(name):
    build, epochs = CLOSED_FORM[name]
    optimizer = sgd()
    scheduler = build(S, optimizer)
    values = []
    for epoch in epochs:
        optimizer.step()
        with pytest.warns(UserWarning, match=re.escape(EPOCH_DEPRECATED)):
            scheduler.step(epoch)
        values.append(scheduler.get_last_lr())
        assert scheduler.last_epoch == epoch
    torch = pytest.importorskip("torch")
    optimizer = torch_sgd(torch)
    scheduler = build(torch.optim.lr_scheduler, optimizer)
    expected = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in epochs:
            optimizer.step()
            scheduler.step(epoch)
            expected.append(scheduler.get_last_lr())
    assert values == expected


@pytest.mark.parametrize("t_mult", [1, 2])
def test_warm_restarts_accept_fractional_epochs_without_warning(t_mult):
    epochs = [0.5, 1.25, 3.0, 4.75, 9.5, 21.0, 2.0, 50.2]

    def sequence(lib, optimizer):
        scheduler = lib.CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=t_mult, eta_min=0.001)
        values = []
        for epoch in epochs:
            optimizer.step()
            scheduler.step(epoch)
            values.append(scheduler.get_last_lr() + [scheduler.T_cur, scheduler.T_i, scheduler.last_epoch])
        return values

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = sequence(S, sgd())
    with pytest.raises(ValueError, match="^Expected non-negative epoch, but got -1$"):
        S.CosineAnnealingWarmRestarts(sgd(), T_0=3).step(-1)
    torch = pytest.importorskip("torch")
    assert ours == sequence(torch.optim.lr_scheduler, torch_sgd(torch))


def test_cyclic_state_dict_keeps_callable_objects_and_drops_functions():
    class Scale:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, x):
            return self.rate**x

    scale = Scale()
    scheduler = S.CyclicLR(sgd(), 0.01, 0.1, scale_fn=scale)
    saved = scheduler.state_dict()
    assert saved["_scale_fn_custom"] == {"rate": 0.5} and "_scale_fn_ref" not in saved
    saved["_scale_fn_custom"] = {"rate": 0.25}
    scheduler.load_state_dict(saved)
    assert scale.rate == 0.25 and saved["_scale_fn_custom"] == {"rate": 0.25}
    assert S.CyclicLR(sgd(), 0.01, 0.1, scale_fn=scaled).state_dict()["_scale_fn_custom"] is None


def test_closed_form_of_cosine_against_the_formula():
    optimizer = sgd(lrs=(0.1,))
    scheduler = S.CosineAnnealingLR(optimizer, T_max=10, eta_min=0.001)
    with pytest.warns(UserWarning):
        scheduler.step(4)
    assert scheduler.get_last_lr()[0] == pytest.approx(0.001 + 0.5 * (0.1 - 0.001) * (1 + math.cos(math.pi * 0.4)))


def test_scheduler_step_before_optimizer_step_warns():
    scheduler = S.StepLR(sgd(), 3)
    with pytest.warns(UserWarning, match=re.escape(BEFORE_OPTIMIZER)):
        scheduler.step()


def test_right_order_does_not_warn():
    optimizer = sgd()
    scheduler = S.StepLR(optimizer, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            optimizer.step()
            scheduler.step()


def test_overridden_optimizer_step_warns():
    optimizer = sgd()
    scheduler = S.StepLR(optimizer, 3)
    optimizer.step = lambda closure=None: None
    with pytest.warns(UserWarning, match=re.escape(OVERRIDDEN)):
        scheduler.step()


def test_get_lr_outside_step_warns():
    scheduler = S.ExponentialLR(sgd(), 0.5)
    with pytest.warns(UserWarning, match=re.escape(GET_LAST_LR)):
        scheduler.get_lr()


def test_optimizer_step_is_wrapped_once_and_keeps_returning_the_loss():
    optimizer = sgd()
    S.StepLR(optimizer, 3)
    wrapped = optimizer.step
    S.ExponentialLR(optimizer, 0.5)
    assert optimizer.step is wrapped and wrapped._wrapped_by_lr_sched
    assert optimizer.step(lambda: 3.5) == 3.5
    assert optimizer._opt_called


def test_not_an_optimizer():
    with pytest.raises(TypeError, match="^list is not an Optimizer$"):
        S.StepLR([], 3)
    with pytest.raises(TypeError, match="^dict is not an Optimizer$"):
        S.ReduceLROnPlateau({})
    with pytest.raises(TypeError, match="^int is not an Optimizer$"):
        S.OneCycleLR(3, 1.0, total_steps=4)


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda o: S.ConstantLR(o, factor=1.5), ValueError, "Constant multiplicative factor expected to be between 0 and 1."),
        (
            lambda o: S.LinearLR(o, start_factor=0),
            ValueError,
            "Starting multiplicative factor expected to be greater than 0 and less or equal to 1.",
        ),
        (lambda o: S.LinearLR(o, end_factor=-0.1), ValueError, "Ending multiplicative factor expected to be between 0 and 1."),
        (lambda o: S.LambdaLR(o, [scaled]), ValueError, "Expected 2 lr_lambdas, but got 1"),
        (lambda o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
        (lambda o: S.ReduceLROnPlateau(o, mode="avg"), ValueError, "mode avg is unknown!"),
        (lambda o: S.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x is unknown!"),
        (lambda o: S.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
        (lambda o: S.OneCycleLR(o, 1.0), ValueError, "You must define either total_steps OR (epochs AND steps_per_epoch)"),
        (lambda o: S.OneCycleLR(o, 1.0, total_steps=0), ValueError, "Expected positive integer total_steps, but got 0"),
        (
            lambda o: S.OneCycleLR(o, 1.0, epochs=2.0, steps_per_epoch=3),
            ValueError,
            "Expected positive integer epochs, but got 2.0",
        ),
        (
            lambda o: S.OneCycleLR(o, 1.0, epochs=2, steps_per_epoch=-3),
            ValueError,
            "Expected positive integer steps_per_epoch, but got -3",
        ),
        (
            lambda o: S.OneCycleLR(o, 1.0, total_steps=9, pct_start=1),
            ValueError,
            "Expected float between 0 and 1 pct_start, but got 1",
        ),
        (
            lambda o: S.OneCycleLR(o, 1.0, total_steps=9, anneal_strategy="exp"),
            ValueError,
            "anneal_strategy must be one of 'cos' or 'linear', instead got exp",
        ),
        (
            lambda o: S.OneCycleLR(o, [1.0, 2.0, 3.0], total_steps=9),
            ValueError,
            "max_lr must have the same length as optimizer.param_groups. max_lr has 3 values, param_groups has 2.",
        ),
        (
            lambda o: S.SequentialLR(o, [], []),
            ValueError,
            "SequentialLR expects at least one scheduler, but got no scheduler.",
        ),
        (
            lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], []),
            ValueError,
            "Sequential Schedulers expects number of schedulers provided to be one more than the number of "
            "milestone points, but got number of schedulers 2 and the number of milestones to be equal to 0",
        ),
        (
            lambda o: S.SequentialLR(o, [S.StepLR(o, 2), object()], [3]),
            TypeError,
            "SequentialLR at index 1 should have `optimizer` as its attribute.",
        ),
        (
            lambda o: S.SequentialLR(o, [S.ReduceLROnPlateau(o)], []),
            ValueError,
            "SequentialLR does not support `ReduceLROnPlateau` scheduler as it requires additional kwargs to be "
            "specified when calling `step`, but got one at index 0 in the given schedulers sequence.",
        ),
        (lambda o: S.MultiplicativeLR(o, [scaled, 0.5]), TypeError, "lr_lambda should be a function, but got float"),
        (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "Expected positive integer T_0, but got 0"),
        (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2.5), ValueError, "Expected positive integer T_0, but got 2.5"),
        (lambda o: S.CosineAnnealingWarmRestarts(o, 3, T_mult=0), ValueError, "Expected integer T_mult >= 1, but got 0"),
        (
            lambda o: S.CosineAnnealingWarmRestarts(o, 3, eta_min="0"),
            ValueError,
            "Expected float or int eta_min, but got 0 of type <class 'str'>",
        ),
        (lambda o: S.CyclicLR(o, 0.1, 1.0, mode="sine"), ValueError, "mode is invalid and scale_fn is None"),
        (
            lambda o: S.CyclicLR(o, [0.1], 1.0),
            ValueError,
            "base_lr must have the same length as optimizer.param_groups. base_lr has 1 values, param_groups has 2.",
        ),
        (
            lambda o: S.ChainedScheduler([]),
            ValueError,
            "ChainedScheduler expects at least one scheduler to be chained, but got no scheduler.",
        ),
        (
            lambda o: S.ChainedScheduler([S.StepLR(o, 2), S.ReduceLROnPlateau(o)]),
            ValueError,
            "ChainedScheduler does not support `ReduceLROnPlateau` scheduler as it requires additional kwargs to be "
            "specified when calling `step`, but got one at index 1 in the given schedulers sequence.",
        ),
    ],
)
def test_invalid_arguments_raise_torchs_errors(build, error, message):
    with pytest.raises(error) as info:
        build(sgd())
    assert str(info.value) == message


def test_sequential_rejects_a_scheduler_of_another_optimizer():
    mine, other = sgd(), sgd()
    with pytest.raises(ValueError, match="SequentialLR expects all schedulers to belong to the same optimizer"):
        S.SequentialLR(mine, [S.StepLR(other, 2)], [])


def test_one_cycle_needs_momentum_to_cycle_it():
    adagrad = optimizers.Adagrad([autodiff.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1 with `cycle_momentum` option enabled"):
        S.OneCycleLR(adagrad, 0.1, total_steps=10)
    S.OneCycleLR(adagrad, 0.1, total_steps=10, cycle_momentum=False)


def test_one_cycle_refuses_to_step_past_total_steps():
    optimizer = sgd()
    scheduler = S.OneCycleLR(optimizer, 1.0, total_steps=3)
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    with pytest.raises(ValueError, match="^Tried to step 4 times. The specified number of total steps is 3$"):
        scheduler.step()


def test_one_cycle_sets_the_group_keys_and_first_beta():
    adam = optimizers.Adam([autodiff.zeros(2, requires_grad=True)], betas=(0.9, 0.99))
    S.OneCycleLR(adam, 0.5, total_steps=10)
    group = adam.param_groups[0]
    assert group["initial_lr"] == 0.5 / 25 and group["max_lr"] == 0.5 and group["min_lr"] == 0.5 / 25 / 1e4
    assert group["betas"] == (0.95, 0.99) and isinstance(group["betas"], tuple)
    assert group["max_momentum"] == 0.95 and group["base_momentum"] == 0.85


def test_plateau_reads_a_scalar_tensor_and_adapts_to_new_groups():
    optimizer = sgd()
    scheduler = S.ReduceLROnPlateau(optimizer, patience=0, min_lr=0.001)
    optimizer.add_param_group({"params": [autodiff.zeros(1, requires_grad=True)], "lr": 0.2})
    scheduler.step(autodiff.tensor(1.0))
    scheduler.step(autodiff.tensor(2.0))  # worse: reduce, every group including the new one
    assert scheduler.get_last_lr() == pytest.approx([0.01, 0.003, 0.02])
    assert scheduler.min_lrs == [0.001, 0.001, 0.001]


def test_plateau_per_group_min_lrs_must_follow_new_groups():
    optimizer = sgd()
    scheduler = S.ReduceLROnPlateau(optimizer, patience=0, min_lr=[0.0, 0.0])
    optimizer.add_param_group({"params": [autodiff.zeros(1, requires_grad=True)], "lr": 0.2})
    scheduler.step(1.0)
    with pytest.raises(RuntimeError, match=r"The number of param groups in the `optimizer` \(3\) differs"):
        scheduler.step(2.0)


def test_every_torch_scheduler_exists_with_torchs_signature():
    torch = pytest.importorskip("torch")
    import inspect

    assert sorted(S.__all__) == sorted(torch.optim.lr_scheduler.__all__)
    for name in S.__all__:
        ours = inspect.signature(getattr(S, name)).parameters
        theirs = inspect.signature(getattr(torch.optim.lr_scheduler, name)).parameters
        assert [(p.name, p.default, p.kind) for p in ours.values()] == [
            (p.name, p.default, p.kind) for p in theirs.values()
        ], name


@pytest.mark.parametrize(
    "build",
    [lambda L, o: L.ExponentialLR(o, 0.9), lambda L, o: L.CosineAnnealingLR(o, 7), lambda L, o: L.StepLR(o, 2)],
    ids=["exponential", "cosine", "step"],
)
def test_a_tensor_learning_rate_is_filled_in_place(build):
    w = autodiff.zeros(2, requires_grad=True)
    optimizer = optimizers.SGD([w], lr=autodiff.tensor(0.1))
    lr = optimizer.param_groups[0]["lr"]
    scheduler = build(S, optimizer)
    values = []
    for _ in range(10):
        optimizer.step()
        scheduler.step()
        last = scheduler.get_last_lr()[0]
        assert optimizer.param_groups[0]["lr"] is lr and last is not lr  # same tensor, and a copy handed out
        values.append(last.item())
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=torch.tensor(0.1))
    scheduler = build(torch.optim.lr_scheduler, optimizer)
    expected = []
    for _ in range(10):
        optimizer.step()
        scheduler.step()
        expected.append(scheduler.get_last_lr()[0].item())
    assert values == expected
