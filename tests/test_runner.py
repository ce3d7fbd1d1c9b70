"""End to end: ``python run.py`` as a subprocess, one real SQLite store for the module, runs read back with
MlflowClient (nothing mocked)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from runner_support import RUN_PY, UNTIL_STOPPED, all_runs, client_for, history, run_cli, run_id_from

pytest.importorskip("mlflow")
pytest.importorskip("hydra")


# End-to-end (each test runs `python run.py` as a subprocess): out of the quick subset `-m "not slow"`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A directory whose ``mlflow.db`` every test of this module shares (created by the first run)."""
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def adam_seed(store):
    out = run_cli(["optimizer=adam", "lr=0.1", "objective=seed", "steps=2"], store)
    return run_id_from(out.stdout), out


def test_adam_on_the_seed_logs_the_notebook_numbers_with_the_fixed_step_semantics(store, adam_seed):
    run_id, _ = adam_seed
    client = client_for(store)
    a0 = history(client, run_id, "param/a.0")
    assert [s for s, _ in a0] == [0, 1, 2]
    np.testing.assert_allclose([v for _, v in a0], [2.0, 1.9, 1.8004], atol=5e-5)
    assert history(client, run_id, "exp_avg/a.0")[0] == (0, pytest.approx(3.6, abs=1e-6))
    assert [s for s, _ in history(client, run_id, "exp_avg/a.0")] == [0, 1]  # state after each update
    assert history(client, run_id, "Objective/loss")[:2] == [(0, 53.0), (1, pytest.approx(39.724, abs=1e-4))]
    assert history(client, run_id, "grad/a.0") == [(0, 36.0), (1, pytest.approx(32.49, abs=1e-4))]
    assert history(client, run_id, "grad/b.1")[0] == (0, -8.0)
    assert history(client, run_id, "Optimizer/lr") == [(0, 0.1), (1, 0.1)]
    assert history(client, run_id, "Optimizer/grad_norm")[0][1] == pytest.approx(np.sqrt(36**2 + 81**2 + 12**2 + 8**2))
    metrics = client.get_run(run_id).data.metrics
    assert "exp_avg_sq/b.1" in metrics and not any(k.startswith("step/") for k in metrics)  # a counter: no series
    # the update of step 0 is -lr * sign(grad) for Adam's first step: norm 0.1 * sqrt(4), cosine with -grad
    assert history(client, run_id, "Optimizer/update_norm")[0][1] == pytest.approx(0.2, rel=1e-5)
    g = np.array([36.0, 81.0, -12.0, -8.0])
    assert history(client, run_id, "Optimizer/update_cosine")[0][1] == pytest.approx(
        np.abs(g).sum() / (2 * np.linalg.norm(g)), rel=1e-5)
    assert [s for s, _ in history(client, run_id, "Optimizer/update_norm")] == [0, 1]
    final = history(client, run_id, "Objective/loss")[-1]
    assert metrics["Summary/final_loss"] == final[1]
    assert (metrics["Summary/best_loss"], metrics["Summary/best_step"]) == (final[1], 2)  # loss falls each step


