"""Objectives: registry road, configs, values and gradients (finite differences, torch), minima, bad configs."""

from __future__ import annotations

import importlib
import inspect
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

import autodiff as ad
import plugin_registry
from experiments import objectives
from experiments.errors import ConfigError, ExpressionError

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "objective"
BUILTINS = [
    "ackley", "beale", "d2l", "expression", "himmelblau", "logistic_regression", "quadratic", "rastrigin",
    "rosenbrock", "seed", "styblinski_tang",
]


def load_config(name: str) -> dict:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(CONFIGS / f"{name}.yaml"), resolve=True)


def build(name: str, **overrides):
    return objectives.build({**load_config(name), **overrides})


def tensors(objective, dtype=ad.float64, point=None):
    values = point if point is not None else objective.initial_params()
    return {k: ad.tensor(v, dtype=dtype, requires_grad=True) for k, v in values.items()}


def value_and_grad(objective, point=None, dtype=ad.float64, step=0):
    params = tensors(objective, dtype, point)
    loss = objective.loss(params, step)
    loss.backward()
    return loss, {k: t.grad.numpy() for k, t in params.items()}


# -- the registry road ------------------------------------------------------------------------------------------
def test_available_lists_every_builtin():
    assert set(BUILTINS) <= set(objectives.available())


def test_builtins_are_entry_points_of_this_distribution():
    registry = plugin_registry.OBJECTIVES
    for name in BUILTINS:
        origin = registry.origin(name)
        assert origin.distribution == "optimizer-trajectories"
        assert origin.entry_point.startswith(f"{name} = experiments.objectives.")


