"""``objective.gradient_noise``: Gaussian noise of a documented standard deviation on the gradient the optimizer sees,
drawn from (seed, step): reproducible, different per seed, absent at 0, the logged loss the true one. The resume of
a noisy run after a kill is in tests/test_resume.py."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.errors import ConfigError
from experiments.objectives import gradient_noise
from experiments.objectives.gradient_noise import GradientNoise


def test_the_draw_of_a_step_is_fixed_by_seed_and_step():
    shapes = {"a": (3,), "b": ()}
    first = GradientNoise(0.5, seed=7).draws(shapes, step=4)
    again = GradientNoise(0.5, seed=7).draws(shapes, step=4)
    assert all(np.array_equal(first[k], again[k]) for k in shapes)
    for other in (GradientNoise(0.5, seed=8).draws(shapes, 4), GradientNoise(0.5, seed=7).draws(shapes, 5)):
        assert not np.array_equal(first["a"], other["a"])


def test_the_measured_standard_deviation_is_the_option_per_coordinate():
    draws = np.concatenate([GradientNoise(0.3, seed=1).draws({"x": (1000,)}, step)["x"] for step in range(100)])
    # 100,000 independent N(0, 0.3^2) draws: the sample std is within 0.5 % of 0.3 (about 2 standard errors)
    assert abs(draws.std() / 0.3 - 1) < 0.005 and abs(draws.mean()) < 0.003


def test_perturb_adds_the_draw_to_every_gradient_in_the_parameters_dtype():
    import autodiff as ad

    a = ad.tensor([1.0, 2.0], requires_grad=True)
    unused = ad.tensor(3.0, requires_grad=True, dtype=ad.float64)
    (a * a).sum().backward()
    noise = GradientNoise(0.1, seed=0)
    noise.perturb({"a": a, "unused": unused}, step=2)
    draw = noise.draws({"a": (2,), "unused": ()}, step=2)
    assert a.grad.dtype == ad.float32
    assert np.array_equal(a.grad.numpy(), (np.array([2.0, 4.0], np.float32) + draw["a"].astype(np.float32)))
    assert unused.grad.item() == draw["unused"]


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf"), True, "much", [0.1]])
def test_bad_values_are_refused_with_what_is_allowed(value):
    with pytest.raises(ConfigError, match=r"objective.gradient_noise=.* is not allowed: it is the standard deviation"):
        gradient_noise.split({"name": "quadratic", "gradient_noise": value})


def test_zero_or_absent_means_no_noise_at_all():
    assert gradient_noise.split({"name": "beale"}) == ({"name": "beale"}, 0.0)
    assert gradient_noise.split({"name": "beale", "gradient_noise": None})[1] == 0.0
    assert gradient_noise.for_run(0.0, seed=3) is None


def test_every_objective_builds_with_the_option():
    from experiments import objectives

    built = objectives.build({"name": "quadratic", "dim": 3, "gradient_noise": 0.2})
    assert built.dim == 3 and not hasattr(built, "gradient_noise")


# -- end to end: `python run.py` as a subprocess, the runs read back from the store --------------------------------

QUADRATIC = ["objective=quadratic", "objective.dim=20", "objective.condition_number=10", "optimizer=sgd", "lr=0.1",
             "steps=50", "dtype=float64", "logging.plots=false", "logging.max_elements=2"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    pytest.importorskip("mlflow")
    pytest.importorskip("hydra")
    return tmp_path_factory.mktemp("gradient-noise")


def trajectory_of(store, *args, output=None):
    """The run of ``python run.py`` on QUADRATIC with ``args`` (or of its ``output``, when it has run already)."""

    from runner_support import client_for, run_cli, run_id_from

    run_id = run_id_from((output or run_cli([*QUADRATIC, *args], store)).stdout)
    client = client_for(store)
    from experiments.trajectory import load

    return client, run_id, load(run_id, client.tracking_uri)


@pytest.mark.slow
def test_a_noisy_run_logs_the_true_loss_and_the_gradient_it_used(store):
    from experiments import objectives
    from runner_support import history

    client, run_id, ours = trajectory_of(store, "objective.gradient_noise=0.2", "seed=3")
    matrix = objectives.build({"name": "quadratic", "dim": 20, "condition_number": 10}).matrix
    x, grads = ours["param/x"][:-1], ours["grad/x"][:-1]  # the last row: the final parameters, no gradient
    assert np.allclose(ours["loss"], 0.5 * np.einsum("ti,ij,tj->t", ours["param/x"], matrix, ours["param/x"]),
                       rtol=1e-12, atol=0)
    noise = grads - x @ matrix
    expected = np.stack([GradientNoise(0.2, seed=3).draws({"x": (20,)}, t)["x"] for t in range(50)])
    assert np.allclose(noise, expected, rtol=0, atol=1e-12)
    assert abs(noise.std() / 0.2 - 1) < 0.1  # 1,000 draws: the documented scale, measured
    norms = [v for _, v in history(client, run_id, "Optimizer/grad_norm")]
    assert np.allclose(norms, np.linalg.norm(grads, axis=1), rtol=1e-12)
    assert client.get_run(run_id).data.params["objective.gradient_noise"] == "0.2"


@pytest.mark.slow
def test_same_seed_same_trajectory_another_seed_another_and_zero_is_no_noise(store):
    from experiments import objectives

    from runner_support import run_cli_together

    commands = {"first": ["objective.gradient_noise=0.2"], "again": ["objective.gradient_noise=0.2"],
                "seed 1": ["objective.gradient_noise=0.2", "seed=1"],
                "zero": ["objective.gradient_noise=0"], "absent": ["~objective.gradient_noise"]}
    outputs = run_cli_together([[*QUADRATIC, *args] for args in commands.values()], store)  # five processes
    runs = {name: trajectory_of(store, output=output)[2] for name, output in zip(commands, outputs)}
    assert all(runs["first"][k].tobytes() == runs["again"][k].tobytes() for k in runs["first"])
    assert not np.array_equal(runs["first"]["grad/x"][:-1], runs["seed 1"]["grad/x"][:-1])
    assert all(runs["zero"][k].tobytes() == runs["absent"][k].tobytes() for k in runs["zero"])
    matrix = objectives.build({"name": "quadratic", "dim": 20, "condition_number": 10}).matrix
    assert np.allclose(runs["zero"]["grad/x"][:-1], runs["zero"]["param/x"][:-1] @ matrix, rtol=1e-13, atol=1e-15)


@pytest.mark.slow
@pytest.mark.parametrize("objective", [
    ["objective=logistic_regression", "objective.batch_size=16"],
    ["objective=expression", "objective.expr='sum((x-1)**2)'", "~objective.init", "+objective.init={x:[0,0]}"],
    ["objective=rosenbrock", "optimizer=lbfgs", "lr=1"],
])
def test_every_kind_of_objective_takes_the_option(store, objective):
    from runner_support import client_for, run_cli, run_id_from

    out = run_cli([*objective, "steps=5", "logging.plots=false", "objective.gradient_noise=0.5"], store)
    run = client_for(store).get_run(run_id_from(out.stdout))
    assert run.info.status == "FINISHED" and run.data.params["objective.gradient_noise"] == "0.5"
