"""A sweep or study run again after an interruption: every run is tagged ``config_hash`` (the hash of its params),
and the same command finds the earlier runs by it, skips the configurations that finished, resumes the one that was
stopped, runs the rest, and its parent (report included) holds them all; ``sweep.rerun=all`` runs everything anew."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner_support import (PARENT, ROOT, all_runs, client_for, every_point_present, kill_everything, run_cli,
                            start_cli)

pytest.importorskip("mlflow")
pytest.importorskip("hydra")


def compose(*overrides: str):
    """The job configuration ``python run.py *overrides`` composes (Hydra's own settings left out, as a run does)."""
    import experiments  # noqa: F401 - registers the ${times:...} resolver a study's lr uses
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import open_dict

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = hydra_compose("config", overrides=list(overrides), return_hydra_config=True)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def hash_of(*overrides: str) -> str:
    from experiments.config import config_hash, experiment_params, plain

    return config_hash(experiment_params(plain(compose(*overrides))))


BASE = ("optimizer=adam", "objective=quadratic", "lr=0.01", "steps=50")


@pytest.mark.parametrize("extra", [
    "tracking.uri=sqlite:////elsewhere/mlflow.db", "tracking.experiment=other", "tracking.batch_size=10",
    "logging=off", "logging.progress=true", "logging.every=5", "checkpoint.every=7", "limits.check=false",
    "sweep.rerun=all", "resume_force=true", "hydra/launcher=joblib hydra.launcher.n_jobs=3",
    "hydra.sweep.dir=/tmp/elsewhere", "optimizer.foreach=false", "lr=0.010", "repeats=3",
])
def test_what_does_not_change_the_trajectory_leaves_the_config_hash_alone(extra):
    assert hash_of(*BASE, *extra.split()) == hash_of(*BASE)


@pytest.mark.parametrize("extra", [
    "lr=0.02", "seed=1", "steps=51", "dtype=float64", "optimizer=nadam", "optimizer.betas=[0.8,0.999]",
    "optimizer.amsgrad=true", "objective.dim=3", "objective.condition_number=100.0",
    "scheduler=cosine",
])
def test_a_key_that_changes_the_trajectory_changes_the_config_hash(extra):
    assert hash_of(*BASE, extra) != hash_of(*BASE)


def test_the_config_hash_is_the_same_in_another_process():
    """Nothing process-dependent (Python's string hashing, dict order) goes into it."""
    script = ("import sys; sys.path.insert(0, 'tests'); from test_sweep_rerun import hash_of, BASE; "
              "print(hash_of(*BASE))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == hash_of(*BASE) and len(hash_of(*BASE)) == 64


def test_sweep_rerun_takes_unfinished_or_all():
    from experiments.config import validate
    from experiments.errors import ConfigError

    for value in ("unfinished", "all"):
        validate(compose(f"sweep.rerun={value}"))
    with pytest.raises(ConfigError, match="sweep.rerun='everything' is not allowed. Allowed: unfinished"):
        validate(compose("sweep.rerun=everything"))


# A tiny study, the basic launcher running its jobs in turn: sgd for 40 steps, then sgd for 6000 steps (stopped
# mid-way), then adam's two (never started before the interruption).
STUDY = ["study=quick", "objective=quadratic", "optimizer=sgd,adam", "study.lr_factor=1.0", "seed=0",
         "steps=40,6000", "checkpoint.every=500", "study.held_out_seeds=[]"]
HELD_OUT = "study.held_out_seeds=[7]"  # the interrupted sweep would have a held-out phase: a stopped one never starts it


def children_of(client, parent: str) -> dict:
    return {r.info.run_id: r for r in all_runs(client) if r.data.tags.get(PARENT) == parent}


def parent_of(sweep_dir: Path) -> str:
    return json.loads((sweep_dir / "mlflow_parent.json").read_text())["run_id"]


def interrupt_mid_way(tmp_path: Path, sweep_dir: Path, signum: int, *launcher: str) -> str:
    """Start the study and send ``signum`` to it once a job finished and another saved a checkpoint; returns the
    parent's id."""
    client = client_for(tmp_path)
    process = start_cli(["-m", f"hydra.sweep.dir={sweep_dir}", *STUDY, *launcher], tmp_path)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            if (sweep_dir / "mlflow_parent.json").is_file():
                runs = children_of(client, parent_of(sweep_dir)).values()
                if any(r.info.status == "FINISHED" for r in runs) and any(
                        r.info.status == "RUNNING" and r.data.tags.get("checkpoint_step") for r in runs):
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the second job saved no checkpoint within 240 s")
        os.killpg(process.pid, signum)
        process.wait(timeout=120)
    finally:
        kill_everything(process)
    return parent_of(sweep_dir)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL])
