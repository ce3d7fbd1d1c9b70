"""Hydra launchers that run the jobs of a sweep elsewhere than in the launching process: submitit (``submitit_local``
is the code path that submits to SLURM, run on this machine) and Ray (a local Ray instance started by the launcher).
Each job runs in another process, finds the sweep's parent run in the sweep folder, and logs into the same store.
Ctrl-C or SIGTERM to a sweep, on every launcher, ends its jobs and its parent KILLED and leaves no process behind;
two sweeps started in the same second each get their own folder and parent."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from runner_support import (PARENT, all_runs, client_for, command_line, descendants, every_point_present,
                            UNTIL_STOPPED, kill_everything, run_cli, start_cli, still_running, sweep)

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
        assert every_point_present(client, child.info.run_id, steps)["Objective/loss"] == steps + 1
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
    # the submitit test ran these configurations in this store already: sweep.rerun=all runs them again
    parent, children, out = sweep(store, "ray", "hydra/launcher=ray", "optimizer=sgd,adam", "objective=quadratic",
                                  "objective.dim=2", "steps=200", "logging.plots=false", "sweep.rerun=all")
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


LAUNCHERS = {
    "basic": [],
    "joblib": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    "submitit_local": ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10"],
    "ray": ["hydra/launcher=ray"],
}
PLUGINS = {"joblib": "hydra_plugins.hydra_joblib_launcher", "submitit_local": "hydra_plugins.hydra_submitit_launcher",
           "ray": "hydra_plugins.hydra_ray_launcher"}


def wait_for_running_jobs(store, sweep_dir, process, count: int, timeout: float = 240):
    """The sweep's parent id once ``count`` of its children have logged points (fails if the sweep exits first)."""
    deadline = time.monotonic() + timeout
    parent_file = sweep_dir / "mlflow_parent.json"
    while time.monotonic() < deadline:
        assert process.poll() is None, (sweep_dir / "err.txt").read_text()[-3000:]
        if parent_file.is_file():  # the store exists (made once, by the launcher) before a client opens it
            parent = json.loads(parent_file.read_text())["run_id"]
            children = [r for r in all_runs(client_for(store)) if r.data.tags.get(PARENT) == parent]
            if sum("Objective/loss" in r.data.metrics for r in children) >= count:
                return parent
        time.sleep(0.3)
    raise AssertionError(f"{count} jobs were not running within {timeout} s")


@pytest.mark.slow
@pytest.mark.parametrize("launcher, signum, to_group", [
    ("basic", signal.SIGINT, True),
    ("joblib", signal.SIGTERM, False),
    ("joblib", signal.SIGINT, True),  # Ctrl-C in a terminal: the launcher and every worker get it
    ("submitit_local", signal.SIGTERM, False),
    ("ray", signal.SIGTERM, False),
])
def test_a_signal_to_a_sweep_ends_its_jobs_and_parent_killed_and_leaves_no_process(tmp_path, launcher, signum,
                                                                                     to_group):
    if launcher in PLUGINS:
        pytest.importorskip(PLUGINS[launcher])
    if launcher == "ray":
        pytest.importorskip("ray")
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    # four configurations, two at a time on joblib: two jobs are queued when the signal comes and must not start
    configurations = "optimizer=sgd,adam,rmsprop,adagrad" if launcher == "joblib" else "optimizer=sgd,adam"
    with open(sweep_dir / "out.txt", "w") as out, open(sweep_dir / "err.txt", "w") as err:
        process = start_cli(["-m", f"hydra.sweep.dir={sweep_dir}", *LAUNCHERS[launcher], configurations,
                             *UNTIL_STOPPED, "logging.plots=false"], tmp_path, stdout=out, stderr=err)
    pids = set()
    try:
        parent = wait_for_running_jobs(tmp_path, sweep_dir, process, 1 if launcher == "basic" else 2)
        pids = descendants(process.pid)
        if to_group:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        process.wait(timeout=300)
        left = still_running(pids, within=30)
    finally:
        kill_everything(process, pids)
    err = (sweep_dir / "err.txt").read_text()
    assert process.returncode == 128 + signum, err[-3000:]
    assert left == [], {pid: command_line(pid) for pid in left}
    # the launcher's closing line (Ray's workers may print after it)
    closing = f"Interrupted by {signal.Signals(signum).name}: "
    assert [line for line in err.splitlines() if line.startswith(closing) and f"run {parent} ended KILLED" in line]
    runs = all_runs(client_for(tmp_path))
    assert {r.info.run_id: r.info.status for r in runs if r.info.run_id == parent} == {parent: "KILLED"}
    children = [r for r in runs if r.data.tags.get(PARENT) == parent]
    assert len(children) == len(runs) - 1
    assert {c.info.status for c in children} <= {"KILLED", "FINISHED"}
    assert sum(c.info.status == "KILLED" for c in children) >= (1 if launcher == "basic" else 2)
    if launcher == "joblib":  # the queued jobs made no run (each was refused, or its worker went with the launcher)
        assert len(children) == 2, [c.data.tags.get("mlflow.runName") for c in children]


