"""``python run.py objective=digits``: a network trained on scikit-learn's digits through the runner, read back with
MlflowClient: the training and test metrics (checked against torch training the same network), a run killed hard
resuming bit for bit, a clear refusal when scikit-learn is missing, and a small study timing runs to a loss target."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from digits_support import as_array, train_torch
from runner_support import (all_runs, client_for, history, run_cli, run_id_from, start_cli, sweep,
                            wait_for_checkpoint, wait_for_run)

pytest.importorskip("mlflow")
pytest.importorskip("hydra")
pytest.importorskip("sklearn")

# End-to-end (the runner as a subprocess): out of the quick subset `-m "not slow"`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("digits-store")


def values(client, run_id, key):
    return [v for _, v in history(client, run_id, key)]


def test_a_short_adam_run_learns_and_logs_its_test_loss_and_accuracy(store):
    out = run_cli(["objective=digits", "optimizer=adam", "lr=0.01", "steps=40", "tracking.experiment=learns"], store)
    client = client_for(store)
    run = client.get_run(run_id_from(out.stdout))
    assert run.info.status == "FINISHED"
    assert len(history(client, run.info.run_id, "Objective/loss")) == 41
    accuracy = history(client, run.info.run_id, "Objective/test_accuracy")
    test_loss = history(client, run.info.run_id, "Objective/test_loss")
    assert [s for s, _ in accuracy] == [s for s, _ in test_loss] == [0, 10, 20, 30, 40]  # eval_every: 10
    assert accuracy[0][1] < 0.3 and accuracy[-1][1] > 0.9
    assert test_loss[-1][1] < 0.5 * test_loss[0][1]
    metrics = run.data.metrics
    assert "Objective/loss_gap" not in metrics and "Objective/distance_to_optimum" not in metrics  # no known minimum
    # tensors beyond logging.max_elements (100) are logged as their summaries, the 10 output biases one by one
    assert {"param/hidden.weight.norm", "grad/output.weight.max", "exp_avg_sq/output.weight.mean"} <= set(metrics)
    assert "param/hidden.weight.0" not in metrics and "param/output.bias.9" in metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"explorer.html", "loss.png", "trajectory.npz"} <= artifacts and "contour.png" not in artifacts
    from experiments.tracking.store import read_artifact

    page = read_artifact(run.info.run_id, "explorer.html", lambda path: Path(path).read_text(encoding="utf-8"),
                         client.tracking_uri)
    assert "spanned by their two leading principal directions" in page  # the landscape's plane


def test_the_runs_metrics_are_torchs_training_the_same_network(store):
    torch = pytest.importorskip("torch")
    from experiments import objectives

    args = ["objective=digits", "optimizer=adam", "lr=0.01", "optimizer.betas=[0.8,0.99]", "steps=20",
            "dtype=float64", "seed=3", "objective.eval_every=1", "objective.batch_size=32", "logging.plots=false",
            "tracking.experiment=parity"]
    run_id = run_id_from(run_cli(args, store).stdout)
    client = client_for(store)
    objective = objectives.build({"name": "digits", "batch_size": 32, "data_seed": 3, "init_seed": 3})
    theirs = train_torch(torch, objective, "Adam", torch.float64, 20, lr=0.01, betas=(0.8, 0.99))
    for key in ("loss", "test_loss", "test_accuracy"):
        ours = values(client, run_id, f"Objective/{key}")
        assert len(ours) == 21, key
        np.testing.assert_allclose(ours, as_array(theirs[key]), rtol=1e-12, err_msg=key)



def test_a_run_killed_hard_resumes_bit_identical_minibatches_included(store):
    config = ["objective=digits", "objective.hidden=16", "optimizer=adam", "lr=0.003", "steps=2000",
              "checkpoint.every=400", "logging.max_elements=0", "logging.trajectory=false", "logging.plots=false",
              "scheduler=step", "scheduler.step_size=700"]
    reference = run_id_from(run_cli([*config, "tracking.experiment=digits-reference"], store).stdout)
    client = client_for(store)
    process = start_cli([*config, "tracking.experiment=digits-killed"], store)
    try:
        run_id = wait_for_run(client, "digits-killed", process).info.run_id
        saved = wait_for_checkpoint(client, run_id, process, at_least_points=500)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        process.kill()
    assert client.get_run(run_id).info.status == "RUNNING" and saved >= 400
    assert len(history(client, run_id, "Objective/loss")) < 2001

    out = run_cli([*config, "tracking.experiment=digits-killed", f"resume={run_id}"], store)
    assert run_id_from(out.stdout) == run_id
    resumed = client.get_run(run_id)
    assert resumed.info.status == "FINISHED" and int(resumed.data.tags["resumed_from_step"]) >= saved
    keys = set(client.get_run(reference).data.metrics)
    assert set(resumed.data.metrics) == keys and len(history(client, run_id, "Objective/test_loss")) == 201
    for key in keys:  # each minibatch's loss, the test set's (every 10 steps), every tensor's norm, mean, min, max
        assert history(client, run_id, key) == history(client, reference, key), key  # no point missing or twice


def test_without_scikit_learn_the_run_is_refused_saying_what_to_install(store, tmp_path):
    hidden = tmp_path / "no-sklearn"
    hidden.mkdir()
    # an interpreter where scikit-learn is not installed: importing it fails as a missing module does
    (hidden / "sitecustomize.py").write_text("import sys\nsys.modules['sklearn'] = None\n")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(hidden), os.environ.get("PYTHONPATH")]))}
    before = len(all_runs(client_for(store))) if (store / "mlflow.db").exists() else 0
    out = run_cli(["objective=digits", "steps=3", "tracking.experiment=no-sklearn"], store, env=env, check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    [error] = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
    assert "objective=digits needs scikit-learn, which is not installed" in error
    assert "pip install scikit-learn" in error
    assert len(all_runs(client_for(store))) == before


def test_a_study_on_digits_times_each_run_to_its_loss_target(store):
    parent, children, _ = sweep(store, "digits-study", "study=crowded", "objective=digits", "optimizer=sgd,adam",
                                "study.lr_factor=10.0", "seed=0", "steps=40", "study.targets.digits.loss=0.5",
                                "study.held_out_seeds=[]",
                                "tracking.experiment=digits-study")
    client = client_for(store)
    assert len(children) == 2 and {c.data.tags["study.target"] for c in children} == {"loss <= 0.5"}
    for child in children:
        losses = history(client, child.info.run_id, "Objective/loss")
        first = next((step for step, loss in losses if loss <= 0.5), None)
        assert child.data.metrics.get("Summary/steps_to_target") == (None if first is None else float(first))
        assert "Objective/test_accuracy" in child.data.metrics
    assert any("Summary/steps_to_target" in c.data.metrics for c in children)  # adam at lr=0.01 gets there
    assert {"Score/tuned/sgd", "Score/tuned/adam"} <= set(parent.data.metrics)
