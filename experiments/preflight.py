"""Checks of the command line made before Hydra composes the config.

A group choice that names nothing (``optimizer=adamm``) or a plugin that fails to import (``optimizer=broken``)
would otherwise surface as Hydra's "Could not find 'optimizer/adamm'" with its search path; here it gets the
registry's one-paragraph error instead: the closest name, the available ones, or the plugin's distribution, entry
point and import error. Sweep values (``optimizer=sgd,adam``) are checked one by one; Hydra's sweep functions and
interpolations (``choice(...)``, ``${...}``) are left to Hydra.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ConfigError


def _optimizer(name: str) -> None:
    from optimizers import registry

    try:
        registry.get(name)
    except (registry.UnknownNameError, registry.PluginLoadError) as error:
        raise ConfigError(f"optimizer={name}: {error}") from None


def _objective(name: str) -> None:
    from . import objectives

    objectives.get(name)  # a ConfigError naming the choices, or the plugin's import error


CHECKS = {"optimizer": _optimizer, "objective": _objective}


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
