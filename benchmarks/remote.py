"""What an ``mlflow server`` takes, and how close the runner gets to it.

    python benchmarks/remote.py [--steps 3000] [--points 60000]

Starts a real ``mlflow server`` (its own SQLite backend in a temporary folder, 127.0.0.1, a free port, always
stopped), then in this one process:

- the server's rate: the same points sent as ``log_batch`` requests of 1,000 points (MLflow's limit), with 1, 2 and
  4 requests in flight (threads, each with its own client);
- the runner: ``run(cfg)`` for Adam on ``seed`` with ``tracking.uri`` the server (its writer sends one request at
  a time, each of 1,000 points), points a second, and its ratio to the server's best rate.

The server and this process share the machine's cores: read the ratios.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the tests' server fixture: one way to start and stop a server

LIMIT = 1000  # points per log_batch request


def server_rate(uri: str, experiment_id: str, points: int, in_flight: int) -> float:
    """Points a second for ``points`` points in requests of 1,000, ``in_flight`` at a time."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    run_id = client.create_run(experiment_id, run_name=f"log_batch, {in_flight} in flight").info.run_id
    now = int(time.time() * 1000)
    batches = [[Metric(f"Group/k{i % 21}", float(i), now, i // 21) for i in range(start, start + LIMIT)]
               for start in range(0, points, LIMIT)]
    clients = [MlflowClient(uri) for _ in range(in_flight)]

    def send(index: int) -> None:
        clients[index % in_flight].log_batch(run_id, metrics=batches[index], synchronous=True)

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(send, range(len(batches))))
    elapsed = time.perf_counter() - start
    client.set_terminated(run_id)
    return points / elapsed


def runner_rate(uri: str, work: Path, steps: int) -> tuple[float, int]:
    """(points a second, points) of a full run against the server."""
    from mlflow.tracking import MlflowClient

    from runner import timed_run  # benchmarks/runner.py: compose and run in this process

    elapsed, result = timed_run(work, f"steps={steps}", f"tracking.uri={uri}", "tracking.experiment=remote-runner",
                                "logging.plots=false")
    client = MlflowClient(uri)
    run = client.get_run(result.run_id)
    points = sum(len(client.get_metric_history(result.run_id, key)) for key in run.data.metrics)
    return points / elapsed, points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--points", type=int, default=60_000)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from mlflow.tracking import MlflowClient

    from support.mlflow_server import MlflowServer

    with tempfile.TemporaryDirectory(prefix="remote-bench-") as scratch, MlflowServer(Path(scratch) / "server") as server:
        experiment_id = MlflowClient(server.uri).create_experiment("remote-log-batch")
        rates = {k: server_rate(server.uri, experiment_id, args.points, k) for k in (1, 2, 4)}
        work = Path(scratch) / "work"
        work.mkdir()
        full, points = runner_rate(server.uri, work, args.steps)
    print(f"mlflow server (SQLite backend, one worker) on 127.0.0.1; {args.points:,} points a setting")
    for k, rate in rates.items():
        print(f"  log_batch of {LIMIT:,}, {k} in flight       {rate:10,.0f} points a second")
    best = max(rates.values())
    print(f"  full run, Adam on seed, {args.steps:,} steps ({points:,} points) {full:10,.0f} points a second")
    print(f"  full run / best server rate               {full / best:10.2f}")
    print(f"  full run / one request in flight          {full / rates[1]:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
