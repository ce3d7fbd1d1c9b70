"""Driving ``python run.py`` as a subprocess against a real SQLite store, and reading runs back with MlflowClient."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_PY = ROOT / "run.py"


def run_cli(args: list[str], cwd: Path, env: dict | None = None, check: bool = True, module: str | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """``python run.py *args`` (or ``python -m module *args``) in ``cwd``; stores default to ``cwd/mlflow.db``."""
    environment = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    environment.update(env or {})
    command = [sys.executable, "-m", module, *args] if module else [sys.executable, str(RUN_PY), *args]
    result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def client_for(directory: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{directory / 'mlflow.db'}")


def run_id_from(output: str) -> str:
    """The run id of the summary line ``run <id> finished: ...`` (the last one printed)."""
    lines = [line for line in output.splitlines() if line.startswith("run ")]
    assert lines, f"no summary line in:\n{output}"
    return lines[-1].split()[1]


def history(client, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def all_runs(client) -> list:
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiments, max_results=1000) if experiments else []
