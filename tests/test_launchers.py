"""Hydra launchers that run the jobs of a sweep elsewhere than in the launching process: submitit (``submitit_local``
is the code path that submits to SLURM, run on this machine) and Ray (a local Ray instance started by the launcher).
Each job runs in another process, finds the sweep's parent run in the sweep folder, and logs into the same store."""

from __future__ import annotations

import pytest

from runner_support import client_for, every_point_present, sweep

pytest.importorskip("mlflow")
pytest.importorskip("hydra")


# End-to-end (submitit and Ray launchers start their own processes): out of the quick subset `-m "not slow"`.
pytestmark = pytest.mark.slow


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


def test_a_job_that_cannot_see_the_sweep_folder_finds_its_parent_in_the_store(store, tmp_path):
    from hydra import compose, initialize_config_dir

    from experiments.callbacks import close_parent, open_parent
    from experiments.tracking.parent import ParentRun
    from runner_support import ROOT

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = compose("config", overrides=["tracking.experiment=remote-workers"])
    parent = open_parent(cfg, store, "sweep remote", sweep_dir="multirun/2026-12-01/10-00-00")
    try:
        assert ParentRun.read(tmp_path / "elsewhere") is None  # this machine has no such folder
        uri = parent.tracking_uri
        assert ParentRun.find(uri, "remote-workers", "multirun/2026-12-01/10-00-00") == parent
        assert ParentRun.find(uri, "remote-workers", "multirun/2026-12-01/10-00-01") is None
        assert ParentRun.find(uri, "no-such-experiment", "multirun/2026-12-01/10-00-00") is None
    finally:
        close_parent(parent)


def test_the_documented_slurm_sweep_composes_with_submitit(tmp_path):
    """The SLURM command of docs/tracking.md, composed by Hydra (``--cfg hydra``: printed, not submitted: no SLURM
    here)."""
    import shlex

    from docs_text import code_blocks, section
    from runner_support import run_cli

    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    [command] = [c for c in code_blocks(section("docs/tracking.md", "Launchers"), "bash") if "submitit_slurm" in c]
    argv = shlex.split(command.strip())
    assert argv[:3] == ["python", "run.py", "-m"]
    out = run_cli([a for a in argv[3:] if "," not in a] + ["--cfg", "hydra", "-p", "hydra.launcher"], tmp_path)
    assert "hydra_submitit_launcher.submitit_launcher.SlurmLauncher" in out.stdout
    assert "partition: cpu" in out.stdout and "timeout_min: 60" in out.stdout and "mem_gb: 4" in out.stdout
