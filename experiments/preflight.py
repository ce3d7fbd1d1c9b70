"""Checks of the command line made before Hydra composes the config.

A group choice that names nothing (``optimizer=adamm``) or a plugin that fails to import (``optimizer=broken``)
would otherwise surface as Hydra's "Could not find 'optimizer/adamm'" with its search path; here it gets the
registry's one-paragraph error instead: the closest name, the available ones, or the plugin's distribution, entry
point and import error. Sweep values (``optimizer=sgd,adam``) are checked one by one; Hydra's sweep functions and
interpolations (``choice(...)``, ``${...}``) are left to Hydra.
"""

from __future__ import annotations

from collections.abc import Iterable

from plugin_registry import OPTIMIZERS, PluginLoadError, UnknownNameError

from .errors import ConfigError

REQUIRED_GROUPS = ("optimizer", "objective", "tracking", "logging", "checkpoint")
OPTIONAL_GROUPS = ("scheduler", "experiment", "hparams_search")  # null in configs/config.yaml's defaults


def _optimizer(name: str) -> None:
    try:
        OPTIMIZERS.get(name)
    except (UnknownNameError, PluginLoadError) as error:
        raise ConfigError(f"optimizer={name}: {error}") from None


def _objective(name: str) -> None:
    from pathlib import Path

    from . import objectives

    folder = Path(__file__).resolve().parent.parent / "configs" / "objective"
    if (folder / f"{name}.yaml").is_file():
        return  # a config of its own (noisy_rosenbrock: rosenbrock with noisy gradients); its name: is checked later
    try:
        objectives.get(name)  # a ConfigError naming the registered choices, or the plugin's import error
    except ConfigError as error:
        registered = set(objectives.available())
        variants = sorted(p.stem for p in folder.glob("*.yaml") if p.stem.lower() not in registered)
        if variants and f"Unknown objective {name!r}" in str(error):
            raise ConfigError(f"{error} Variants set up by a config of their own (configs/objective/): "
                              f"{', '.join(variants)}.") from None
        raise


CHECKS = {"optimizer": _optimizer, "objective": _objective}


def _available(group: str) -> str:
    if group == "optimizer":
        return ", ".join(OPTIMIZERS.available())  # from metadata: no optimizer is imported
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "configs" / group
    return ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))


def normalise(argv: Iterable[str]) -> list[str]:
    """``argv`` with ``scheduler=null`` (an optional group turned off) written as Hydra's ``~scheduler``; a
    ConfigError for ``optimizer=null`` and the like (a run needs one)."""
    out = []
    for argument in argv:
        key, sep, value = argument.partition("=")
        group = key.lstrip("+")
        if sep and value.strip().lower() in ("null", "none", "~") and group in OPTIONAL_GROUPS + REQUIRED_GROUPS:
            if group in REQUIRED_GROUPS:
                raise ConfigError(f"{argument} is not allowed: a run needs a choice of {group}. Available: "
                                  f"{_available(group)}.")
            argument = f"~{group}"
        out.append(argument)
    return out


def check_choices(argv: Iterable[str]) -> None:
    """Raise ConfigError for the first ``optimizer=``/``objective=`` value of ``argv`` that is not usable."""
    for argument in argv:
        key, sep, value = argument.partition("=")
        check = CHECKS.get(key.lstrip("+"))
        if not sep or check is None or any(c in value for c in "()[]{}$'\"\\"):
            continue
        for name in value.split(","):
            name = name.strip()
            if name and name != "null":
                check(name)


