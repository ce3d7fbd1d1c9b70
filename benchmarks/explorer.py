"""What building the trajectory explorer costs, against the run it shows, and how big the pages are.

    python benchmarks/explorer.py [--steps 1000] [--rounds 3]

For each case, in one process on one fresh SQLite store (in a temporary directory): ``run(cfg)`` with full per-step
logging (the page built and logged inside it), then the page built again from the run's trajectory (median of
``--rounds``), and its size. Then a sweep's comparison page: 8 runs of 2-D Rosenbrock, built from the store as the
sweep's parent does. Target: page / run < 10%, a run's page < 3 MB, a comparison of 8 x 1,000 steps < 5 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = {
    "Adam on Rosenbrock (2-D)": ["optimizer=adam", "objective=rosenbrock", "lr=0.01"],
    "SGD on logistic regression (minibatches)": ["optimizer=sgd", "objective=logistic_regression", "lr=0.1"],
    "Adam on a 100-D quadratic": ["optimizer=adam", "objective=quadratic", "objective.dim=100", "lr=0.01"],
}


def compose(*overrides: str):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=list(overrides))


def one_case(directory: Path, overrides: list[str], rounds: int) -> tuple[float, float, int]:
    """(run seconds, page seconds, page bytes)."""
    from experiments import explorer, objectives, trajectory
    from experiments.runner import run

    cfg = compose(*overrides, f"tracking.uri=sqlite:///{directory / 'mlflow.db'}")
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        result = run(cfg, overrides=overrides, launch_dir=directory)
    run_seconds = time.perf_counter() - start
    arrays = trajectory.load(result.run_id, result.tracking_uri)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        objective = objectives.build(cfg.objective)
        page = explorer.run_page(directory / "page.html", arrays, cfg, objective, result.run_id, "bench")
        times.append(time.perf_counter() - start)
    return run_seconds, statistics.median(times), page.stat().st_size


def comparison(directory: Path, steps: int) -> tuple[float, int]:
    """(seconds, bytes) of the comparison page of 8 runs of ``steps`` steps on Rosenbrock."""
    from experiments import explorer
    from experiments.runner import run
    from experiments.tracking import open_client

    runs = []
    for optimizer in ("sgd", "adam", "rmsprop", "lion"):
        for lr in ("0.002", "0.005"):
            overrides = [f"optimizer={optimizer}", f"lr={lr}", "objective=rosenbrock", f"steps={steps}",
                         "logging.metrics=false", "tracking.experiment=sweep"]
            cfg = compose(*overrides, f"tracking.uri=sqlite:///{directory / 'mlflow.db'}")
            with contextlib.redirect_stdout(io.StringIO()):
                runs.append(run(cfg, overrides=overrides, launch_dir=directory).run_id)
    client = open_client(f"sqlite:///{directory / 'mlflow.db'}")
    entities = [client.get_run(r) for r in runs]
    start = time.perf_counter()
    trajectories, missing = explorer.load(client, entities)
    page = explorer.comparison_page(trajectories, directory / "comparison.html", missing=missing)
    return time.perf_counter() - start, page.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'case':44} {'run':>8} {'page':>8} {'ratio':>7} {'size':>9}")
    for name, overrides in CASES.items():
        with tempfile.TemporaryDirectory() as scratch:
            run_s, page_s, size = one_case(Path(scratch), [*overrides, f"steps={args.steps}"], args.rounds)
        print(f"{name:44} {run_s:7.2f}s {page_s:7.2f}s {page_s / run_s:6.1%} {size / 1e6:7.2f}MB", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        seconds, size = comparison(Path(scratch), args.steps)
    print(f"{'comparison page, 8 runs on Rosenbrock':44} {'':8} {seconds:7.2f}s {'':7} {size / 1e6:7.2f}MB")


if __name__ == "__main__":
    main()
