"""What a run minimises and with what: the objective, its parameter tensors, the optimizer and the LR scheduler,
built from the config (and so checked) before any MLflow run exists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from plugin_registry import LR_SCHEDULERS, OPTIMIZERS, PluginLoadError, UnknownNameError

from .config import plain
from .errors import ConfigError


@dataclass
class Problem:
    """Everything a run needs, built (and so validated) before the MLflow run exists."""

    objective: object
    params: dict  # name -> autodiff tensor
    optimizer: object
    scheduler: object | None
    target: float | None = None  # the loss at or below which a study's run meets its target (experiments.studies)
    noise: object | None = None  # the GradientNoise added to every gradient (objective.gradient_noise > 0), or None


def build_problem(cfg) -> Problem:
    """Objective, parameter tensors, optimizer and scheduler from ``cfg``; a ConfigError for any user mistake,
    including one that only its first step shows (:mod:`experiments.first_step`)."""
    import autodiff as ad

    from . import first_step, objectives
    from .objectives import gradient_noise
    from .studies.targets import run_threshold

    ad.manual_seed(int(cfg.seed))
    objective = objectives.build(cfg.objective)
    problem = _problem_for(cfg, objective)
    first_step.check(cfg, lambda: _problem_for(cfg, objective))
    problem.target = run_threshold(cfg, objective)
    problem.noise = gradient_noise.for_run(gradient_noise.split(plain(cfg.objective))[1], int(cfg.seed))
    return problem


def _problem_for(cfg, objective) -> Problem:
    import autodiff as ad

    from .signatures import check_arguments

    dtype = {"float32": ad.float32, "float64": ad.float64}[cfg.dtype]
    with np.errstate(over="ignore"):  # a start beyond the dtype's range is reported by first_step, with numbers
        params = {name: ad.tensor(np.asarray(value), dtype=dtype, requires_grad=True)
                  for name, value in objective.initial_params().items()}
    optimizer_cfg = plain(cfg.optimizer)
    name = optimizer_cfg.pop("name", None)
    optimizer_cfg.pop("default_lr", None)
    try:
        check_arguments(OPTIMIZERS.get(name), optimizer_cfg, "optimizer")
        optimizer = OPTIMIZERS.create(name, list(params.values()), **optimizer_cfg)
    except ConfigError:
        raise
    except (UnknownNameError, PluginLoadError) as error:
        raise ConfigError(f"optimizer={name}: {error}") from None
    except Exception as error:  # noqa: BLE001 - whatever the constructor refuses is the user's hyperparameter
        raise ConfigError(f"optimizer={name} (lr={optimizer_cfg.get('lr')!r}): {type(error).__name__}: {error}. "
                          f"Its hyperparameters are set as lr=... and optimizer.<name>=...") from None
    scheduler = build_scheduler(cfg.get("scheduler"), optimizer)
    return Problem(objective, params, optimizer, scheduler)


def build_scheduler(scheduler_cfg, optimizer):
    if not scheduler_cfg:
        return None
    from .signatures import check_arguments

    options = plain(scheduler_cfg)
    name = options.pop("name", None)
    if not isinstance(name, str):
        raise ConfigError(f"scheduler.name={name!r} is not a scheduler's name. "
                          f"Available: {', '.join(LR_SCHEDULERS.available())}.")
    try:  # the built-ins and plugins of the entry-point group autodiff.lr_schedulers, any case
        cls = LR_SCHEDULERS.get(name)
    except UnknownNameError as error:
        raise ConfigError(f"scheduler.name={name!r}: {error}") from None
    except PluginLoadError as error:
        raise ConfigError(f"scheduler={name}: {error}") from error
    check_arguments(cls, options, "scheduler")
    try:
        return cls(optimizer, **options)
    except Exception as error:  # noqa: BLE001 - whatever the constructor refuses is the user's option
        raise ConfigError(f"scheduler={name} with {_describe(options)}: {type(error).__name__}: {error}") from None


def _describe(options: Mapping) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in options.items()) or "no options"