def check_spool_dir(root, key: str = "tracking.spool_dir") -> None:
    """A ConfigError, before any run exists, when the spool folder (where a run keeps what the store has not taken
    yet) could not hold anything: a file, a folder that cannot be written (``/proc``, a read-only mount). The
    folders made for the check are removed again when they are empty.

    The jobs of a parallel sweep check the same folder at once: another job may make it, or remove the one it made,
    between any two steps of this check, which then starts again."""
    from pathlib import Path

    root = Path(root)
    allowed = ("Allowed: a folder that can be created and written to (null: mlflow-spool/ in the directory the "
               "command is run from).")
    made: list[Path] = []
    try:
        for attempt in range(20):
            try:
                _make_and_write(root, made)
                return
            except (FileNotFoundError, FileExistsError):
                if attempt == 19:
                    raise
    except _NotAFolder as found:
        raise ConfigError(f"{key}={root} is not allowed: {found.path} is a file, not a folder. {allowed}") from None
    except OSError as error:
        reason = f"{error.strerror or error}: {error.filename or root}"
        raise ConfigError(f"{key}={root} is not allowed: a run could not keep its records there ({reason}). "
                          f"{allowed}") from None
    finally:
        _remove_if_empty(made)


class _NotAFolder(Exception):
    def __init__(self, path) -> None:
        super().__init__(str(path))
        self.path = path


def _make_and_write(root, made: list) -> None:
    """Make the folders of ``root`` that are missing (those this call makes are added to ``made``, shallowest
    first), then create and delete a file in it."""
    import os
    import stat
    import tempfile

    missing = []
    folder = root
    while True:
        try:
            mode = os.stat(folder).st_mode
        except FileNotFoundError:
            missing.append(folder)
            folder = folder.parent
            continue
        if not stat.S_ISDIR(mode):
            raise _NotAFolder(folder)
        break
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
            made.append(folder)
        except FileExistsError:  # made by another job meanwhile (or a file: writing into it below says so)
            pass
    with tempfile.TemporaryFile(dir=root):
        pass


def _remove_if_empty(made: list) -> None:
    import os

    for folder in reversed(made):  # deepest first
        try:
            os.rmdir(folder)
        except FileNotFoundError:  # removed by another job already
            continue
        except OSError:  # not empty: another job's file, or a run's spool
            break


def check_sweep_jobs(config) -> None:
    """Compose and check every job of a sweep of Hydra's basic sweeper (``-m lr=0.1,0.01 ...``) before its parent
    run exists: a value that only one job has (``scheduler=step,unknown``, ``optimizer.betas=[0.9,0.99],[0.9]``) is
    then the same one-paragraph error as in a single run, and nothing is created. Other sweepers (Optuna) choose
    their values as they go: their jobs are checked when they start. A study's sweeper (``hydra/sweeper: study``)
    runs the same grid, its learning-rate factors included (``study.search``); its ``study.held_out_seeds`` must be
    seeds none of the grid's jobs uses."""
    from hydra import compose
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from .config import validate
    from .hydra_errors import translate
    from .runner import build_problem

    from .plugin_configs import STUDY_SWEEPER
    from .studies.held_out import check_seeds, held_out_seeds
    from .studies.search import with_lr_factors

    sweeper = config.hydra.sweeper
    target = str(sweeper.get("_target_", ""))
    if not target.endswith("BasicSweeper") and target != STUDY_SWEEPER:
        return
    held_out = held_out_seeds(config.get("study")) if target == STUDY_SWEEPER else []
    seeds: set[int] = set()
    params = sweeper.get("params")
    params = OmegaConf.to_container(params, resolve=False) if params else {}
    task = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)
    if target == STUDY_SWEEPER:
        params = with_lr_factors(config.get("study"), params, task)  # the factors the study sweeper sweeps
    overrides = [f"{k}={v}" for k, v in params.items()] + task
    try:
        [jobs] = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(overrides), None)
        for job in jobs:
            job_cfg = compose(config_name=config.hydra.job.config_name, overrides=job)
            validate(job_cfg)
            build_problem(job_cfg)
            seeds.update(range(int(job_cfg.seed), int(job_cfg.seed) + int(job_cfg.repeats)))
    except (HydraException, OmegaConfBaseException) as error:
        raise translate(error) from None
    check_seeds(held_out, seeds)
