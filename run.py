"""Minimise an objective with an optimizer and record every step in MLflow.

    python run.py optimizer=adam lr=0.1                  # one run
    python run.py -m optimizer=sgd,adam lr=0.001,0.01    # a sweep: a parent run and a child run per job

The configuration is ``configs/`` (see configs/config.yaml); the work is :func:`experiments.runner.run`.
"""

import sys

from experiments import signals, startup

if __name__ == "__main__":  # first, so that Ctrl-C during the imports below is handled too
    signals.install()
    startup.hold()  # no cyclic collection while the libraries load: experiments/startup.py says why

import hydra  # noqa: E402

from experiments import plugin_configs  # noqa: E402
from experiments.errors import UserError, exit_with  # noqa: E402

plugin_configs.register()


@hydra.main(version_base="1.3", config_path="configs", config_name="config")
def main(cfg) -> float:
    """Returns the final loss (the mean over ``repeats`` seeds), the value Hydra's sweepers minimise."""
    from experiments.jobs import run_job

    signals.check()
    try:
        return run_job(cfg)
    except UserError as error:
        fail(error)


def fail(error: UserError):
    """A bad config, an unreachable store, ...: the message alone, no traceback, the error's exit code."""
    exit_with(error)


def cli() -> None:
    """``python run.py ...``: the command line checked, then Hydra; a mistake Hydra finds in the command line or the
    config (an unknown key, a bad override, a missing interpolation, ...) is one paragraph and exit 2 as well."""
    import os

    from experiments import hydra_errors
    from experiments.credentials import take_from_command_line
    from experiments.preflight import check_choices, normalise

    try:
        sys.argv[1:] = take_from_command_line(normalise(sys.argv[1:]))  # Hydra never sees a password
        check_choices(sys.argv[1:])
    except UserError as error:
        fail(error)
    show_tracebacks = os.environ.get("HYDRA_FULL_ERROR") == "1"  # the user asked for Hydra's full traces
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises instead of printing its own report and exiting 1
    try:
        main()
    except Exception as error:
        if show_tracebacks or not hydra_errors.is_config_error(error):
            raise
        fail(hydra_errors.translate(error))


def interrupted(error: KeyboardInterrupt):
    """Ctrl-C or SIGTERM, whatever the phase: the runs it stopped are KILLED; one line, exit 130 or 143."""
    from experiments.callbacks import end_open_parents

    end_open_parents("KILLED")
    signals.exit_interrupted(error)


if __name__ == "__main__":
    try:
        signals.check()
        cli()
        signals.check()  # a signal that came while Hydra itself was busy
    except KeyboardInterrupt as error:
        interrupted(error)
