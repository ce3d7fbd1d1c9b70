"""Checkpoints and ``resume=<run id>``: a run killed hard (SIGKILL) continues in the same run from its last
checkpoint, and the result is bit for bit the uninterrupted run (metrics and trajectory artifact), in float64 and
float32. Also: the checkpoint file format, refusals with clean messages, and SIGTERM ending a run KILLED."""

from __future__ import annotations

import signal

import numpy as np
import pytest

from runner_support import (UNTIL_STOPPED, client_for, every_point_present, histories, history, run_cli, run_id_from,
                            start_cli, wait_for_checkpoint, wait_for_run)

pytest.importorskip("mlflow")
pytest.importorskip("hydra")

import autodiff as ad  # noqa: E402
from experiments import checkpoint  # noqa: E402


# End-to-end (runs are started, killed and resumed as subprocesses): out of the quick subset `-m "not slow"`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("resume-store")


def trajectory(client, run_id):
    from experiments.trajectory import load

    return load(run_id, client.tracking_uri)


def as_holding_everything(client, run_id: str, step: int, state: dict, folder) -> None:
    """Replace the run's checkpoint of ``step`` by one that holds the recorded rows themselves and names no
    stretch (as checkpoints did before they were kept in stretches)."""
    from experiments.trajectory import TrajectoryBuffer

    parts = [checkpoint.load(client.download_artifacts(run_id, f"{checkpoint.ARTIFACT_DIR}/{name}", str(folder)))
             for name in state.pop("history")]
    state["loss_steps"] = np.concatenate([part["loss_steps"] for part in parts])
    state["losses"] = np.concatenate([part["losses"] for part in parts])
    state["path"] = None  # logging.plots=false keeps no loss curve and no path
    assert len(state["losses"]) == 0 and all(part["path"] is None for part in parts)
    state["trajectory"] = TrajectoryBuffer.from_state(*[part["trajectory"] for part in parts]).state()
    folder = folder / "earlier-checkpoint"
    folder.mkdir()
    client.log_artifact(run_id, str(checkpoint.save(state, folder / checkpoint.artifact_name(step))),
                        checkpoint.ARTIFACT_DIR)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_run_killed_hard_resumes_in_the_same_run_bit_identical_to_an_uninterrupted_one(store, dtype):
    config = ["optimizer=adam", "lr=0.01", "steps=6000", f"dtype={dtype}", "checkpoint.every=500",
              "logging.plots=false", "scheduler=step", "scheduler.step_size=700"]
    reference = run_id_from(run_cli([*config, f"tracking.experiment=reference-{dtype}"], store).stdout)
    client = client_for(store)
    process = start_cli([*config, f"tracking.experiment=killed-{dtype}"], store)
    try:
        run_id = wait_for_run(client, f"killed-{dtype}", process).info.run_id
        saved = wait_for_checkpoint(client, run_id, process, at_least_points=700)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        process.kill()
    killed = client.get_run(run_id)
    assert killed.info.status == "RUNNING"  # nobody could end it
    stored_before = len(history(client, run_id, "Objective/loss"))
    assert 500 <= saved and stored_before < 6001
    # the checkpoint holds the state and names the stretches of recorded rows, each written once beside it
    stored = {f.path for f in client.list_artifacts(run_id, checkpoint.ARTIFACT_DIR)}
    stretches = [checkpoint.history_name(k) for k in range(500, saved + 1, 500)]
    assert {f"{checkpoint.ARTIFACT_DIR}/{name}" for name in stretches} <= stored
    newest = checkpoint.load(client.download_artifacts(
        run_id, f"{checkpoint.ARTIFACT_DIR}/{checkpoint.artifact_name(saved)}", str(store)))
    assert newest["history"] == stretches and "trajectory" not in newest and "losses" not in newest
    if dtype == "float32":  # a checkpoint of an earlier version, holding every recorded row itself, resumes too
        as_holding_everything(client, run_id, saved, newest, store)

    out = run_cli([*config, f"tracking.experiment=killed-{dtype}", f"resume={run_id}"], store)
    assert run_id_from(out.stdout) == run_id
    resumed = client.get_run(run_id)
    assert resumed.info.status == "FINISHED" and int(resumed.data.tags["resumed_from_step"]) >= saved
    ours = histories(client, run_id)
    counts = every_point_present(client, run_id, 6000, ours)  # no gap, no point logged twice
    assert counts["Objective/loss"] == 6001 and len(counts) == 24
    theirs = histories(client, reference)
    assert set(ours) == set(theirs)
    for key in counts:
        assert ours[key] == theirs[key], key
    ours, theirs = trajectory(client, run_id), trajectory(client, reference)
    assert set(ours) == set(theirs)
    for key in theirs:
        assert ours[key].dtype == theirs[key].dtype and ours[key].tobytes() == theirs[key].tobytes(), key
    assert ours["param/a"].dtype == np.dtype(dtype)
    assert "checkpoint" not in {a.path for a in client.list_artifacts(run_id)}  # finished: checkpoints dropped


