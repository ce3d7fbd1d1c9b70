"""The runner with a plugin optimizer chosen by name (no config file), and with an expression objective checked
against torch running the same optimizer on the same function."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from runner_support import ROOT, client_for, history, run_cli, run_id_from
from support import distributions

pytest.importorskip("mlflow")
pytest.importorskip("hydra")


# End-to-end (the runner as a subprocess, with a plugin built and installed): out of the quick subset `-m "not slow"`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def adan_site(tmp_path_factory):
    """The example plugin (examples/plugin, Adan) built and installed into its own directory with pip."""
    base = tmp_path_factory.mktemp("adan")
    source = distributions.copy_sources(ROOT / "examples" / "plugin", base / "src")
    return distributions.install(base, {"adan": (source, "autodiff_optimizer_adan")})["adan"]


def test_a_plugin_optimizer_is_chosen_by_name_and_its_state_is_logged(store, adan_site):
    env = {"PYTHONPATH": os.pathsep.join([str(adan_site), os.environ.get("PYTHONPATH", "")])}
    assert not (ROOT / "configs" / "optimizer" / "adan.yaml").exists()
    out = run_cli(["optimizer=adan", "lr=0.01", "optimizer.weight_decay=0.001", "steps=3"], store, env=env)
    client = client_for(store)
    run = client.get_run(run_id_from(out.stdout))
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["optimizer.name"] == "adan" and params["optimizer.lr"] == "0.01"
    assert params["optimizer.weight_decay"] == "0.001" and params["optimizer.betas"] == "[0.98, 0.92, 0.99]"
    # whatever Adan keeps in state[p] is logged under its own key, with no runner code for it
    state_keys = {k.split("/")[0] for k in run.data.metrics} - {"param", "grad", "Objective", "Optimizer", "Summary"}
    assert {"exp_avg", "exp_avg_sq", "exp_avg_diff"} <= state_keys
    # the plugin's config entry lists every constructor default
    from experiments.plugin_configs import plugin_entry

    sys.path.insert(0, str(adan_site))
    try:
        from optimizers import registry

        registry.refresh()
        assert plugin_entry("adan")["default_lr"] == registry.signature_defaults("adan")["lr"]
    finally:
        sys.path.remove(str(adan_site))
        registry.refresh()


def test_an_expression_objective_matches_the_same_optimizer_in_torch(store):
    expr = "sum((a - 1)**2 * 3 + sin(a) * b) + norm(b)**2"
    out = run_cli(["objective=expression", f"objective.expr='{expr}'", "objective.init.a=[0.5,-1.5]",
                   "objective.init.b=[2.0,0.25]", "optimizer=rmsprop", "lr=0.01", "optimizer.momentum=0.9",
                   "steps=20", "dtype=float64"], store)
    client = client_for(store)
    run_id = run_id_from(out.stdout)
    ours = {k: np.array([v for _, v in history(client, run_id, k)]) for k in ("Objective/loss", "param/a.0", "param/b.1")}
    torch = pytest.importorskip("torch")
    a = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([2.0, 0.25], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.RMSprop([a, b], lr=0.01, momentum=0.9)
    losses, a0, b1 = [], [], []
    for _ in range(20):
        optimizer.zero_grad()
        loss = torch.sum((a - 1) ** 2 * 3 + torch.sin(a) * b) + torch.linalg.norm(b) ** 2
        loss.backward()
        losses.append(loss.item())
        a0.append(a[0].item())
        b1.append(b[1].item())
        optimizer.step()
    with torch.no_grad():
        losses.append((torch.sum((a - 1) ** 2 * 3 + torch.sin(a) * b) + torch.linalg.norm(b) ** 2).item())
    a0.append(a[0].item())
    b1.append(b[1].item())
    np.testing.assert_allclose(ours["Objective/loss"], losses, rtol=1e-12)
    np.testing.assert_allclose(ours["param/a.0"], a0, rtol=1e-12)
    np.testing.assert_allclose(ours["param/b.1"], b1, rtol=1e-12)