def test_params_tags_artifacts_and_summary_line(store, adam_seed):
    run_id, out = adam_seed
    client = client_for(store)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "optimizer=adam lr=0.1 objective=seed steps=2"
    params = run.data.params
    assert params["optimizer.lr"] == "0.1" and params["steps"] == "2" and params["dtype"] == "float32"
    assert params["optimizer.name"] == "adam" and params["optimizer.betas"] == "[0.9, 0.999]"
    assert params["objective.name"] == "seed" and params["seed"] == "0"
    # only what defines the experiment: where and how it is recorded is in config.yaml
    assert {key.split(".")[0] for key in params} == {"optimizer", "objective", "steps", "seed", "dtype"}
    assert "optimizer.default_lr" not in params
    # torch's implementation switches at their defaults say nothing about the experiment
    assert not {"optimizer.foreach", "optimizer.fused", "optimizer.capturable", "optimizer.differentiable"} & set(params)
    assert params["optimizer.amsgrad"] == "False"  # a switch of the maths stays
    tags = run.data.tags
    assert tags["optimizer"] == "adam" and tags["objective"] == "seed"
    assert tags["overrides"] == "optimizer=adam lr=0.1 objective=seed steps=2"
    assert len(tags["git_commit"]) == 40
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "seed" and experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert experiment.tags["mlflow.note.content"].startswith("Optimizer trajectories recorded by `python run.py`")
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"config.yaml", "trajectory.npz", "loss.png"} <= artifacts
    assert f"final loss {history(client, run_id, 'Objective/loss')[-1][1]!r}" in out.stdout
    assert (f"View it at http://127.0.0.1:5000/#/experiments/{run.info.experiment_id}/runs/{run_id}"
            f"?workflowType=machine_learning (served by: mlflow ui --backend-store-uri "
            f"sqlite:///{store.resolve() / 'mlflow.db'} --host 127.0.0.1)") in out.stdout


def test_the_trajectory_artifact_loads_in_one_line_and_matches_the_metrics(store, adam_seed):
    from experiments.trajectory import load

    run_id, _ = adam_seed
    z = load(run_id, f"sqlite:///{store / 'mlflow.db'}")
    assert list(z["step"]) == [0, 1, 2]
    assert z["param/a"].dtype == np.float32 and z["param/a"].shape == (3, 2)
    np.testing.assert_array_equal(z["param/a"][:, 0], [v for _, v in history(client_for(store), run_id, "param/a.0")])
    assert z["exp_avg/a"][0, 0] == np.float32(0.1) * np.float32(36.0)  # 3.6000001, as torch
    assert np.isnan(z["grad/a"][2]).all()  # no gradient is taken at the final parameters


def test_the_seed_sgd_experiment_reproduces_the_notebook(store):
    run_id = run_id_from(run_cli(["experiment=seed_sgd"], store).stdout)
    client = client_for(store)
    losses = history(client, run_id, "Objective/loss")
    assert losses[:2] == [(0, 53.0), (1, 17.464889526367188)] and losses[2][0] == 2
    np.testing.assert_allclose([v for _, v in history(client, run_id, "param/a.1")][:2], [3.0, 2.595], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in history(client, run_id, "grad/a.0")], [36.0, 29.8116], rtol=1e-5)


def test_same_seed_same_config_gives_a_bit_identical_trajectory_in_float64(store):
    args = ["objective=logistic_regression", "optimizer=adam", "lr=0.05", "steps=30", "dtype=float64", "seed=3",
            "logging.metrics=false", "logging.plots=false"]
    from experiments.trajectory import load

    uri = f"sqlite:///{store / 'mlflow.db'}"
    first, second = (load(run_id_from(run_cli(args, store).stdout), uri) for _ in range(2))
    assert first["param/w"].dtype == np.float64
    assert set(first) == set(second)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    other = load(run_id_from(run_cli(args[:-3] + ["seed=4", "logging.metrics=false", "logging.plots=false"],
                                     store).stdout), uri)
    assert not np.array_equal(first["loss"], other["loss"])  # the seed draws the data and the minibatches


def test_large_tensors_are_logged_as_summaries_beyond_max_elements(store):
    out = run_cli(["objective=rosenbrock", "objective.dim=5", "optimizer=sgd", "lr=0.0001", "steps=3",
                   "logging.max_elements=4", "logging.every=2"], store)
    run_id = run_id_from(out.stdout)
    client = client_for(store)
    metrics = set(client.get_run(run_id).data.metrics)
    assert {"param/x.norm", "param/x.mean", "param/x.min", "param/x.max", "grad/x.norm"} <= metrics
    assert not any(k.startswith("param/x.0") for k in metrics)
    assert {"Objective/distance_to_optimum", "Objective/loss_gap"} <= metrics
    norm = history(client, run_id, "param/x.norm")
    assert [s for s, _ in norm] == [0, 2, 3]  # every 2nd step and the final one
    assert norm[0][1] == pytest.approx(np.linalg.norm([-1.2, 1, -1.2, 1, -1.2]), rel=1e-6)
    assert history(client, run_id, "Objective/distance_to_optimum")[0][1] == pytest.approx(
        np.linalg.norm(np.array([-1.2, 1, -1.2, 1, -1.2]) - 1), rel=1e-6)
    assert "contour.png" not in {a.path for a in client.list_artifacts(run_id)}  # 5-D: no contour


