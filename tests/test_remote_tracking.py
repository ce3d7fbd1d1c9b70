"""Runs against a real ``mlflow server`` (its own SQLite backend store and artifact root, bound to 127.0.0.1 on a
free port, started by the fixtures and always stopped): remote tracking, a joblib sweep of 8 jobs at 4 workers, a
server lost and back mid-run, a server that never comes back (spool, then ``python -m experiments.sync``), and a
server that is not there when the run starts. Everything is read back with MlflowClient from the server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner_support import every_point_present, run_cli, run_id_from, start_cli, wait_for_run
from support.mlflow_server import MlflowServer, free_port

pytest.importorskip("mlflow")
pytest.importorskip("hydra")


# End-to-end (each test starts an mlflow server and runs the runner as a subprocess): out of the quick subset `-m "not slow"`.
pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):
    """A server of the test's own (the tests that stop and restart it)."""
    with MlflowServer(tmp_path / "server") as running:
        yield running


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server for the tests that only write runs to it and read them back (each in its own experiment)."""
    with MlflowServer(tmp_path_factory.mktemp("shared") / "server") as running:
        yield running


def client_of(server):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=server.uri)


def spools_in(directory: Path) -> list[Path]:
    root = directory / "mlflow-spool"
    return sorted(root.iterdir()) if root.is_dir() else []


def test_runs_go_to_the_server_named_by_tracking_uri_or_the_environment(shared_server, tmp_path):
    server = shared_server
    out = run_cli(["optimizer=adam", "lr=0.1", "steps=5", f"tracking.uri={server.uri}", "tracking.experiment=remote"],
                  tmp_path)
    client = client_of(server)
    run_id = run_id_from(out.stdout)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.params["optimizer.name"] == "adam"
    assert every_point_present(client, run_id, 5)["param/a.0"] == 6
    assert {"config.yaml", "trajectory.npz", "loss.png"} <= {a.path for a in client.list_artifacts(run_id)}
    assert any((server.root / "artifacts").rglob("trajectory.npz"))  # the server's own artifact root
    assert not (tmp_path / "mlflow.db").exists() and not spools_in(tmp_path)
    link = f"{server.uri}/#/experiments/{run.info.experiment_id}/runs/{run_id}?workflowType=machine_learning"
    assert f"View it at {link}" in out.stdout  # the server itself serves the UI

    out = run_cli(["optimizer=sgd", "steps=3", "tracking.experiment=remote"], tmp_path,
                  env={"MLFLOW_TRACKING_URI": server.uri})
    assert client.get_run(run_id_from(out.stdout)).info.status == "FINISHED"
    assert not (tmp_path / "mlflow.db").exists()


def test_a_joblib_sweep_of_8_jobs_at_4_workers_against_the_server_loses_no_point(shared_server, tmp_path):
    server = shared_server
    # 250 steps of 12 to 16 per-step keys: each job sends several log_batch requests of 1,000 points
    # (tracking.batch_size) while three others do the same; two rounds of four
    run_cli(["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=4", "optimizer=sgd,adam,rmsprop,adagrad",
             "lr=0.001,0.03", "objective=quadratic", "objective.dim=2", "steps=250", "logging.plots=false",
             f"tracking.uri={server.uri}", "tracking.experiment=sweep"], tmp_path, timeout=900)
    client = client_of(server)
    runs = client.search_runs([client.get_experiment_by_name("sweep").experiment_id], max_results=100)
    parents = [r for r in runs if r.data.tags.get("sweep") == "parent"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 8
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    assert all(r.info.status == "FINISHED" for r in runs)
    for child in children:
        counts = every_point_present(client, child.info.run_id, 250)
        assert counts["Objective/loss"] == 251 and counts["grad/x.1"] == 250


def test_a_server_lost_mid_run_is_waited_for_and_the_run_ends_finished_with_every_point(server, tmp_path):
    process = start_cli(["optimizer=adam", "lr=0.01", "steps=2000", "logging.plots=false", "checkpoint.every=500",
                         f"tracking.uri={server.uri}", "tracking.experiment=lost"], tmp_path)
    try:
        run_id = wait_for_run(client_of(server), "lost", process).info.run_id
        server.stop()  # killed (SIGKILL to the server's process group) while the run is logging
        server.start()  # the same port, backend store and artifact root
        out, err = process.communicate(timeout=600)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert f"The tracking store {server.uri} is unreachable" in err and "answers again" in err
    client = client_of(server)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    counts = every_point_present(client, run_id, 2000)
    assert counts["Objective/loss"] == 2001 and counts["exp_avg_sq/b.1"] == 2000 and len(counts) == 24
    assert {"config.yaml", "trajectory.npz"} <= {a.path for a in client.list_artifacts(run_id)}
    assert not spools_in(tmp_path)  # delivered: the spool is gone


def test_a_server_that_never_returns_leaves_a_spool_that_sync_uploads_into_the_same_run(server, tmp_path):
    process = start_cli(["optimizer=adam", "lr=0.01", "steps=1500", "tracking.retry_timeout=2",
                         f"tracking.uri={server.uri}", "tracking.experiment=gone"], tmp_path)
    try:
        run_id = wait_for_run(client_of(server), "gone", process).info.run_id
        server.stop()
        out, err = process.communicate(timeout=600)
    finally:
        process.kill()
    assert process.returncode == 3 and "Traceback" not in err
    spool = tmp_path / "mlflow-spool" / run_id
    assert "did not come back within 2 s" in err and f"python -m experiments.sync {spool}" in err
    journal = [json.loads(line) for line in (spool / "journal.jsonl").read_text().splitlines()]
    assert journal[0]["run_id"] == run_id and journal[0]["tracking_uri"] == server.uri
    assert {"metrics", "artifact", "status"} <= {r.get("op") for r in journal}

    server.start()
    assert client_of(server).get_run(run_id).info.status == "RUNNING"  # what the server last heard
    synced = run_cli([str(spool)], tmp_path, module="experiments.sync")
    assert f"run {run_id}: " in synced.stdout and "final status FINISHED" in synced.stdout
    client = client_of(server)
    assert client.get_run(run_id).info.status == "FINISHED"
    assert every_point_present(client, run_id, 1500)["Objective/loss"] == 1501
    assert {"config.yaml", "trajectory.npz", "loss.png"} <= {a.path for a in client.list_artifacts(run_id)}
    assert not spool.exists()
    again = run_cli([str(tmp_path / "mlflow-spool")], tmp_path, module="experiments.sync", check=False)
    assert again.returncode == 2 and "no run spool" in again.stderr


def test_an_unreachable_server_at_start_fails_fast_naming_the_uri_before_any_work(tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    out = run_cli(["optimizer=adam", "steps=100000", f"tracking.uri={uri}"], tmp_path, check=False)
    assert out.returncode == 3
    assert f"The MLflow tracking server {uri} cannot be reached" in out.stderr and "tracking.spool=true" in out.stderr
    assert "Traceback" not in out.stderr and not out.stdout.strip()
    assert not spools_in(tmp_path) and not (tmp_path / "mlflow.db").exists()


def test_with_tracking_spool_a_run_starts_without_the_server_and_is_uploaded_later(tmp_path):
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    out = run_cli(["optimizer=adam", "lr=0.1", "steps=20", "tracking.spool=true", "tracking.retry_timeout=0",
                   f"tracking.uri={uri}", "tracking.experiment=offline"], tmp_path, check=False)
    assert out.returncode == 3 and "Traceback" not in out.stderr
    [spool] = spools_in(tmp_path)
    assert spool.name.startswith("offline-") and f"python -m experiments.sync {spool}" in out.stderr
    with MlflowServer(tmp_path / "server", port=port) as server:
        synced = run_cli([str(tmp_path / "mlflow-spool")], tmp_path, module="experiments.sync")
        client = client_of(server)
        [run] = client.search_runs([client.get_experiment_by_name("offline").experiment_id])
        assert run.info.status == "FINISHED" and f"run {run.info.run_id}: " in synced.stdout
        assert run.data.params["optimizer.lr"] == "0.1" and run.data.tags["optimizer"] == "adam"
        assert every_point_present(client, run.info.run_id, 20)["param/a.1"] == 21
        assert "trajectory.npz" in {a.path for a in client.list_artifacts(run.info.run_id)}
    assert not spools_in(tmp_path)


def test_sync_reports_an_unreachable_store_and_keeps_the_spool(tmp_path):
    out = run_cli(["steps=5", "tracking.spool=true", "tracking.retry_timeout=0",
                   f"tracking.uri=http://127.0.0.1:{free_port()}"], tmp_path, check=False)
    [spool] = spools_in(tmp_path)
    synced = run_cli([str(spool)], tmp_path, module="experiments.sync", check=False)
    assert synced.returncode == 1 and "cannot be reached" in synced.stderr and "Traceback" not in synced.stderr
    assert (spool / "journal.jsonl").is_file()
    assert out.returncode == 3
