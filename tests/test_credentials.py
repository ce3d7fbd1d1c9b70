"""Credentials in a tracking URI are used and never written or printed: a run and a sweep against a real
``mlflow server`` with ``http://alice:<password>@127.0.0.1:<port>`` (the server ignores the user info), and runs
that fail (an unreachable server, spooled then synced; a database URI). Every file under the working folder and of
the server's store, every param, tag and run name, stdout and stderr are searched for the secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner_support import all_runs, run_cli, run_id_from
from support.mlflow_server import MlflowServer, free_port

pytest.importorskip("mlflow")
pytest.importorskip("hydra")

PASSWORD = "s3cretpw-7Qx"
ENVIRONMENT = {"MLFLOW_TRACKING_PASSWORD": "envpw-9Zk", "MLFLOW_TRACKING_TOKEN": "envtoken-4Wy"}
SECRETS = [PASSWORD, *ENVIRONMENT.values()]


def with_credentials(uri: str) -> str:
    return uri.replace("http://", f"http://alice:{PASSWORD}@")


def assert_nowhere(*texts: str, folders: tuple[Path, ...] = ()) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} in:\n{text}"
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                for secret in SECRETS:
                    assert secret.encode() not in data, f"{secret!r} in {path}"


def recorded_text(client) -> str:
    """Every param, tag and run name of every run of the store, as one text."""
    parts = []
    for run in all_runs(client):
        parts += [run.info.run_name or "", *run.data.params.items(), *run.data.tags.items()]
    return "\n".join(map(str, parts))


@pytest.mark.slow
def test_a_run_and_a_sweep_with_credentials_in_the_uri_reach_the_server_and_store_none_of_them(tmp_path):
    from mlflow.tracking import MlflowClient

    work = tmp_path / "work"
    work.mkdir()
    with MlflowServer(tmp_path / "server") as server:
        uri = with_credentials(server.uri)
        single = run_cli(["optimizer=adam", "steps=3", f"tracking.uri={uri}", "tracking.experiment=secret"], work,
                         env=ENVIRONMENT)
        sweep = run_cli(["-m", "optimizer=sgd,adam", "steps=3", "logging.plots=false", f"tracking.uri={uri}",
                         "tracking.experiment=secret"], work, env=ENVIRONMENT)
        client = MlflowClient(tracking_uri=server.uri)
        runs = all_runs(client)
        run = client.get_run(run_id_from(single.stdout))
        assert run.info.status == "FINISHED" and len(runs) == 4  # the run, the sweep's parent and its 2 jobs
        assert "tracking.uri" not in run.data.params  # plumbing: in config.yaml only, redacted
        assert "tracking.uri='http://***@127.0.0.1" in run.data.tags["overrides"]
        assert list((work / "outputs").rglob("overrides.yaml")) and list((work / "multirun").rglob("multirun.yaml"))
        config = client.download_artifacts(run.info.run_id, "config.yaml", str(tmp_path))
        assert server.uri.replace("http://", "http://***@") in Path(config).read_text()
        assert_nowhere(single.stdout, single.stderr, sweep.stdout, sweep.stderr, recorded_text(client),
                       Path(config).read_text(), folders=(work, server.root / "artifacts"))
        assert_nowhere(folders=(server.root,))  # the server's store (mlflow.db) and its log


@pytest.mark.slow
def test_failing_runs_with_credentials_print_and_keep_none_of_them(tmp_path):
    port = free_port()  # nothing listens there yet
    uri = with_credentials(f"http://127.0.0.1:{port}")
    refused = run_cli(["steps=3", f"tracking.uri={uri}"], tmp_path, env=ENVIRONMENT, check=False)
    assert refused.returncode == 3 and f"http://***@127.0.0.1:{port} cannot be reached" in refused.stderr
    database = run_cli(["steps=3", f"tracking.uri=postgresql://alice:{PASSWORD}@127.0.0.1:{port}/mlflow"], tmp_path,
                       env=ENVIRONMENT, check=False)
    assert database.returncode in (2, 3) and "postgresql://***@127.0.0.1" in database.stderr
    assert f"nothing listens at 127.0.0.1:{port}" in database.stderr  # at once, not after MLflow's 100 s of retries
    spooled = run_cli(["steps=3", "tracking.spool=true", "tracking.retry_timeout=0", f"tracking.uri={uri}",
                       "tracking.experiment=offline"], tmp_path, env=ENVIRONMENT, check=False)
    assert spooled.returncode == 3 and "Traceback" not in spooled.stderr
    assert_nowhere(refused.stdout, refused.stderr, database.stdout, database.stderr, spooled.stdout, spooled.stderr,
                   folders=(tmp_path,))
    spool = tmp_path / "mlflow-spool"
    without = run_cli([str(spool)], tmp_path, module="experiments.sync", check=False)
    assert without.returncode == 1 and "had credentials, which are never stored" in without.stderr
    with MlflowServer(tmp_path / "server", port=port) as server:
        synced = run_cli([str(spool)], tmp_path, module="experiments.sync",
                         env={**ENVIRONMENT, "MLFLOW_TRACKING_URI": uri})
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=server.uri)
        [run] = all_runs(client)
        assert run.info.status == "FINISHED" and f"run {run.info.run_id}: " in synced.stdout
        assert_nowhere(synced.stdout, synced.stderr, without.stderr, recorded_text(client),
                       folders=(tmp_path / "server" / "artifacts",))