def test_a_2d_objective_gets_a_contour_plot_lbfgs_runs_and_a_scheduler_changes_lr(store):
    client = client_for(store)
    run_id = run_id_from(run_cli(["objective=rosenbrock", "optimizer=lbfgs", "steps=3"], store).stdout)
    assert "contour.png" in {a.path for a in client.list_artifacts(run_id)}
    assert history(client, run_id, "Objective/loss")[-1][1] < history(client, run_id, "Objective/loss")[0][1]
    run_id = run_id_from(run_cli(["optimizer=sgd", "lr=0.001", "scheduler=step", "scheduler.step_size=1",
                                  "scheduler.gamma=0.5", "steps=3"], store).stdout)
    assert history(client, run_id, "Optimizer/lr") == [(0, 0.001), (1, 0.0005), (2, 0.00025)]
    params = client.get_run(run_id).data.params
    scheduler = (params["scheduler.name"], params["scheduler.gamma"], params["scheduler.step_size"])
    assert scheduler == ("StepLR", "0.5", "1")


def test_a_diverging_run_is_failed_with_the_reason_and_step(store):
    out = run_cli(["optimizer=sgd", "lr=1", "steps=50"], store)
    run = client_for(store).get_run(run_id_from(out.stdout))
    assert run.info.status == "FAILED"
    assert run.data.tags["failure_reason"] == "non-finite loss -inf at step 4"
    assert history(client_for(store), run.info.run_id, "Objective/loss")[-1][0] == 4
    assert "FAILED (non-finite loss -inf at step 4)" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["optimizer=adam", "lr=-1"], "Invalid learning rate: -1"),
    (["steps=-3"], "steps=-3 is not allowed"),
    (["dtype=float16"], "dtype='float16' is not allowed. Allowed: float32, float64."),
    (["optimizer=adam", "optimizer.betas=[0.9,1.5]"], "Invalid beta parameter at index 1: 1.5"),
])
def test_a_bad_config_fails_cleanly_before_any_run_is_created(store, args, message):
    before = len(all_runs(client_for(store)))
    out = run_cli(args, store, check=False)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(all_runs(client_for(store))) == before


def test_ctrl_c_leaves_the_run_killed_with_its_points_flushed(store):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    process = subprocess.Popen([sys.executable, str(RUN_PY), "optimizer=adam", *UNTIL_STOPPED, "logging.plots=false",
                                "tracking.experiment=interrupted"], cwd=store, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    client = client_for(store)
    deadline = time.monotonic() + 120
    run = None
    while time.monotonic() < deadline:  # wait until points are being written
        experiment = client.get_experiment_by_name("interrupted")
        runs = client.search_runs([experiment.experiment_id]) if experiment else []
        if runs and "Objective/loss" in runs[0].data.metrics:
            run = runs[0]
            break
        time.sleep(0.2)
    assert run is not None, process.communicate(timeout=5)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    run = client.get_run(run.info.run_id)
    assert run.info.status == "KILLED"
    losses = history(client, run.info.run_id, "Objective/loss")
    assert len(losses) > 10
    steps = [s for s, _ in losses]
    assert steps == list(range(len(steps)))  # nothing lost up to the interruption
    assert len(history(client, run.info.run_id, "param/b.1")) == len(steps)