def test_a_study_run_again_skips_what_finished_resumes_what_was_stopped_and_reports_all(tmp_path, signum):
    client = client_for(tmp_path)
    first = interrupt_mid_way(tmp_path, tmp_path / "first", signum, HELD_OUT)
    before = children_of(client, first)
    [done] = [r.info.run_id for r in before.values() if r.info.status == "FINISHED"]
    [stopped] = [r.info.run_id for r in before.values() if r.info.status != "FINISHED"]
    assert len(before) == 2 and before[stopped].info.status == ("KILLED" if signum == signal.SIGINT else "RUNNING")
    points = every_point_present(client, done, 40)

    again = run_cli(["-m", f"hydra.sweep.dir={tmp_path / 'second'}", *STUDY], tmp_path)
    second = parent_of(tmp_path / "second")
    children = children_of(client, second)
    assert len(children) == 4 and {done, stopped} <= set(children)
    assert len(all_runs(client)) == 2 + 4  # two parents; no configuration ran twice
    assert every_point_present(client, done, 40) == points  # skipped: not a point more
    resumed = client.get_run(stopped)
    assert resumed.info.status == "FINISHED" and int(resumed.data.tags["resumed_from_step"]) >= 500
    assert every_point_present(client, stopped, 6000)["Objective/loss"] == 6001
    assert f": skipped, run {done} already finished it: final loss " in again.stdout
    assert f": resuming run {stopped} ({before[stopped].info.status}) from its newest checkpoint" in again.stdout
    for run_id, how in ((done, "finished"), (stopped, "resumed")):
        tags = client.get_run(run_id).data.tags
        assert (tags["sweep.reused"], tags["sweep.adopted_from"]) == (how, first)
    parent = client.get_run(second)
    assert parent.info.status == "FINISHED"
    assert (parent.data.tags["children"], parent.data.tags["children_skipped"],
            parent.data.tags["children_resumed"]) == ("4", "1", "1")
    assert "4 runs (1 skipped and 1 resumed from earlier runs)" in again.stdout.strip().splitlines()[-1]
    earlier = client.get_run(first)
    assert earlier.data.tags["sweep.continued_by"] == second
    # killed hard, the first sweep's launcher left its parent RUNNING; taking over its runs ends it (its lease's
    # process is gone)
    assert earlier.info.status == "KILLED"
    ended = f"The earlier sweep's parent run {first} was still RUNNING, its launcher gone: it ended KILLED."
    assert (ended in again.stdout) == (signum == signal.SIGKILL), again.stdout
    report = Path(client.download_artifacts(second, "steps_to_target.csv", str(tmp_path)))
    assert {line.split(",")[0] for line in report.read_text().splitlines()[1:]} == set(children)
    if signum == signal.SIGKILL:
        return
    check_rerun_all(tmp_path, client, children)


def check_rerun_all(tmp_path: Path, client, earlier: dict) -> None:
    """``sweep.rerun=all``: four new runs, each with the config hash and the final loss of the run it repeats."""
    run_cli(["-m", f"hydra.sweep.dir={tmp_path / 'third'}", *STUDY, "sweep.rerun=all"], tmp_path)
    third = children_of(client, parent_of(tmp_path / "third"))
    assert len(third) == 4 and not set(third) & set(earlier)
    by_hash = {r.data.tags["config_hash"]: client.get_run(run_id) for run_id, r in earlier.items()}
    assert len(by_hash) == 4
    for run in third.values():
        assert run.info.status == "FINISHED"
        twin = by_hash[run.data.tags["config_hash"]]
        assert twin.data.params == run.data.params
        assert run.data.metrics["Summary/final_loss"] == twin.data.metrics["Summary/final_loss"]


@pytest.mark.slow
def test_a_joblib_study_stopped_by_ctrl_c_is_finished_by_the_same_command(tmp_path):
    """Two workers: whatever had finished when Ctrl-C came is skipped, whatever was running is resumed, and every
    configuration has one run, under the new parent, with every point once."""
    joblib = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    client = client_for(tmp_path)
    first = interrupt_mid_way(tmp_path, tmp_path / "first", signal.SIGINT, *joblib, HELD_OUT)
    before = children_of(client, first)
    done = {i: every_point_present(client, i, int(r.data.params["steps"])) for i, r in before.items()
            if r.info.status == "FINISHED"}
    stopped = {i for i, r in before.items() if r.info.status != "FINISHED"}  # KILLED (or RUNNING, its worker gone)
    # a job that started as Ctrl-C came ends KILLED as soon as its run exists: nothing to resume, it stays behind
    stubs = {i for i in stopped if "config.yaml" not in {a.path for a in client.list_artifacts(i)}}
    assert done and stopped - stubs
    again = run_cli(["-m", f"hydra.sweep.dir={tmp_path / 'second'}", *STUDY, *joblib], tmp_path)
    children = children_of(client, parent_of(tmp_path / "second"))
    assert len(children) == 4 and set(before) - stubs <= set(children), again.stdout
    assert len(all_runs(client)) == 2 + 4 + len(stubs) and set(children_of(client, first)) == stubs
    assert len({r.data.tags["config_hash"] for r in children.values()}) == 4
    for run_id, run in children.items():
        assert run.info.status == "FINISHED"
        counts = every_point_present(client, run_id, int(run.data.params["steps"]))
        if run_id in done:
            assert counts == done[run_id] and f"skipped, run {run_id} already finished it" in again.stdout
        elif run_id in stopped:
            assert "resumed_from_step" in run.data.tags and f"resuming run {run_id} (" in again.stdout


@pytest.mark.slow
def test_runs_made_by_other_code_are_not_reused(tmp_path):
    """A finished sweep run again after the code changed (another commit) runs every configuration anew."""
    client = client_for(tmp_path)
    sweep = ["optimizer=sgd,adam", "steps=5", "logging.plots=false"]
    run_cli(["-m", f"hydra.sweep.dir={tmp_path / 'first'}", *sweep], tmp_path)
    first = children_of(client, parent_of(tmp_path / "first"))
    assert len(first) == 2
    [first_id, *_] = first
    client.set_tag(first_id, "git_commit", "0" * 40)  # as if made by an earlier version of the code
    again = run_cli(["-m", f"hydra.sweep.dir={tmp_path / 'second'}", *sweep], tmp_path)
    second = children_of(client, parent_of(tmp_path / "second"))
    assert len(second) == 2 and first_id not in second  # the other run, made by this code, is skipped
    assert len(set(second) & set(first)) == 1
    assert again.stdout.count(": skipped, run ") == 1