@pytest.mark.slow
def test_sweeps_started_in_the_same_second_each_get_their_own_folder_and_parent(tmp_path):
    """``${now:%Y}`` names every sweep of a year alike: the second sweep must not share the first one's folder
    (and so its parent); an explicit folder is used as given."""
    run_cli(["steps=1", "logging.plots=false"], tmp_path)  # the store exists before the sweeps race
    pattern = "hydra.sweep.dir=multirun/${now:%Y}"
    processes = [start_cli(["-m", pattern, f"optimizer={pair}", "steps=20", "logging.plots=false"], tmp_path)
                 for pair in ("sgd,adam", "rmsprop,adagrad")]
    try:
        outputs = [p.communicate(timeout=300) for p in processes]
    finally:
        for p in processes:
            kill_everything(p)
    assert [p.returncode for p in processes] == [0, 0], outputs
    year = time.strftime("%Y")
    folders = sorted(p.name for p in (tmp_path / "multirun").iterdir())
    assert folders == [year, f"{year}-1"]
    client = client_for(tmp_path)
    parents = {json.loads((tmp_path / "multirun" / f / "mlflow_parent.json").read_text())["run_id"] for f in folders}
    assert len(parents) == 2
    by_parent = {}
    for run in all_runs(client):
        if run.data.tags.get(PARENT):
            by_parent.setdefault(run.data.tags[PARENT], set()).add(run.data.tags["optimizer"])
    assert sorted(map(sorted, by_parent.values())) == [["adagrad", "rmsprop"], ["adam", "sgd"]]
    assert set(by_parent) == parents


def test_a_job_of_a_stopped_sweep_does_not_start(tmp_path):
    """A job that reaches a worker after its sweep's launcher wrote the stop request is refused before any run."""
    from experiments import sweep as sweeps

    (tmp_path / sweeps.STOP).write_text(json.dumps({"signal": int(signal.SIGTERM)}))
    with sweeps.Job(tmp_path) as job:
        assert job.refused
        assert list((tmp_path / sweeps.RUNNING).iterdir())  # listed while it decides, so the launcher waits for it
    assert not list((tmp_path / sweeps.RUNNING).iterdir())


def test_a_sweep_into_the_folder_of_a_stopped_sweep_runs_every_job(tmp_path):
    """Re-running a stopped sweep into the same folder: the old stop request is not taken as this sweep's."""
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    (sweep_dir / ".stop").write_text(json.dumps({"signal": int(signal.SIGINT)}))
    result = run_cli(["-m", f"hydra.sweep.dir={sweep_dir}", *LAUNCHERS["joblib"], "optimizer=sgd,adam", "steps=5",
                      "logging.plots=false"], tmp_path)
    assert "not started" not in result.stderr
    parent = json.loads((sweep_dir / "mlflow_parent.json").read_text())["run_id"]
    children = [r for r in all_runs(client_for(tmp_path)) if r.data.tags.get(PARENT) == parent]
    assert sorted(c.info.status for c in children) == ["FINISHED", "FINISHED"]


def test_a_job_told_by_its_sweep_then_signalled_itself_still_stops_gracefully():
    """Ctrl-C reaches a launcher and its workers alike: a job that saw the sweep's stop request first and then the
    signal itself has had one signal, not two (two would stop it at once, leaving its run to the spool)."""
    from experiments import signals

    with signals.scope():
        signals.request(signal.SIGINT, "the sweep was stopped")
        signals.handle(signal.SIGINT, None)  # the first signal: no StopNow
        assert signals.received()
        with pytest.raises(signals.StopNow):
            signals.handle(signal.SIGINT, None)
