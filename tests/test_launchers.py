"""Hydra launchers that run the jobs of a sweep elsewhere than in the launching process: submitit (``submitit_local``
is the code path that submits to SLURM, run on this machine) and Ray (a local Ray instance started by the launcher).
Each job runs in another process, finds the sweep's parent run in the sweep folder, and logs into the same store."""

from __future__ import annotations

import pytest

from runner_support import client_for, every_point_present, sweep

pytest.importorskip("mlflow")
pytest.importorskip("hydra")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("launchers")


def check_sweep(store, parent, children, steps):
    client = client_for(store)
    assert parent.info.status == "FINISHED" and len(children) == 2
    assert sorted(c.data.tags["optimizer"] for c in children) == ["adam", "sgd"]
    for child in children:
        assert child.info.status == "FINISHED"
        assert every_point_present(client, child.info.run_id, steps)["loss"] == steps + 1
    assert "final_losses.csv" in {a.path for a in client.list_artifacts(parent.info.run_id)}


def test_submitit_local_runs_each_job_in_its_own_process(store):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    parent, children, out = sweep(store, "submitit", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10",
                                  "optimizer=sgd,adam", "objective=quadratic", "objective.dim=2", "steps=200",
                                  "logging.plots=false")
    assert "Submitit 'local' sweep output dir" in out.stdout + out.stderr
    check_sweep(store, parent, children, 200)


def test_ray_runs_each_job_as_a_task_of_a_local_ray(store):
    pytest.importorskip("ray")
    pytest.importorskip("hydra_plugins.hydra_ray_launcher")
    parent, children, out = sweep(store, "ray", "hydra/launcher=ray", "optimizer=sgd,adam", "objective=quadratic",
                                  "objective.dim=2", "steps=200", "logging.plots=false")
    assert "Ray Launcher is launching 2 jobs" in out.stdout + out.stderr
    check_sweep(store, parent, children, 200)
