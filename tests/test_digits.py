"""The digits objective in process: scikit-learn's data, the seeded split, standardisation and minibatch order, torch's
initialisation, the held-out measures, refused options, and training parity with torch (the oracle) step by step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from digits_support import train_torch
from experiments import objectives
from experiments.errors import ConfigError

pytest.importorskip("sklearn")

from experiments.objectives import digits as digits_module  # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "objective" / "digits.yaml"


def build(**options):
    return objectives.build({"name": "digits", **options})


def tensors(values, dtype=ad.float64):
    return {k: ad.tensor(v, dtype=dtype, requires_grad=True) for k, v in values.items()}


@pytest.fixture(scope="module")
def objective():
    return build()


def test_the_data_are_scikit_learns_load_digits():
    from sklearn.datasets import load_digits

    images, labels = digits_module.load_digits()
    expected = load_digits()
    assert images.dtype == np.float64 and labels.dtype == np.int64
    np.testing.assert_array_equal(images, expected.data)
    np.testing.assert_array_equal(labels, expected.target)


def test_the_split_is_seeded_disjoint_and_standardised_on_the_training_set(objective):
    train, test = digits_module.split(1797, 0.2, 0)
    assert len(test) == 359 and len(train) == 1438 == objective.train_size
    assert not set(train) & set(test) and sorted({*train, *test}) == list(range(1797))
    again, other = digits_module.split(1797, 0.2, 0), digits_module.split(1797, 0.2, 1)
    assert np.array_equal(again[1], test) and not np.array_equal(other[1], test)
    x_train = objective._constants.get("x_train", ad.float64).numpy()
    np.testing.assert_allclose(x_train.mean(axis=0), 0.0, atol=1e-12)
    constant = x_train.std(axis=0) == 0  # pixels blank in every training image are only centred
    np.testing.assert_allclose(x_train.std(axis=0)[~constant], 1.0)
    assert constant.any() and np.all(x_train[:, constant] == 0)


def test_the_run_seed_sets_the_split_and_the_initialisation():
    from omegaconf import OmegaConf

    node = OmegaConf.load(CONFIG)
    root = OmegaConf.create({"seed": 7, "objective": node})
    options = OmegaConf.to_container(root.objective, resolve=True)
    assert options["data_seed"] == 7 and options["init_seed"] == 7
    assert set(options) - {"name"} == set(objectives.config_entry("digits")) - {"name"}


def test_the_initialisation_is_torchs_and_leaves_the_generator_alone():
    torch = pytest.importorskip("torch")
    ad.manual_seed(123)
    expected_draw = ad.rand(4).tolist()
    ad.manual_seed(123)
    start = build(hidden=16, init_seed=5).initial_params()
    assert ad.rand(4).tolist() == expected_draw  # the run's own random numbers are untouched
    torch.manual_seed(5)
    hidden, output = torch.nn.Linear(64, 16), torch.nn.Linear(16, 10)
    expected = {"hidden.weight": hidden.weight, "hidden.bias": hidden.bias, "output.weight": output.weight,
                "output.bias": output.bias}
    assert list(start) == list(expected)
    for name, value in expected.items():
        assert start[name].dtype == np.float64
        np.testing.assert_array_equal(start[name], value.detach().numpy().astype(np.float64), err_msg=name)


def test_minibatches_follow_the_step_alone(objective):
    per_epoch = 1438 // 64
    first_epoch = np.concatenate([objective.batch(t) for t in range(per_epoch)])
    assert len(set(first_epoch)) == per_epoch * 64  # no row twice within an epoch
    assert np.array_equal(objective.batch(per_epoch + 3), build().batch(per_epoch + 3))
    assert not np.array_equal(objective.batch(3), objective.batch(per_epoch + 3))
    assert not np.array_equal(objective.batch(3), build(data_seed=1).batch(3))
    assert build(batch_size=None).batch(5) is None and build(batch_size=None).minibatches is False


def test_the_loss_is_the_minibatch_cross_entropy_and_full_loss_the_training_sets(objective):
    params = tensors(objective.initial_params())
    x = objective._constants.get("x_train", ad.float64).numpy()
    labels = objective._labels["train"].numpy()

    def cross_entropy(rows):
        w1, b1, w2, b2 = (params[n].detach().numpy() for n in objective.parameter_names())
        logits = np.maximum(x[rows] @ w1.T + b1, 0) @ w2.T + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -log_p[np.arange(len(rows)), labels[rows]].mean()

    assert objective.loss(params, 30).item() == pytest.approx(cross_entropy(objective.batch(30)), rel=1e-12)
    assert objective.full_loss(params).item() == pytest.approx(cross_entropy(np.arange(1438)), rel=1e-12)
    assert objective.optimum is None and objective.min_value is None and objective.loss_gap(1.0) is None


def test_evaluate_gives_the_test_sets_loss_and_accuracy(objective):
    start = {k: v.astype(np.float32) for k, v in objective.initial_params().items()}
    measures = objective.evaluate(start)
    assert set(measures) == {"test_loss", "test_accuracy"}
    x = objective._constants.get("x_test", ad.float32).numpy()
    labels = objective._labels["test"].numpy()
    w1, b1, w2, b2 = (start[n] for n in objective.parameter_names())
    logits = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
    assert measures["test_accuracy"] == np.mean(logits.argmax(axis=1) == labels)
    assert measures["test_loss"] == pytest.approx(np.log(10), rel=0.1)  # an untrained network: about log(10)
    assert objective.eval_every == 10


def test_the_footprint_matches_the_built_parameters(objective):
    footprint = type(objective).footprint(hidden=32)
    assert list(footprint.parameters) == [v.size for v in objective.initial_params().values()]
    assert footprint.data_bytes > 1797 * 64 * 8


@pytest.mark.parametrize("options, message", [
    ({"hidden": 0}, "objective.hidden = 0 is out of range"),
    ({"hidden": 2.5}, "objective.hidden = 2.5 is not allowed: it is not an integer"),
    ({"activation": "gelu"}, "objective.activation = 'gelu' is not allowed. Allowed: relu, tanh."),
    ({"activation": ["relu"]}, "objective.activation = ['relu'] is not allowed. Allowed: relu, tanh."),
    ({"batch_size": 2000}, "objective.batch_size = 2000 is out of range. Allowed: an integer >= 1 and <= 1438."),
    ({"batch_size": 0}, "objective.batch_size = 0 is out of range"),
    ({"test_fraction": 0.0}, "objective.test_fraction = 0.0 is out of range"),
    ({"test_fraction": 1.0}, "it holds out 1797 of the 1797 images"),
    ({"test_fraction": 0.0001}, "it holds out 0 of the 1797 images, and the test and training sets each need one at "
                                "least. Allowed: a fraction that holds out 1 to 1796 images, such as 0.001 to 0.999."),
    ({"test_fraction": float("nan")}, "not a finite number"),
    ({"eval_every": 0}, "objective.eval_every = 0 is out of range"),
    ({"data_seed": -1}, "objective.data_seed = -1 is out of range"),
    ({"init_seed": 2**64}, "objective.init_seed = 18446744073709551616 is out of range"),
    ({"width": 3}, "objective.width is not an option of the objective 'digits'"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ConfigError) as caught:
        build(**options)
    assert message in str(caught.value)


def train_ours(objective, optimizer_name, dtype, steps, **hyperparameters):
    from optimizers import registry

    params = tensors(objective.initial_params(), dtype)
    optimizer = registry.create(optimizer_name, list(params.values()), **hyperparameters)
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = objective.loss(params, step)
        loss.backward()
        losses.append(loss.item())
        optimizer.step()
    return losses, {k: v.detach().numpy() for k, v in params.items()}


@pytest.mark.parametrize("dtype, rtol", [("float32", 1e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("optimizer_name, torch_name, hyperparameters", [
    ("sgd", "SGD", {"lr": 0.1, "momentum": 0.9}),
    ("adam", "Adam", {"lr": 0.01}),
])
def test_training_matches_torch_step_by_step(objective, optimizer_name, torch_name, hyperparameters, dtype, rtol):
    torch = pytest.importorskip("torch")
    ours, params = train_ours(objective, optimizer_name, getattr(ad, dtype), 20, **hyperparameters)
    theirs = train_torch(torch, objective, torch_name, getattr(torch, dtype), 20, **hyperparameters)
    np.testing.assert_allclose(ours, theirs["loss"][:20], rtol=rtol)
    assert theirs["loss"][19] < 0.6 * theirs["loss"][0]  # it learns: the comparison is not of two flat lines
    np.testing.assert_allclose(params["output.weight"], theirs["model"][2].weight.detach().numpy(), rtol=rtol * 10,
                               atol=rtol)


def test_a_checkpoint_is_resumable_when_each_metric_reached_its_own_last_step_before_it():
    from experiments.resume import stored_before

    # logging.every=1, test measures every 10 steps: a checkpoint at step 1200 follows step 1199 and test point 1190
    stored = {"Objective/loss": 1199, "param/output.bias.0": 1199, "Objective/test_loss": 1190}
    assert stored_before(stored, 1200, 1, 10)
    assert not stored_before({**stored, "Objective/test_loss": 1180}, 1200, 1, 10)  # a test point missing
    assert not stored_before({**stored, "param/output.bias.0": 1198}, 1200, 1, 10)
    assert not stored_before(stored, 1200, 1, 1)  # measured at every step, 1191..1199 would be missing
