"""Objectives the runner minimises, found by name through the entry-point group ``autodiff.objectives``.

The built-ins travel the same road as plugins: each is an entry point of this project's distribution
(``pyproject.toml``), discovered from installed metadata and imported only when chosen. A plugin distribution
adds one line to its own ``pyproject.toml``::

    [project.entry-points."autodiff.objectives"]
    my_function = "my_package.objectives:MyFunction"

where ``MyFunction`` subclasses :class:`~experiments.objectives.base.Objective` (or is a factory returning
one) and takes its config keys as keyword arguments; ``objective=my_function objective.<key>=...`` then selects
it (``+objective.<key>=...`` for keys without a config file).

Example::

    >>> from experiments import objectives
    >>> objective = objectives.build({"name": "rosenbrock", "dim": 2, "init": None})
    >>> objective.initial_params()
    {'x': array([-1.2,  1. ])}
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from plugin_registry import OBJECTIVES, OBJECTIVES_GROUP, PluginLoadError, UnknownNameError

from experiments.errors import ConfigError

from .base import Objective

ENTRY_POINT_GROUP = OBJECTIVES_GROUP

__all__ = ["ENTRY_POINT_GROUP", "Objective", "available", "build", "config_entry", "get", "refresh"]


def available() -> list[str]:
    """The registered objective names, sorted (reads installed metadata only; imports no objective)."""
    return OBJECTIVES.available()


def refresh() -> None:
    """Forget the cached discovery, so objectives installed since the first lookup are seen."""
    OBJECTIVES.refresh()


def get(name: str | type) -> Any:
    """The class (or factory) registered as ``name``; ConfigError listing the choices when there is none."""
    if not isinstance(name, (str, type)):
        raise ConfigError(
            f"objective.name = {name!r} is not allowed: it is not a name. Allowed: {', '.join(available())}."
        )
    try:
        return OBJECTIVES.get(name)
    except UnknownNameError as exc:
        raise ConfigError(f"objective={name}: {exc}") from None
    except PluginLoadError as exc:
        raise ConfigError(f"objective={name}: {exc}") from exc


def _plain(cfg: Mapping) -> dict[str, Any]:
    try:
        from omegaconf import DictConfig, OmegaConf
        from omegaconf.errors import OmegaConfBaseException
    except ImportError:  # the runner extra is not installed: plain mappings only
        return dict(cfg)
    if isinstance(cfg, DictConfig):
        try:
            return OmegaConf.to_container(cfg, resolve=True)
        except OmegaConfBaseException as exc:
            raise ConfigError(f"objective: the config does not resolve: {exc}") from None
    return dict(cfg)


def _check_options(name: str, factory: Any, options: Mapping[str, Any]) -> None:
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin or C callable: let the call decide
        return
    parameters = signature.parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return
    accepted = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ConfigError(
            f"objective.{unknown[0]} is not an option of the objective {name!r}. "
            f"Allowed: {', '.join(accepted) or 'no options'}."
        )


def build(cfg: Mapping) -> Objective:
    """The objective described by the ``objective`` config node: ``name`` plus that objective's keys.

    Raises:
        ConfigError: unknown name (with the choices and the closest one), an unknown key, a bad
            ``gradient_noise`` (:mod:`~experiments.objectives.gradient_noise`), or a value the objective refuses
            (NaN/inf or misshapen ``init``, a malformed expression, ...). Nothing is run.
    """
    from .gradient_noise import split

    options, _ = split(_plain(cfg))  # a runner option of every objective (checked here), not the objective's own
    if "name" not in options:
        raise ConfigError(f"objective has no 'name'. Allowed: one of {', '.join(available())}.")
    name = options.pop("name")
    factory = get(name)
    _check_options(str(name), factory, options)
    objective = factory(**options)
    if not (callable(getattr(objective, "initial_params", None)) and callable(getattr(objective, "loss", None))):
        raise ConfigError(
            f"objective={name} built {objective!r}, which is not an objective (it needs initial_params() and "
            f"loss(params, step); subclass experiments.objectives.Objective)."
        )
    if not getattr(objective, "name", ""):
        objective.name = str(name).lower()
    return objective


def _config_value(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        return [_config_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _config_value(item) for key, item in value.items()}
    raise TypeError(type(value).__name__)


def config_entry(name: str) -> dict[str, Any]:
    """The ``objective`` config node of ``name`` built from its constructor's keyword defaults.

    For plugin objectives that ship no ``configs/objective/<name>.yaml``: registering this node in Hydra's
    ConfigStore makes ``objective=<name> objective.<key>=...`` work as for the built-ins. Defaults a config
    cannot hold (objects, functions) are left out, so they keep their default.
    """
    factory = get(name)
    entry: dict[str, Any] = {"name": str(name).lower()}
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return entry
    for parameter in parameters:
        if parameter.default is inspect.Parameter.empty or parameter.kind in (
            inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD
        ):
            continue
        try:
            entry[parameter.name] = _config_value(parameter.default)
        except TypeError:
            continue
    return entry
