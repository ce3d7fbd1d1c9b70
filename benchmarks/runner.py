"""How much the runner's MLflow logging costs, against the store's own limit and against naive logging.

    python benchmarks/runner.py [--steps 10000] [--naive-steps 200]

In one process, on one fresh SQLite store (in a temporary directory):

- full: ``run(cfg)`` for Adam on ``seed``, every step's metrics logged (loss, grad_norm, lr, params, grads, Adam's
  state: 21 metrics a step), plus the trajectory artifact and plots;
- off: the same run with ``logging=off`` (no per-step metrics, no trajectory, no plots);
- bare log_batch: the same points, prebuilt, sent with ``MlflowClient.log_batch`` in batches of 1000 (the store's own
  limit: what MLflow's API costs);
- fast path: the same points through :func:`experiments.tracking.bulk.log_points` in batches of 10,000 (what the
  runner uses on an SQLite store, which gets what waited while its last write ran);
- raw insert (the floor): the same rows into the ``metrics`` table with one ``executemany`` of sqlite3 in one
  transaction, no ``latest_metrics``: what the database itself takes;
- naive: one ``log_metric`` call per point, on ``--naive-steps`` steps, extrapolated to the full point count.

Targets: the full run writes at least 100,000 points a second and at least 8 x bare log_batch's rate, and naive
>= 30 x full. Then start-up, as a user sees it:
``python run.py steps=1`` against an existing store and against a fresh one (MLflow's schema migration).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def compose(*overrides: str):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=list(overrides))


def timed_run(directory: Path, *overrides: str):
    from experiments.runner import run

    cfg = compose("optimizer=adam", "objective=seed", *overrides)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        result = run(cfg, overrides=list(overrides), launch_dir=directory)
    return time.perf_counter() - start, result


def points_of(client, run_id: str):
    """Every metric point of a run, as MLflow entities (read back, so exactly what the full run wrote), in the order
    the run logged them (step by step: the store's cost depends on how many keys a batch spans)."""
    run = client.get_run(run_id)
    points = []
    for key in run.data.metrics:
        points.extend(client.get_metric_history(run_id, key))
    return sorted(points, key=lambda p: p.step)


def bare_log_batch(client, experiment_id: str, points) -> float:
    from mlflow.entities import Metric

    run_id = client.create_run(experiment_id, run_name="bare log_batch").info.run_id
    metrics = [Metric(p.key, p.value, p.timestamp, int(p.step)) for p in points]
    start = time.perf_counter()
    for i in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[i:i + 1000], synchronous=True)
    elapsed = time.perf_counter() - start
    client.set_terminated(run_id)
    return elapsed


def fast_path(client, experiment_id: str, points) -> float:
    from experiments.tracking.bulk import log_points

    run_id = client.create_run(experiment_id, run_name="fast path").info.run_id
    rows = [(p.key, p.value, p.timestamp, int(p.step)) for p in points]
    start = time.perf_counter()
    for i in range(0, len(rows), 10_000):
        log_points(client, run_id, rows[i:i + 10_000])
    elapsed = time.perf_counter() - start
    client.set_terminated(run_id)
    return elapsed


def raw_insert(client, experiment_id: str, points, database: Path) -> float:
    import math
    import sqlite3

    run_id = client.create_run(experiment_id, run_name="raw insert").info.run_id
    rows = [(p.key, 0.0 if math.isnan(p.value) else p.value, p.timestamp, run_id, int(p.step), math.isnan(p.value))
            for p in points]
    start = time.perf_counter()
    with sqlite3.connect(database) as connection:
        connection.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
                               "VALUES (?, ?, ?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - start
    client.set_terminated(run_id)
    return elapsed


def naive_log_metric(client, experiment_id: str, points, count: int) -> float:
    run_id = client.create_run(experiment_id, run_name="naive log_metric").info.run_id
    start = time.perf_counter()
    for p in points[:count]:
        client.log_metric(run_id, p.key, p.value, timestamp=p.timestamp, step=int(p.step))
    elapsed = time.perf_counter() - start
    client.set_terminated(run_id)
    return elapsed


def startup(directory: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "run.py"), "steps=1"], cwd=directory, env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--naive-steps", type=int, default=200)
    args = parser.parse_args()

    from experiments.tracking import open_client

    with tempfile.TemporaryDirectory(prefix="bench-runner-") as tmp:
        directory = Path(tmp)
        timed_run(directory, "steps=1", "tracking.experiment=warm-up")  # creates the store: not timed
        off, _ = timed_run(directory, f"steps={args.steps}", "logging=off")
        full, result = timed_run(directory, f"steps={args.steps}")
        client = open_client(result.tracking_uri)
        points = points_of(client, result.run_id)
        per_step = len(points) / (args.steps + 1)
        bare = bare_log_batch(client, result.experiment_id, points)
        fast = fast_path(client, result.experiment_id, points)
        raw = raw_insert(client, result.experiment_id, points, directory / "mlflow.db")
        naive_count = int(per_step * args.naive_steps)
        naive = (naive_log_metric(client, result.experiment_id, points, naive_count) * len(points) / naive_count
                 if naive_count else float("nan"))

        existing = startup(directory)
        fresh_dir = directory / "fresh"
        fresh_dir.mkdir()
        fresh = startup(fresh_dir)

    n = len(points)
    print(f"Adam on seed, {args.steps} steps, {n} points ({per_step:.0f} a step), SQLite store")
    rows = [("full logging (run(cfg))", full), ("logging off", off), ("bare log_batch of the same points", bare),
            ("fast path (bulk.log_points)", fast), ("raw sqlite3 executemany (floor)", raw)]
    for label, seconds in rows:
        print(f"  {label:36s} {seconds:8.2f} s")
    print(f"  naive log_metric (extrapolated)      {naive:8.2f} s   (measured on {naive_count} points)")
    print(f"points a second: full run {n / full:,.0f}; bare log_batch {n / bare:,.0f}; fast path {n / fast:,.0f}; "
          f"raw insert {n / raw:,.0f}")
    print(f"  full run / bare log_batch (rate)     {bare / full:8.1f}   (target >= 8)")
    print(f"  fast path / bare log_batch (rate)    {bare / fast:8.1f}")
    print(f"  raw insert / fast path (rate)        {fast / raw:8.1f}")
    print(f"  naive / full                         {naive / full:8.1f}   (target >= 30)")
    print(f"start-up, python run.py steps=1:  existing store {existing:.2f} s, fresh store {fresh:.2f} s")


if __name__ == "__main__":
    main()