def test_a_noisy_run_killed_hard_resumes_with_the_same_noise_stream(store):
    config = ["objective=quadratic", "objective.gradient_noise=0.3", "optimizer=sgd", "optimizer.momentum=0.9",
              "lr=0.01", "steps=6000", "checkpoint.every=500", "logging.plots=false"]
    reference = run_id_from(run_cli([*config, "tracking.experiment=noisy-reference"], store).stdout)
    client = client_for(store)
    process = start_cli([*config, "tracking.experiment=noisy-killed"], store)
    try:
        run_id = wait_for_run(client, "noisy-killed", process).info.run_id
        saved = wait_for_checkpoint(client, run_id, process, at_least_points=700)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        process.kill()
    assert len(history(client, run_id, "Objective/loss")) < 6001 and saved >= 500
    run_cli([*config, "tracking.experiment=noisy-killed", f"resume={run_id}"], store)
    assert client.get_run(run_id).info.status == "FINISHED"
    for key in ("Objective/loss", "grad/x.0", "grad/x.1", "momentum_buffer/x.1"):
        assert history(client, run_id, key) == history(client, reference, key), key
    ours, theirs = trajectory(client, run_id), trajectory(client, reference)
    assert all(ours[key].tobytes() == theirs[key].tobytes() for key in theirs)


def test_resume_without_a_checkpoint_replays_from_step_0_and_logs_only_what_is_missing(store):
    config = ["optimizer=sgd", "optimizer.momentum=0.9", "lr=0.01", "objective=quadratic", "objective.dim=2",
              "steps=200", "logging.plots=false",
              "checkpoint.every=0", "tracking.experiment=no-checkpoint"]
    reference = run_id_from(run_cli(config, store).stdout)
    client = client_for(store)
    client.update_run(reference, status="FAILED")  # as if it had crashed after logging everything
    run_cli([*config, f"resume={reference}"], store)
    assert client.get_run(reference).info.status == "FINISHED"
    assert every_point_present(client, reference, 200)["momentum_buffer/x.1"] == 200


@pytest.mark.parametrize("args, message", [
    (["resume=0123456789abcdef0123456789abcdef"], "resume=0123456789abcdef0123456789abcdef: there is no such run"),
    (["resume=1.5"], "resume=1.5 is not allowed"),
    (["resume=0123456789abcdef0123456789abcdef", "repeats=3"], "with repeats=3 is not allowed"),
])
def test_resume_refusals_are_one_clean_paragraph(store, args, message):
    out = run_cli(args, store, check=False)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_a_finished_run_or_a_contradicting_override_is_refused(store):
    run_id = run_id_from(run_cli(["optimizer=adam", "steps=3", "tracking.experiment=refusals"], store).stdout)
    out = run_cli([f"resume={run_id}"], store, check=False)
    assert out.returncode == 2 and "the run is FINISHED" in out.stderr
    client_for(store).update_run(run_id, status="KILLED")
    out = run_cli(["optimizer=adam", "lr=0.5", f"resume={run_id}"], store, check=False)
    assert out.returncode == 2 and "lr=0.5 (the run has 0.001)" in out.stderr and "Traceback" not in out.stderr
    out = run_cli([f"resume={run_id}", "logging.progress=false"], store)  # its own configuration: adam, 3 steps
    assert "after 3 steps (adam on seed)" in out.stdout


