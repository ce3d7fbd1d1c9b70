"""The rates drawn beside a quadratic's loss (experiments.rates) are the ones the optimizers measure: gradient descent
at its best step never above its bound and on it from an extreme eigenvector, heavy ball at its best parameters
contracting at its rate, both run with this project's SGD in float64."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from experiments import rates
from experiments.objectives.quadratic import Quadratic
from optimizers import SGD


def gaps(objective, lr, momentum, steps, init=None):
    """The loss gap at steps 0..steps of SGD (full batch, exact gradients) on ``objective``."""
    x = ad.tensor(objective.initial_params()["x"] if init is None else init, dtype=ad.float64, requires_grad=True)
    optimizer = SGD([x], lr=lr, momentum=momentum)
    out = []
    for step in range(steps + 1):
        optimizer.zero_grad()
        loss = objective.loss({"x": x}, step)
        loss.backward()
        out.append(objective.loss_gap(loss.item()))
        optimizer.step()
    return np.array(out)


def test_the_best_parameters_and_rates_of_a_known_spectrum():
    r = rates.QuadraticRates(mu=1.0, L=9.0)  # kappa 9, sqrt(kappa) 3
    assert (r.kappa, r.gd_lr, r.gd_rate) == (9.0, 0.2, 0.8)
    assert (r.heavy_ball_lr, r.heavy_ball_rate, r.heavy_ball_momentum) == (0.25, 0.5, 0.25)


def test_the_quadratic_declares_its_hessian_spectrum():
    objective = Quadratic(dim=6, condition_number=50.0, rotation_seed=3)
    assert np.allclose(np.linalg.eigvalsh(objective.matrix), objective.hessian_eigenvalues, rtol=1e-12)
    assert rates.rates_of(objective).kappa == pytest.approx(50.0, rel=1e-12)
    assert rates.rates_of(Quadratic(dim=1, condition_number=1.0)) is None  # one step reaches the minimum


def test_gradient_descent_at_its_best_step_stays_under_its_bound_and_meets_it_on_an_extreme_eigenvector():
    objective = Quadratic(dim=8, condition_number=50.0, init=[1.0, -2.0, 0.5, 3.0, -1.0, 0.2, 2.0, -0.7])
    r = rates.rates_of(objective)
    bound = lambda g0, t: g0 * r.gd_rate ** (2 * t)  # noqa: E731
    t = np.arange(301)
    measured = gaps(objective, r.gd_lr, 0.0, 300)
    assert np.all(measured <= bound(measured[0], t) * (1 + 1e-9))
    assert measured[300] < 0.5 * bound(measured[0], 300)  # a start off the extreme directions is faster
    _, vectors = np.linalg.eigh(objective.matrix)
    for extreme in (vectors[:, 0], vectors[:, -1]):  # along mu's or L's eigenvector: exactly the bound
        along = gaps(objective, r.gd_lr, 0.0, 300, init=extreme)
        assert np.allclose(along, bound(along[0], t), rtol=1e-6, atol=0)


def test_heavy_ball_at_its_best_parameters_contracts_at_its_rate_not_under_a_line_from_the_start():
    objective = Quadratic(dim=2, condition_number=1e4)
    r = rates.rates_of(objective)
    measured = gaps(objective, r.heavy_ball_lr, r.heavy_ball_momentum, 3000)
    per_step = (measured[3000] / measured[2000]) ** (1 / 1000)  # the gap's contraction over the last 1000 steps
    # the gap goes as t^2 * rate^(2t) (a Jordan block): over steps 2000..3000 the t^2 factor is 1.5^2
    assert per_step == pytest.approx(r.heavy_ball_momentum * 1.5 ** (2 / 1000), rel=1e-5)
    assert abs(np.sqrt(per_step) / r.heavy_ball_rate - 1) < 1e-3 and r.gd_rate - r.heavy_ball_rate > 0.01
    line = measured[0] * r.heavy_ball_momentum ** np.arange(3001)
    assert np.any(measured > line)  # a rate, not a bound: the label says "rate"


def test_reference_lines_start_at_the_measured_gap_and_stop_a_decade_below_the_lowest():
    objective = Quadratic(dim=2, condition_number=10.0)
    curve = [(0, 4.0), (1, 2.0), (2, 1e-3), (3, float("nan")), (40, 1e-4)]
    gd, heavy_ball = rates.reference_lines(objective, [curve, [(0, 3.0), (40, 0.5)]])
    assert gd.label.startswith("GD bound, best step") and heavy_ball.label.startswith("heavy ball rate")
    assert gd.steps[0] == 0 and gd.losses[0] == 4.0 and heavy_ball.losses[0] == 4.0
    r = rates.rates_of(objective)
    assert np.allclose(gd.losses, 4.0 * r.gd_rate ** (2 * gd.steps), rtol=1e-12)
    # a decade below the lowest gap (1e-4): 4 * 0.6694^32 = 1.06e-5 is drawn, step 33's 7.1e-6 is not
    assert gd.steps[-1] == 32 and gd.losses[-1] >= 1e-5 > gd.losses[-1] * r.gd_rate ** 2
    assert heavy_ball.losses.min() >= 1e-5 and len(heavy_ball.steps) < len(gd.steps)


def test_no_lines_where_no_rate_is_known_or_the_gradient_is_noisy():
    from experiments import objectives

    rosenbrock = objectives.build({"name": "rosenbrock", "dim": 2, "init": None})
    assert rates.reference_lines(rosenbrock, [[(0, 24.2), (1, 4.0)]]) == []
    seed = objectives.build({"name": "seed"})  # unbounded below: no minimum, no gap
    assert rates.reference_lines(seed, [[(0, 53.0), (1, 40.0)]]) == []

    class NoisyRun:
        objective, noise = Quadratic(dim=2, condition_number=10.0), object()

    assert rates.for_run(NoisyRun(), [(0, 1.0), (1, 0.5)]) == []
    NoisyRun.noise = None
    assert len(rates.for_run(NoisyRun(), [(0, 1.0), (1, 0.5)])) == 2


def test_a_runs_objective_is_rebuilt_from_its_params():
    from experiments.compare import objective_options

    params = {"objective.name": "expression", "objective.init.a": "[2.0, 3.0]", "objective.min_value": "null",
              "objective.gradient_noise": "1e-06", "objective.expr": "sum(a**2)", "optimizer.lr": "0.1"}
    assert objective_options(params) == {"name": "expression", "init": {"a": [2.0, 3.0]}, "min_value": None,
                                         "gradient_noise": 1e-06, "expr": "sum(a**2)"}


@pytest.mark.slow
def test_a_comparison_of_quadratic_runs_draws_the_rates_from_their_measured_start(tmp_path):
    pytest.importorskip("mlflow")
    from experiments import compare
    from runner_support import client_for, run_cli, run_cli_together

    quadratic = ["objective=quadratic", "objective.condition_number=10", "dtype=float64", "steps=40",
                 "logging.trajectory=false"]
    run_cli_together([*([*quadratic, *args, "tracking.experiment=exact"] for args in (
        ["optimizer=sgd", f"lr={2 / 11!r}"], ["optimizer=adam", "lr=0.1"])),
        [*quadratic, "optimizer=sgd", "lr=0.1", "objective.gradient_noise=0.1", "tracking.experiment=noisy"],
        ["objective=rosenbrock", "steps=5", "tracking.experiment=other"]], tmp_path)
    client = client_for(tmp_path)

    def lines(experiment):
        runs, _ = compare.resolve_runs(client, experiment)
        series, _ = compare.group_curves(compare.summarise(client, runs))
        return series, compare.reference_lines(runs, series)

    series, (gd, heavy_ball) = lines("exact")
    sgd = dict(next(points for label, points in series if "optimizer=sgd" in label))
    matrix = Quadratic(dim=2, condition_number=10.0).matrix
    assert gd.losses[0] == sgd[0] == pytest.approx(0.5 * matrix.sum(), rel=1e-12)  # f(x0) at x0 = (1, 1)
    assert all(sgd[t] <= loss * (1 + 1e-9) for t, loss in zip(gd.steps, gd.losses))
    assert sgd[20] == pytest.approx(dict(zip(gd.steps, gd.losses))[20], rel=1e-6)  # both eigenvalues extreme
    assert heavy_ball.label.startswith("heavy ball rate")
    assert lines("noisy")[1] == [] and lines("other")[1] == []
    assert run_cli(["exact"], tmp_path, module="experiments.compare").returncode == 0
