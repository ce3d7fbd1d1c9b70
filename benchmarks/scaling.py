"""How a run's time grows with its steps and with its parameters, against the loop alone and the points written.

    python benchmarks/scaling.py [--steps 1000,10000,100000] [--features 2,100,10000] [--feature-steps 1000]

In one process, on one fresh SQLite store (in a temporary directory), ``run(cfg)`` for Adam, each case twice: with
full per-step logging (the defaults: metrics, optimizer state, trajectory, plots, the explorer page) and with
``logging=off`` (the loop alone: no per-step metrics, no trajectory, no plots). Cases:

- steps: Adam on ``seed`` (4 coordinates, 21 points a step) for each of ``--steps``;
- parameters: Adam on ``logistic_regression`` with ``objective.n_features`` = each of ``--features`` (one weight
  vector; per-element metrics up to the default ``logging.max_elements`` = 100, summaries beyond), ``--feature-steps``
  steps each.

For each: the points written (counted in the store), both times, their ratio, the full run's points a second, and
the cost of logging per point, (full - off) / points: flat down a column when nothing grows faster than the points.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sqlite3
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


def timed_run(directory: Path, overrides: list[str]):
    from experiments.runner import run

    cfg = compose("optimizer=adam", *overrides)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        result = run(cfg, overrides=overrides, launch_dir=directory)
    elapsed = time.perf_counter() - start
    if result.status != "FINISHED":
        raise SystemExit(f"{' '.join(overrides)}: the run ended {result.status} ({result.failure})")
    return elapsed, result


def points_written(database: Path, run_id: str) -> int:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return connection.execute("SELECT count(*) FROM metrics WHERE run_uuid = ?", (run_id,)).fetchone()[0]


def measure(directory: Path, label: str, overrides: list[str]) -> dict:
    off, _ = timed_run(directory, [*overrides, "logging=off"])
    full, result = timed_run(directory, overrides)
    points = points_written(directory / "mlflow.db", result.run_id)
    return {"case": label, "points": points, "full": full, "off": off}


def print_table(title: str, rows: list[dict]) -> None:
    print(title)
    print(f"  {'case':30s} {'points':>10s} {'full':>9s} {'off':>8s} {'full/off':>9s} {'points/s':>10s} "
          f"{'us/point':>9s}")
    for r in rows:
        extra = (r["full"] - r["off"]) / r["points"] * 1e6 if r["points"] else float("nan")
        print(f"  {r['case']:30s} {r['points']:10,d} {r['full']:8.2f}s {r['off']:7.2f}s {r['full'] / r['off']:9.1f} "
              f"{r['points'] / r['full']:10,.0f} {extra:9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="1000,10000,100000")
    parser.add_argument("--features", default="2,100,10000")
    parser.add_argument("--feature-steps", type=int, default=1000)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} before")
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        directory = Path(tmp)
        timed_run(directory, ["steps=1", "tracking.experiment=warm-up"])  # creates the store: not timed
        by_steps = [measure(directory, f"seed, {int(n):,} steps", ["objective=seed", f"steps={int(n)}"])
                    for n in args.steps.split(",")]
        by_features = [measure(directory, f"logistic, {int(n):,} weights",
                               ["objective=logistic_regression", f"objective.n_features={int(n)}",
                                f"steps={args.feature_steps}"])
                       for n in args.features.split(",")]
    print_table("Adam, by steps (full logging against logging=off)", by_steps)
    print_table(f"Adam, by parameters ({args.feature_steps:,} steps, logging.max_elements=100)", by_features)
    print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} after")


if __name__ == "__main__":
    main()
