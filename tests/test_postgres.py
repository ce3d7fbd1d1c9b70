"""Runs on a real PostgreSQL: named directly by ``tracking.uri=postgresql://...`` and behind an ``mlflow server
--backend-store-uri postgresql://...`` (the set-up docs/tracking.md gives teams); every point read back with
MlflowClient.
A run named straight at PostgreSQL writes through log_batch and says so in one line; the password in the URI is
never printed."""

from __future__ import annotations

import sys

import pytest

from tests.runner_support import every_point_present, run_cli, run_id_from
from tests.support.mlflow_server import MlflowServer
from tests.support.postgres import PASSWORD, PostgresServer, binaries

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(binaries() is None, reason="PostgreSQL is not installed (apt-get install postgresql)")]
STEPS = 3


@pytest.fixture(scope="module")
def postgres():
    pytest.importorskip("psycopg", reason="the PostgreSQL driver is the test extra's psycopg[binary]")
    with PostgresServer() as server:
        yield server


class PostgresBackedServer(MlflowServer):
    def __init__(self, root, backend: str) -> None:
        super().__init__(root)
        self.backend = backend

    def command(self) -> list[str]:
        return [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(self.port),
                "--backend-store-uri", self.backend, "--artifacts-destination", str(self.root / "artifacts"),
                "--workers", "1"]


def client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def test_a_run_named_straight_at_postgresql_writes_every_point_through_log_batch(postgres, tmp_path):
    done = run_cli([f"tracking.uri={postgres.uri}", f"steps={STEPS}", "tracking.experiment=direct"], cwd=tmp_path)
    output = done.stdout + done.stderr
    assert PASSWORD not in output
    notices = [line for line in done.stderr.splitlines() if "log_batch" in line]
    assert notices == ["Metrics are written through MLflow's log_batch (the fast path covers SQLite stores, not "
                       "postgresql)."], done.stderr
    run_id = run_id_from(done.stdout)
    counts = every_point_present(client(postgres.uri), run_id, STEPS)
    assert counts["Objective/loss"] == STEPS + 1


def test_an_mlflow_server_on_postgresql_stores_every_point(postgres, tmp_path):
    with PostgresBackedServer(tmp_path / "server", postgres.uri) as server:
        done = run_cli([f"tracking.uri={server.uri}", f"steps={STEPS}", "tracking.experiment=served"], cwd=tmp_path)
        assert "log_batch" not in done.stderr  # a server is written through its own API, silently
        run_id = run_id_from(done.stdout)
        every_point_present(client(server.uri), run_id, STEPS)
        every_point_present(client(postgres.uri), run_id, STEPS)  # in PostgreSQL itself
    assert PASSWORD not in server.log_path.read_text()
