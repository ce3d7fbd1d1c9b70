"""Faults that must neither lose nor delete data, nor leave a run RUNNING: each drives ``python run.py`` as a real
subprocess and reads the store back."""

from __future__ import annotations

import hashlib

import pytest

from runner_support import all_runs, client_for, run_cli, start_cli
from support import stores

pytest.importorskip("mlflow")
pytest.importorskip("hydra")

from experiments.tracking import sqlite as sqlite_store  # noqa: E402


# -- the SQLite store: created once under a lock, repaired, locked by others ------------------------------------------

def healthy(database) -> bool:
    return sqlite_store.read_state(database, 5).ready(sqlite_store.head_revision())


@pytest.mark.slow
def test_runs_started_together_on_a_fresh_folder_all_succeed(tmp_path):
    for round_ in range(3):  # the race struck 8 of 8 runs before the lock: three rounds of six catch it
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        processes = [start_cli(["steps=5", f"seed={i}"], folder) for i in range(6)]
        outputs = [(p.wait(timeout=600), *p.communicate()) for p in processes]
        assert [code for code, _, _ in outputs] == [0] * 6, outputs
        assert not any("Traceback" in err for _, _, err in outputs)
        runs = all_runs(client_for(folder))
        assert sorted(r.info.status for r in runs) == ["FINISHED"] * 6
        assert healthy(folder / "mlflow.db")


def store_with_runs(folder, runs: int):
    """A ready store in ``folder`` (made by this MLflow) holding ``runs`` finished runs."""
    from experiments.tracking import open_client

    client = open_client(f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.create_experiment("kept")
    for _ in range(runs):
        client.set_terminated(client.create_run(experiment).info.run_id, "FINISHED")


@pytest.mark.slow
def test_a_store_whose_migration_was_cut_short_is_rebuilt_when_it_holds_no_run(tmp_path):
    from mlflow.tracking import MlflowClient

    database = tmp_path / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{database}")
    client.search_experiments()  # created by MLflow itself, then broken as a migration race left it
    stores.cut_short_migration(database)
    assert not healthy(database)
    out = run_cli(["steps=5"], tmp_path, check=False)
    assert out.returncode == 0, out.stderr
    assert "held no run but was broken (its schema migration was cut short" in out.stderr
    assert "Traceback" not in out.stderr
    assert healthy(database)
    [run] = all_runs(client_for(tmp_path))
    assert run.info.status == "FINISHED"


@pytest.mark.slow
def test_a_half_migrated_store_with_runs_is_reported_and_left_untouched(tmp_path):
    database = tmp_path / "mlflow.db"
    store_with_runs(tmp_path, 2)
    stores.cut_short_migration(database)
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    out = run_cli(["steps=5"], tmp_path, check=False)
    assert out.returncode == 3, out.stderr
    [error] = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
    assert f"The SQLite store {database} cannot be used: its schema migration was cut short" in error
    assert "leftover tables _alembic_tmp_tags" in error and "holds 2 runs" in error
    assert "mlflow db upgrade" in error and "Traceback" not in out.stderr
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


@pytest.mark.slow
def test_a_locked_store_is_waited_for_then_reported_with_its_holder(tmp_path):
    database = tmp_path / "mlflow.db"
    store_with_runs(tmp_path, 0)
    with stores.locked(database, seconds=600) as holder:
        out = run_cli(["steps=5", "tracking.lock_timeout=1"], tmp_path, check=False)
    assert out.returncode == 3, out.stderr
    [error] = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
    assert f"The SQLite store {database} is locked by another process (process {holder.pid}: " in error
    assert "was still locked after 1 s (tracking.lock_timeout)" in error and "Traceback" not in out.stderr
    assert all_runs(client_for(tmp_path)) == []
    with stores.locked(database, seconds=8):  # released well within the default wait: the run takes its turn
        out = run_cli(["steps=5"], tmp_path, check=False)
    assert out.returncode == 0, out.stderr
    [run] = all_runs(client_for(tmp_path))
    assert run.info.status == "FINISHED"


@pytest.mark.slow
def test_a_store_in_a_read_only_folder_fails_at_once_with_the_reason(tmp_path):
    with stores.tmpfs(tmp_path, read_only=True) as read_only:
        out = run_cli(["steps=5", f"tracking.uri=sqlite:///{read_only}/mlflow.db"], tmp_path, check=False)
        assert out.returncode == 2, out.stderr
        [error] = [line for line in out.stderr.splitlines() if line.startswith("Error: ")]
        assert f"The SQLite store {read_only}/mlflow.db cannot be written: Read-only file system" in error
        assert "Traceback" not in out.stderr and not list(read_only.iterdir())
