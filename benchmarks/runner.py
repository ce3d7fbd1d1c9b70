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
>= 30 x full. Then start-up, as a user sees it, each a process of its own:

- ``python run.py steps=1`` on an existing store against ``python -c "import mlflow"``, in turn, ``--rounds`` times
  (medians, and the median of each round's ratio: a neighbour's load falls on both alike); target ratio <= 1.5;
- ``python run.py steps=1`` on a fresh store (MLflow creates and migrates the schema, once per store);
- the peak memory (the process's maximum resident set, from ``wait4``) of a default run, ``python run.py`` (100
  steps), against that of ``import mlflow`` alone; target <= 200 MB.
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


# A small process that runs the command and reports its wall time, peak memory and CPU time: the benchmark's own
# process is large by then, and a child started from it (fork, then exec) counts the parent's peak as its own.
MEASURE = """
import os, subprocess, sys, time
start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(process.pid, 0)
elapsed = time.perf_counter() - start
sys.stderr.write(process.stderr.read().decode())
print(os.waitstatus_to_exitcode(status), elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)
"""


def command(args: list[str], directory: Path) -> tuple[float, float, float]:
    """(wall seconds, peak resident memory in MB, CPU seconds) of ``python *args`` run in ``directory``, a process
    of its own."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    done = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, *args], cwd=directory, env=env,
                          capture_output=True, text=True, check=True)
    code, elapsed, peak, cpu = done.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"python {' '.join(args)} failed:\n{done.stderr}")
    return float(elapsed), float(peak), float(cpu)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def startup(directory: Path, rounds: int) -> dict:
    """Start-up of ``python run.py steps=1`` on the existing store in ``directory`` against ``import mlflow``, in
    turn; one run on a fresh store; the peak memory of a default run and of ``import mlflow``."""
    run_py = str(ROOT / "run.py")
    command(["-c", "import mlflow"], directory)  # warm the file cache for both
    mlflow_times, run_times, cpu_ratios, mlflow_peak = [], [], [], 0.0
    for _ in range(rounds):
        seconds, mlflow_peak, mlflow_cpu = command(["-c", "import mlflow"], directory)
        mlflow_times.append(seconds)
        seconds, _, run_cpu = command([run_py, "steps=1"], directory)
        run_times.append(seconds)
        cpu_ratios.append(run_cpu / mlflow_cpu)
    fresh_dir = directory / "fresh"
    fresh_dir.mkdir()
    fresh = command([run_py, "steps=1"], fresh_dir)[0]
    default_seconds, default_peak, _ = command([run_py], directory)
    return {"mlflow": median(mlflow_times), "run": median(run_times), "fresh": fresh, "rounds": rounds,
            "ratio": median([r / m for r, m in zip(run_times, mlflow_times)]), "mlflow_peak": mlflow_peak,
            "default_peak": default_peak, "cpu_ratio": median(cpu_ratios), "default_seconds": default_seconds,
            "range": (min(r / m for r, m in zip(run_times, mlflow_times)),
                      max(r / m for r, m in zip(run_times, mlflow_times)))}


def print_startup(found: dict) -> None:
    low, high = found["range"]
    print(f"start-up, python run.py steps=1 against python -c 'import mlflow' ({found['rounds']} rounds in turn, "
          f"medians):")
    print(f"  existing store {found['run']:.2f} s, import mlflow {found['mlflow']:.2f} s: ratio {found['ratio']:.2f} "
          f"(rounds {low:.2f}-{high:.2f}; target <= 1.5)")
    print(f"  CPU time (user + system) ratio {found['cpu_ratio']:.2f} (median of rounds; less sensitive to load)")
    print(f"  fresh store (schema created and migrated) {found['fresh']:.2f} s")
    print(f"peak memory: python run.py (100 steps) {found['default_peak']:.0f} MB in {found['default_seconds']:.2f} s; "
          f"import mlflow alone {found['mlflow_peak']:.0f} MB (target <= 200 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--naive-steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7, help="start-up rounds (run.py and import mlflow in turn)")
    parser.add_argument("--startup-only", action="store_true", help="measure start-up and memory only")
    args = parser.parse_args()
    if args.startup_only:
        with tempfile.TemporaryDirectory(prefix="bench-runner-") as tmp:
            command([str(ROOT / "run.py"), "steps=1"], Path(tmp))  # creates the store: not timed
            print_startup(startup(Path(tmp), args.rounds))
        return

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

        started = startup(directory, args.rounds)

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
    print_startup(started)


if __name__ == "__main__":
    main()
