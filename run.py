"""Minimise an objective with an optimizer and record every step in MLflow.

    python run.py optimizer=adam lr=0.1                  # one run
    python run.py -m optimizer=sgd,adam lr=0.001,0.01    # a sweep: a parent run and a child run per job

The configuration is ``configs/`` (see configs/config.yaml); the work is :func:`experiments.runner.run`.
"""

import sys

import hydra

from experiments import plugin_configs
from experiments.errors import UserError

plugin_configs.register()


@hydra.main(version_base="1.3", config_path="configs", config_name="config")
def main(cfg) -> float:
    """Returns the final loss (the mean over ``repeats`` seeds), the value Hydra's sweepers minimise."""
    from experiments.jobs import run_job

    try:
        return run_job(cfg)
    except UserError as error:
        fail(error)


def fail(error: UserError):
    """A bad config, an unreachable store, ...: the message alone, no traceback, the error's exit code."""
    print(f"Error: {error}", file=sys.stderr)
    sys.exit(error.exit_code)


if __name__ == "__main__":
    from experiments.preflight import check_choices

    try:
        check_choices(sys.argv[1:])
    except UserError as error:
        fail(error)
    main()
