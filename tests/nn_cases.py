"""Training scenarios for autodiff.nn written once for both libraries: ``m`` is autodiff or torch and ``optim``
optimizers or torch.optim. Each builds a model, copies the given initial weights into it (torch's, from
tests/golden/nn_training.npz), trains a few steps on seeded data and returns the losses, the final weights, the
model's repr and its state_dict keys: tests/test_nn_training.py compares ours with torch's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scenario:
    name: str
    build: object          # build(m) -> (model, loss module)
    optimizer: object      # optimizer(optim, model) -> optimizer
    inputs: tuple          # shape of the inputs
    targets: str           # "regression" (like the output), "classes" (3 classes) or "binary"
    steps: int = 5


def _mlp_tanh(m):
    nn = m.nn
    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)), nn.MSELoss()


def _classifier(m):
    nn = m.nn
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)), nn.CrossEntropyLoss()


def _logistic(m):
    nn = m.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 1)), nn.BCEWithLogitsLoss(pos_weight=m.tensor([2.0]))


def _sigmoid_net(m):
    nn = m.nn
    return nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 2, bias=False)), nn.MSELoss(reduction="sum")


SCENARIOS = [
    Scenario("mlp-sgd-momentum-mse", _mlp_tanh, lambda o, model: o.SGD(model.parameters(), lr=0.05, momentum=0.9),
             (16, 3), "regression"),
    Scenario("classifier-adam-cross-entropy", _classifier,
             lambda o, model: o.Adam(model.named_parameters(), lr=0.01), (16, 4), "classes"),
    Scenario("logistic-sgd-bce-with-logits", _logistic,
             lambda o, model: o.SGD(model.parameters(), lr=0.5, weight_decay=1e-3), (16, 2, 3), "binary"),
    Scenario("sigmoid-adamw-mse-sum", _sigmoid_net, lambda o, model: o.AdamW(model.parameters(), lr=0.05),
             (8, 2), "regression"),
]


def data(scenario: Scenario, out_features: int):
    rng = np.random.default_rng(sum(map(ord, scenario.name)))
    x = rng.standard_normal(scenario.inputs).astype(np.float32)
    n = scenario.inputs[0]
    if scenario.targets == "classes":
        return x, rng.integers(0, 3, size=n)
    if scenario.targets == "binary":
        return x, rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    return x, rng.standard_normal((n, out_features)).astype(np.float32)


def train(m, optim, scenario: Scenario, initial: dict | None = None) -> dict:
    """Train ``scenario`` in library ``m`` from ``initial`` weights (the model's own when None)."""
    model, loss_fn = scenario.build(m)
    if initial is not None:
        model.load_state_dict({name: m.tensor(value) for name, value in initial.items()})
    start = {name: t.detach().numpy().copy() for name, t in model.state_dict().items()}
    out_features = [p for p in model.parameters()][-1].shape[0]
    x, y = data(scenario, out_features)
    x, y = m.tensor(x), m.tensor(y)
    opt = scenario.optimizer(optim, model)
    losses = []
    for _ in range(scenario.steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {"initial": start, "losses": np.array(losses),
            "final": {name: t.detach().numpy().copy() for name, t in model.state_dict().items()},
            "repr": repr(model), "keys": list(model.state_dict())}