def test_sigterm_ends_the_run_killed_with_its_points_flushed(store):
    process = start_cli(["optimizer=adam", *UNTIL_STOPPED, "logging.plots=false", "tracking.experiment=terminated"],
                        store)
    client = client_for(store)
    try:
        run = wait_for_run(client, "terminated", process, min_points=20)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=120)
    finally:
        process.kill()
    run = client.get_run(run.info.run_id)
    assert run.info.status == "KILLED"
    steps = [s for s, _ in history(client, run.info.run_id, "Objective/loss")]
    assert steps == list(range(len(steps))) and len(steps) >= 20
    assert len(history(client, run.info.run_id, "exp_avg/b.1")) in (len(steps), len(steps) - 1)


def test_the_checkpoint_file_keeps_every_type_and_dtype_exactly(tmp_path):
    tree = {
        "step": 7,
        "state": {0: {"step": ad.tensor(3.0), "exp_avg": ad.tensor([1.5, -2.0], dtype=ad.float64)}},
        "groups": [{"betas": (0.9, 0.999), "lr": 0.1 + 0.2, "params": [0, 1], "foreach": None, "flag": True}],
        "array": np.arange(6, dtype=np.float32).reshape(2, 3),
        "nan": float("nan"), "inf": float("-inf"), "text": "$odd", "nested": [(1, 2), {"$tuple": 3}],
        (1, "x"): "tuple key",
    }
    loaded = checkpoint.load(checkpoint.save(tree, tmp_path / "c.npz"))
    assert loaded["step"] == 7 and loaded["groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["groups"][0]["lr"] == 0.1 + 0.2 and loaded["groups"][0]["foreach"] is None
    exp_avg = loaded["state"][0]["exp_avg"]
    assert isinstance(exp_avg, ad.Tensor) and exp_avg.dtype == ad.float64 and exp_avg.tolist() == [1.5, -2.0]
    assert loaded["state"][0]["step"].dtype == ad.float32
    assert loaded["array"].dtype == np.float32 and loaded["array"].tolist() == tree["array"].tolist()
    assert np.isnan(loaded["nan"]) and loaded["inf"] == float("-inf") and loaded["text"] == "$odd"
    assert loaded["nested"] == [(1, 2), {"$tuple": 3}] and loaded[(1, "x")] == "tuple key"
    with pytest.raises(TypeError, match="cannot hold a set"):
        checkpoint.save({"bad": {1, 2}}, tmp_path / "bad.npz")


def test_a_checkpoint_cut_short_is_refused_not_half_loaded(tmp_path):
    path = checkpoint.save({"x": np.ones(1000)}, tmp_path / "c.npz")
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        checkpoint.load(path)


def test_a_checkpoint_whose_stretches_are_missing_or_out_of_order_gives_way_to_an_older_one(tmp_path):
    from mlflow.tracking import MlflowClient

    from experiments.resume import newest_usable

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    run_id = client.create_run(client.create_experiment("stretches")).info.run_id

    def log(name: str, tree: dict) -> None:
        client.log_artifact(run_id, str(checkpoint.save(tree, tmp_path / name)), checkpoint.ARTIFACT_DIR)

    def stretch(first: int) -> dict:  # ten trajectory rows from row ``first``, no loss curve, no path
        rows = {"first": first, "steps": np.arange(first, first + 10), "losses": np.zeros(10), "rows": {}}
        return {"loss_steps": np.zeros(0, dtype=np.int64), "losses": np.zeros(0), "path": None, "trajectory": rows}

    log(checkpoint.history_name(10), stretch(0))
    log(checkpoint.history_name(30), stretch(20))
    names = [checkpoint.history_name(k) for k in (10, 20)]
    log(checkpoint.artifact_name(10), {"step": 10, "history": names[:1]})
    log(checkpoint.artifact_name(20), {"step": 20, "history": names})  # history-20 was never logged
    log(checkpoint.artifact_name(30), {"step": 30, "history": [names[0], checkpoint.history_name(30)]})  # a gap
    stored = [f"{checkpoint.ARTIFACT_DIR}/{checkpoint.artifact_name(k)}" for k in (10, 20, 30)]
    state = newest_usable(client, run_id, stored, {}, 1, tmp_path)
    assert state["step"] == 10 and len(state["history_parts"]) == 1