def test_listing_imports_no_objective_module():
    code = (
        "import sys; from experiments import objectives; objectives.available(); "
        "print(sorted(m for m in sys.modules if m.startswith('experiments.objectives.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['experiments.objectives.base']"


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A real installed distribution (a .dist-info on sys.path) registering one good and one broken objective."""
    dist = tmp_path / "objective_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: objective-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[autodiff.objectives]\n"
        "demo_bowl = objective_plugin_demo:DemoBowl\n"
        "demo_broken = objective_plugin_broken:Missing\n"
    )
    (tmp_path / "objective_plugin_demo.py").write_text(textwrap.dedent('''
        import numpy as np
        import autodiff as ad
        from experiments.objectives import Objective

        class DemoBowl(Objective):
            def __init__(self, scale=1.0, init=(3.0, -4.0)):
                self.scale = scale
                self.start = np.array(init, dtype=np.float64)
                self.optimum = {"w": np.zeros(2)}
                self.min_value = 0.0

            def initial_params(self):
                return {"w": self.start.copy()}

            def loss(self, params, step):
                return self.scale * ad.sum(params["w"] ** 2)
    '''))
    (tmp_path / "objective_plugin_broken.py").write_text("raise ImportError('needs a library that is not here')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    objectives.refresh()
    yield tmp_path
    monkeypatch.undo()
    importlib.invalidate_caches()
    objectives.refresh()
    sys.modules.pop("objective_plugin_demo", None)


def test_a_plugin_objective_is_built_by_name(plugin_dir):
    assert {"demo_bowl", "demo_broken"} <= set(objectives.available())
    objective = objectives.build({"name": "demo_bowl", "scale": 2.0})
    assert objective.name == "demo_bowl"
    loss, grads = value_and_grad(objective)
    assert loss.item() == 50.0
    np.testing.assert_array_equal(grads["w"], [12.0, -16.0])
    assert objective.distance_to_optimum(objective.initial_params()) == 5.0
    with pytest.raises(ConfigError, match=r"objective\.scal is not an option .*Allowed: scale, init"):
        objectives.build({"name": "demo_bowl", "scal": 2.0})


def test_a_plugin_objective_gets_its_config_entry_from_its_signature(plugin_dir):
    entry = objectives.config_entry("demo_bowl")
    assert entry == {"name": "demo_bowl", "scale": 1.0, "init": [3.0, -4.0]}
    assert objectives.build({**entry, "scale": 3.0}).loss(tensors(objectives.build(entry)), 0).item() == 75.0
    assert objectives.config_entry("rosenbrock") == {"name": "rosenbrock", "dim": 2, "init": None}


def test_a_plugin_that_fails_to_import_gives_a_clear_error(plugin_dir):
    with pytest.raises(ConfigError) as info:
        objectives.build({"name": "demo_broken"})
    message = str(info.value)
    assert "objective-plugin-demo" in message and "needs a library that is not here" in message
    assert objectives.build({"name": "seed"}).name == "seed"  # the others keep working


# -- configs ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", BUILTINS)
def test_every_config_names_its_objective_and_documents_every_key(name):
    text = (CONFIGS / f"{name}.yaml").read_text()
    raw = yaml.safe_load(text)
    assert raw["name"] == name
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            assert "#" in line, f"{name}.yaml: undocumented key: {line}"
    factory = objectives.get(name)
    accepted = set(inspect.signature(factory).parameters)
    assert set(raw) - {"name"} == accepted, "every option has a config key and every key is an option"
    objective = objectives.build(load_config(name))
    assert objective.name == name


def test_logistic_regression_takes_the_run_seed_for_its_data():
    from omegaconf import OmegaConf

    node = OmegaConf.load(CONFIGS / "logistic_regression.yaml")
    assert objectives.build(node).data_seed == 0  # alone: the default
    config = OmegaConf.create({"seed": 7, "objective": node})
    assert objectives.build(config.objective).data_seed == 7


# -- values and gradients ---------------------------------------------------------------------------------------
def finite_difference_grad(objective, point, step=0, h=1e-6):
    grads = {}
    for name, value in point.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {k: v.copy() for k, v in point.items()}
            shifted[name][index] += h
            up = objective.loss(tensors(objective, point=shifted), step).item()
            shifted[name][index] -= 2 * h
            down = objective.loss(tensors(objective, point=shifted), step).item()
            grad[index] = (up - down) / (2 * h)
        grads[name] = grad
    return grads


@pytest.mark.parametrize("name", BUILTINS)
def test_gradients_match_finite_differences(name):
    objective = build(name)
    rng = np.random.default_rng(1)
    for point in (objective.initial_params(), {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in
                                               objective.initial_params().items()}):
        _, grads = value_and_grad(objective, point, step=3)
        expected = finite_difference_grad(objective, point, step=3)
        for key in grads:
            np.testing.assert_allclose(grads[key], expected[key], rtol=1e-6, atol=1e-6, err_msg=f"{name}.{key}")


def torch_loss(torch, name, objective, p, step):
    """Each objective written again directly in torch (the test oracle)."""
    x = p.get("x")
    if name in ("seed", "expression"):
        return torch.sum(3 * p["a"] ** 3 - p["b"] ** 2)
    if name == "d2l":
        return 2 * torch.dot(x, x)
    if name == "rosenbrock":
        return torch.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    if name == "rastrigin":
        return 10 * x.numel() + torch.sum(x**2 - 10 * torch.cos(2 * math.pi * x))
    if name == "ackley":
        return (-20 * torch.exp(-0.2 * torch.sqrt(torch.mean(x**2))) - torch.exp(torch.mean(torch.cos(2 * math.pi * x)))
                + 20 + math.e)
    if name == "styblinski_tang":
        return 0.5 * torch.sum(x**4 - 16 * x**2 + 5 * x)
    if name == "beale":
        u, v = x[0], x[1]
        return (1.5 - u + u * v) ** 2 + (2.25 - u + u * v**2) ** 2 + (2.625 - u + u * v**3) ** 2
    if name == "himmelblau":
        u, v = x[0], x[1]
        return (u**2 + v - 11) ** 2 + (u + v**2 - 7) ** 2
    if name == "quadratic":
        return 0.5 * x @ (torch.tensor(objective.matrix, dtype=x.dtype) @ x)
    if name == "logistic_regression":
        rows = objective.batch(step)
        features = torch.tensor(objective.x[rows], dtype=p["w"].dtype)
        labels = torch.tensor(objective.y[rows], dtype=p["w"].dtype)
        margins = -labels * (features @ p["w"])
        return torch.nn.functional.softplus(margins).mean() + 0.5 * objective.l2 * torch.sum(p["w"] ** 2)
    raise AssertionError(name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", BUILTINS)
def test_values_and_gradients_match_torch(name, dtype):
    torch = pytest.importorskip("torch")
    objective = build(name)
    point = {k: v + 0.25 for k, v in objective.initial_params().items()}
    loss, grads = value_and_grad(objective, point, getattr(ad, dtype), step=5)
    assert loss.dtype == getattr(ad, dtype) and loss.shape == ()
    theirs = {k: torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True) for k, v in point.items()}
    expected = torch_loss(torch, name, objective, theirs, 5)
    expected.backward()
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=rtol)
    for key in grads:
        np.testing.assert_allclose(grads[key], theirs[key].grad.numpy(), rtol=rtol, atol=rtol, err_msg=key)


def test_seed_is_the_notebooks_function():
    objective = build("seed")
    loss, grads = value_and_grad(objective)
    assert loss.item() == 53.0
    np.testing.assert_array_equal(grads["a"], [36.0, 81.0])
    np.testing.assert_array_equal(grads["b"], [-12.0, -8.0])
    assert objective.optimum is None and objective.min_value is None and objective.plot_bounds is None
    assert objective.distance_to_optimum(objective.initial_params()) is None


def test_d2l_is_the_notebooks_function():
    objective = build("d2l")
    loss, grads = value_and_grad(objective)
    assert loss.item() == 28.0
    np.testing.assert_array_equal(grads["x"], [0.0, 4.0, 8.0, 12.0])


def test_initial_params_are_fresh_float64_copies():
    for name in BUILTINS:
        objective = build(name)
        first = objective.initial_params()
        for value in first.values():
            assert value.dtype == np.float64
            value += 100.0
        for key, value in objective.initial_params().items():
            assert not np.array_equal(value, first[key])


# -- known minima ------------------------------------------------------------------------------------------------
WITH_OPTIMUM = [n for n in BUILTINS if n not in ("seed", "expression")]


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("name", WITH_OPTIMUM)
def test_the_declared_optimum_attains_the_declared_minimum(name):
    objective = build(name, batch_size=None) if name == "logistic_regression" else build(name)
    for optimum in objective.optima:
        loss, grads = value_and_grad(objective, optimum)
        assert loss.item() == pytest.approx(objective.min_value, abs=1e-12)
        assert objective.loss_gap(loss.item()) == pytest.approx(0.0, abs=1e-12)
        assert objective.distance_to_optimum(optimum) == 0.0
        if name != "ackley":  # sqrt'(0): the gradient at Ackley's minimum is NaN, as in torch
            for key, grad in grads.items():
                np.testing.assert_allclose(grad, 0.0, atol=1e-9, err_msg=key)
    start = objective.initial_params()
    assert objective.distance_to_optimum(start) > 0
    assert value_and_grad(objective, start)[0].item() > objective.min_value


def test_himmelblau_distance_is_to_the_nearest_of_four_minima():
    objective = build("himmelblau")
    assert len(objective.optima) == 4
    near = {"x": np.array([-2.8, 3.1])}
    assert objective.distance_to_optimum(near) == pytest.approx(math.hypot(0.005118, 0.031313), rel=1e-3)


def test_styblinski_tang_minimum_scales_with_dim():
    objective = build("styblinski_tang", dim=5)
    assert objective.min_value == pytest.approx(-39.16616570377142 * 5, rel=1e-14)
    np.testing.assert_allclose(objective.optimum["x"], -2.903534027771178, rtol=1e-14)


def test_quadratic_has_the_chosen_condition_number_and_rotation():
    objective = build("quadratic", dim=6, condition_number=1000.0)
    a = objective.matrix
    np.testing.assert_array_equal(a, a.T)
    eigenvalues = np.linalg.eigvalsh(a)
    np.testing.assert_allclose([eigenvalues.min(), eigenvalues.max()], [1.0, 1000.0], rtol=1e-10)
    assert np.abs(a - np.diag(np.diag(a))).max() > 1.0  # rotated, not diagonal
    np.testing.assert_array_equal(build("quadratic", dim=6, condition_number=1000.0).matrix, a)
    assert not np.allclose(build("quadratic", dim=6, condition_number=1000.0, rotation_seed=1).matrix, a)
    x = np.arange(6.0)
    assert value_and_grad(objective, {"x": x})[0].item() == pytest.approx(0.5 * x @ a @ x, rel=1e-13)


# -- minibatches -------------------------------------------------------------------------------------------------
def test_minibatches_are_a_function_of_the_step():
    objective = build("logistic_regression", n_samples=100, batch_size=30)
    again = build("logistic_regression", n_samples=100, batch_size=30)
    epoch = [objective.batch(step) for step in range(3)]  # 100 // 30 = 3 batches; 10 samples left out
    assert all(len(rows) == 30 for rows in epoch)
    assert len(set(np.concatenate(epoch))) == 90
    for step in (0, 1, 2, 3, 17, 10_000):
        np.testing.assert_array_equal(objective.batch(step), again.batch(step))
    assert not np.array_equal(objective.batch(0), objective.batch(3))  # a new permutation each epoch
    point = objective.initial_params()
    loss = objective.loss(tensors(objective, point=point), 4).item()
    assert loss == again.loss(tensors(again, point=point), 4).item()
    other = build("logistic_regression", n_samples=100, batch_size=30, data_seed=1)
    assert not np.array_equal(other.x, objective.x)


def test_full_batch_uses_every_sample():
    objective = build("logistic_regression", batch_size=None)
    assert objective.batch(7) is None
    w = np.array([0.3, -0.2])
    margins = -objective.y * (objective.x @ w)
    expected = np.mean(np.logaddexp(0.0, margins)) + 0.5 * objective.l2 * w @ w
    assert value_and_grad(objective, {"w": w}, step=7)[0].item() == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_logistic_regression_with_more_weights_than_samples_finds_the_newton_optimum(fit_intercept):
    """Beyond as many weights as samples the optimum is found without the weights x weights Hessian (Woodbury):
    the same point and minimum as the dense Newton iteration, and a footprint that grows with samples x weights."""
    from experiments.objectives.logistic_regression import LogisticRegression, _full_loss_and_derivatives

    objective = build("logistic_regression", n_samples=40, n_features=120, l2=0.05, fit_intercept=fit_intercept)
    x1 = np.hstack([objective.x, np.ones((40, 1))]) if fit_intercept else objective.x
    theta = np.zeros(x1.shape[1])
    for _ in range(100):
        _, grad, hess = _full_loss_and_derivatives(theta, x1, objective.y, 0.05, 120)
        theta = theta - np.linalg.solve(hess, grad)
    np.testing.assert_allclose(objective.optimum["w"], theta[:120], rtol=0, atol=1e-12)
    if fit_intercept:
        assert float(objective.optimum["b"]) == pytest.approx(theta[-1], abs=1e-12)
    assert objective.min_value == pytest.approx(_full_loss_and_derivatives(theta, x1, objective.y, 0.05, 120)[0],
                                                rel=1e-12)
    assert LogisticRegression.footprint(n_features=10_000).data_bytes < 100e6  # 2.4 GB with the dense Hessian


def test_logistic_regression_with_intercept_has_a_scalar_bias():
    objective = build("logistic_regression", fit_intercept=True, n_features=3, batch_size=None)
    assert {k: v.shape for k, v in objective.initial_params().items()} == {"w": (3,), "b": ()}
    assert objective.optimum["b"].shape == () and objective.plot_bounds is None
    assert build("logistic_regression", l2=0.0).optimum is None


# -- plots --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", BUILTINS)
def test_two_dimensional_objectives_have_a_window_around_start_and_optimum(name):
    objective = build(name)
    params = objective.initial_params()
    sizes = sorted(v.size for v in params.values())
    bounds = objective.plot_bounds
    if sizes not in ([2], [1, 1]):
        assert bounds is None
        return
    (x0, x1), (y0, y1) = bounds
    assert x0 < x1 and y0 < y1
    points = [np.concatenate([v.ravel() for v in params.values()])]
    points += [np.concatenate([v.ravel() for v in opt.values()]) for opt in objective.optima]
    for px, py in points:
        assert x0 <= px <= x1 and y0 <= py <= y1


def test_no_window_beyond_two_dimensions():
    assert build("rosenbrock", dim=3).plot_bounds is None


# -- bad configurations ------------------------------------------------------------------------------------------
EXPR = {"name": "expression", "expr": "sum(3*a**3 - b**2)", "init": {"a": [2.0, 3.0], "b": [6.0, 4.0]}}
BAD = [
    ({"name": "rosenbrok"}, ["Unknown objective 'rosenbrok'", "Did you mean 'rosenbrock'?", "Available objectives"]),
    ({"name": 3}, ["objective.name = 3", "Allowed: ackley"]),
    ({}, ["objective has no 'name'"]),
    ({"name": "rosenbrock", "dims": 3}, ["objective.dims is not an option", "Allowed: dim, init"]),
    ({"name": "rosenbrock", "init": [1.0, float("nan")]}, ["objective.init[1] is nan", "finite"]),
    ({"name": "rastrigin", "init": [float("inf"), 0.0]}, ["objective.init[0] is inf"]),
    ({"name": "rastrigin", "init": float("-inf")}, ["objective.init is -inf"]),
    ({"name": "rosenbrock", "dim": 3, "init": [1.0, 2.0]}, ["shape (2,)", "3 coordinates"]),
    ({"name": "beale", "init": "1,2"}, ["objective.init is '1,2' (str), not a number"]),
    ({"name": "beale", "init": [True, 2.0]}, ["objective.init[0] is True (bool), not a number"]),
    ({"name": "beale", "init": [[1.0], [2.0, 3.0]]}, ["not rectangular"]),
    ({"name": "himmelblau", "init": [[1.0, 2.0]]}, ["shape (1, 2)"]),
    ({"name": "rosenbrock", "dim": 1}, ["objective.dim = 1 is out of range", "an integer >= 2"]),
    ({"name": "ackley", "dim": True}, ["objective.dim = True", "not an integer"]),
    ({"name": "ackley", "dim": 2.5}, ["objective.dim = 2.5", "not an integer"]),
    ({"name": "ackley", "dim": 10**9}, ["objective.dim", "<= 10000000"]),
    ({"name": "quadratic", "condition_number": 0.5}, ["objective.condition_number = 0.5 is out of range"]),
    ({"name": "quadratic", "condition_number": float("nan")}, ["objective.condition_number = nan", "finite"]),
    ({"name": "quadratic", "dim": 1, "condition_number": 10}, ["condition number 1"]),
    ({"name": "quadratic", "rotation_seed": -1}, ["objective.rotation_seed = -1"]),
    ({"name": "logistic_regression", "batch_size": 1000}, ["objective.batch_size = 1000", "<= 256"]),
    ({"name": "logistic_regression", "l2": -1}, ["objective.l2 = -1"]),
    ({"name": "logistic_regression", "fit_intercept": "yes"}, ["objective.fit_intercept", "true or false"]),
    ({"name": "seed", "init": {"a": [1.0, 2.0]}}, ["exactly a and b"]),
    ({"name": "seed", "init": {"a": [1, 2, 3], "b": [1, 2]}}, ["do not broadcast"]),
    ({"name": "seed", "init": [1, 2]}, ["objective.init = [1, 2]", "not a mapping"]),
    ({"name": "d2l", "init": [[0.0, 1.0]]}, ["x must be a vector"]),
    ({**EXPR, "init": {"a": [1.0, float("nan")], "b": [6.0, 4.0]}}, ["objective.init.a[1] is nan"]),
    ({**EXPR, "init": {**EXPR["init"], "c": 1.0}}, ["objective.init names c", "does not use"]),
    ({**EXPR, "expr": "a * b"}, ["shape (2,), not a scalar", "sum(...)"]),
    ({**EXPR, "expr": "sum(log(a - 2.5) + b)"}, ["nan at the initial values"]),
    ({**EXPR, "expr": "sum(a + b", }, ["Expression refused", "never closed"]),
    ({**EXPR, "expr": "a.__class__"}, ["Expression refused", "attribute access"]),
    ({**EXPR, "expr": "sum(a + b + c)"}, ["unknown name 'c'"]),
    ({**EXPR, "expr": "sum(a + b[5])"}, ["index 5 is out of bounds"]),
    ({"name": "expression", "expr": "sum(a)", "init": {"__class__": 1.0}}, ["objective.init.__class__", "'__'"]),
    ({"name": "expression", "expr": "sum(a)", "init": {"sum": 1.0}}, ["objective.init.sum", "function or constant"]),
    ({"name": "expression", "expr": "sum(a)", "init": {"1a": 1.0}}, ["not a valid name"]),
    ({"name": "expression", "expr": "sum(a)", "init": {}}, ["objective.init is empty"]),
    ({"name": "expression", "init": {"a": 1.0}}, ["objective.expr is missing"]),
    ({"name": "expression", "expr": 5, "init": {"a": 1.0}}, ["must be a string"]),
    ({**EXPR, "optimum": {"a": [0.0], "b": [0.0, 0.0]}}, ["objective.optimum.a has shape (1,)"]),
    ({**EXPR, "optimum": {"a": [0.0, 0.0]}}, ["objective.optimum has the names ['a']"]),
    ({**EXPR, "plot_bounds": [[0, 1], [0, 1]]}, ["not 2-D"]),
    ({"name": "expression", "expr": "x[0]**2 + x[1]**2", "init": {"x": [1.0, 2.0]}, "plot_bounds": [[1, 0], [0, 1]]},
     ["objective.plot_bounds", "min < max"]),
    ({**EXPR, "min_value": "low"}, ["objective.min_value = 'low'"]),
]


@pytest.mark.parametrize("cfg, fragments", BAD, ids=[str(i) + "-" + str(row[0].get("name")) for i, row in
                                                    enumerate(BAD)])
def test_bad_configs_fail_before_any_run_with_what_where_and_what_is_allowed(cfg, fragments):
    with pytest.raises(ConfigError) as info:
        objectives.build(cfg)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert "Allowed" in message or "Available" in message


def test_expression_errors_are_config_errors_with_a_caret():
    with pytest.raises(ExpressionError) as info:
        objectives.build({**EXPR, "expr": "sum(a) + __import__('os')"})
    assert info.value.column == len("sum(a) + ")


def test_expression_objective_minimises_its_text():
    objective = objectives.build(
        {"name": "expression", "expr": "(x[0] - 1)**2 + 10*(x[1] + 2)**2", "init": {"x": [0, 0]},
         "optimum": {"x": [1, -2]}, "min_value": 0}
    )
    loss, grads = value_and_grad(objective)
    assert loss.item() == 41.0
    np.testing.assert_array_equal(grads["x"], [-2.0, 40.0])
    assert objective.distance_to_optimum({"x": np.array([1.0, -2.0])}) == 0.0
    assert objective.loss_gap(41.0) == 41.0
    assert objective.plot_bounds == ((-2.0, 2.0), (-2.0, 2.0))
