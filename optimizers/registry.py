"""Find optimizers by name: the built-ins and any installed plugin, through one entry-point group.

Every optimizer, the project's own included, is an entry point of the group ``autodiff.optimizers``
(``name = "module:Class"`` in a distribution's ``pyproject.toml``). Discovery reads only the installed
distributions' metadata and is cached, so :func:`available` never imports a plugin; a plugin's module is
imported the first time it is chosen (:func:`get` / :func:`create`).

Rules, in the order they apply:

* Names are lower case. Entry-point names are lower-cased on discovery and lookups are case-insensitive
  (``get("Adam") is get("adam")``).
* Two distributions claiming one name: a :class:`DuplicateOptimizerWarning` names both, and the choice is
  deterministic: the project's own distribution (``optimizer-trajectories``) wins over plugins, otherwise the
  distribution whose normalised name sorts first wins. Installation order and ``sys.path`` order do not matter.
* An unknown name raises :class:`UnknownOptimizerError` (both a ``ValueError`` and a ``KeyError``), whose
  message lists the available names and suggests the closest one.
* A plugin whose module fails to import (or whose attribute is missing or not an optimizer class) raises
  :class:`OptimizerPluginError` when it is chosen, naming the distribution, the entry point and the original
  exception (chained as ``__cause__``). Listing and every other optimizer keep working.

Wherever a name is accepted, an optimizer class is accepted too and returned as is.

Example::

    >>> from optimizers import registry
    >>> registry.available()[:3]
    ['adabelief', 'adadelta', 'adafactor']
    >>> opt = registry.create("adam", [w], lr=0.1, betas=[0.9, 0.99])  # lists from configs become tuples
"""

from __future__ import annotations

import difflib
import functools
import inspect
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

ENTRY_POINT_GROUP = "autodiff.optimizers"
# The distribution that ships the built-in optimizers; it wins any name clash.
BUILTIN_DISTRIBUTION = "optimizer-trajectories"

__all__ = [
    "ENTRY_POINT_GROUP",
    "DuplicateOptimizerWarning",
    "OptimizerPluginError",
    "UnknownOptimizerError",
    "Origin",
    "available",
    "coerce_hyperparameters",
    "create",
    "get",
    "origin",
    "refresh",
    "signature_defaults",
]


class UnknownOptimizerError(ValueError, KeyError):
    """No optimizer is registered under the requested name.

    A ``ValueError`` for callers validating a configuration and a ``KeyError`` for callers treating the
    registry as a mapping.
    """

    def __str__(self) -> str:
        # KeyError would otherwise quote the message (str(KeyError("x")) == "'x'").
        return str(self.args[0]) if self.args else ""


class OptimizerPluginError(ImportError):
    """A registered optimizer could not be loaded; the message names its distribution and entry point."""


class DuplicateOptimizerWarning(UserWarning):
    """Two distributions register an optimizer under the same name."""


@dataclass(frozen=True)
class Origin:
    """Where a registered name comes from: ``Origin("adan", "autodiff-optimizer-adan", "0.1.0", "adan = m:Adan")``."""

    name: str
    distribution: str
    version: str
    entry_point: str


def _normalise_distribution(name: str) -> str:
    # PEP 503 normalisation, so "Foo_Bar" and "foo-bar" compare equal and sort the same way.
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:  # entry points built by hand rather than read from metadata
        return "<unknown distribution>", ""
    return dist.name, dist.version


def _describe(ep: EntryPoint) -> str:
    return f"{ep.name} = {ep.value}"


def _precedence(ep: EntryPoint) -> tuple[bool, str]:
    distribution = _normalise_distribution(_distribution(ep)[0])
    return (distribution != BUILTIN_DISTRIBUTION, distribution)


@functools.cache
def _registered() -> dict[str, EntryPoint]:
    """Name -> chosen entry point, from installed metadata only (no plugin is imported here)."""
    claims: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        claims.setdefault(ep.name.lower(), []).append(ep)

    chosen = {}
    for name, eps in sorted(claims.items()):
        eps = sorted(eps, key=_precedence)
        if len(eps) > 1:
            others = ", ".join(
                f"{_distribution(ep)[0]} ({_describe(ep)})" for ep in eps[1:]
            )
            warnings.warn(
                f"Optimizer {name!r} is registered by more than one distribution: "
                f"{_distribution(eps[0])[0]} ({_describe(eps[0])}) and {others}. "
                f"Using the one from {_distribution(eps[0])[0]}.",
                DuplicateOptimizerWarning,
                stacklevel=3,
            )
        chosen[name] = eps[0]
    return chosen


def refresh() -> None:
    """Forget the cached discovery, so distributions installed since the first lookup are seen."""
    _registered.cache_clear()


def available() -> list[str]:
    """The registered optimizer names, sorted; reads metadata only, imports no plugin."""
    return sorted(_registered())


def _entry_point(name: str) -> EntryPoint:
    registered = _registered()
    key = name.lower()
    if key in registered:
        return registered[key]
    names = sorted(registered)
    closest = difflib.get_close_matches(key, names, n=1)
    hint = f" Did you mean {closest[0]!r}?" if closest else ""
    raise UnknownOptimizerError(
        f"Unknown optimizer {name!r}.{hint} Available optimizers: {', '.join(names)}. "
        f"Plugins register more under the entry-point group {ENTRY_POINT_GROUP!r}."
    )


def origin(name: str) -> Origin:
    """The distribution and entry point behind ``name`` (without importing it)."""
    ep = _entry_point(name)
    distribution, version = _distribution(ep)
    return Origin(ep.name.lower(), distribution, version, _describe(ep))


def _load(ep: EntryPoint) -> type:
    distribution, version = _distribution(ep)
    where = f"distribution {distribution!r} {version}, entry point '{_describe(ep)}' in group {ENTRY_POINT_GROUP!r}"
    try:
        obj = ep.load()
    except Exception as exc:
        raise OptimizerPluginError(
            f"Optimizer {ep.name.lower()!r} could not be loaded ({where}): {type(exc).__name__}: {exc}",
            name=ep.module,
        ) from exc
    from .optimizer import Optimizer

    if not (isinstance(obj, type) and issubclass(obj, Optimizer)):
        raise OptimizerPluginError(
            f"Optimizer {ep.name.lower()!r} ({where}) is {obj!r}, not a subclass of optimizers.Optimizer",
            name=ep.module,
        )
    return obj


def get(name: str | type) -> type:
    """The optimizer class registered as ``name`` (case-insensitive); a class is returned unchanged."""
    if isinstance(name, type):
        return name
    return _load(_entry_point(name))


def signature_defaults(optimizer: str | type) -> dict[str, Any]:
    """Hyperparameter name -> default value, from the constructor's signature, in signature order.

    ``params`` and arguments without a default (e.g. a required ``lr``) are left out, as are ``*args`` /
    ``**kwargs``. Values are returned as the signature holds them: tuples stay tuples (``betas=(0.9, 0.999)``).
    Configuration systems that turn tuples into lists (YAML, OmegaConf) give them back through
    :func:`create`, which calls :func:`coerce_hyperparameters`.
    """
    cls = get(optimizer)
    defaults = {}
    for parameter in inspect.signature(cls).parameters.values():
        if parameter.name == "params" or parameter.default is inspect.Parameter.empty:
            continue
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        defaults[parameter.name] = parameter.default
    return defaults


def _as_tuple(value: Any) -> Any:
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return tuple(_as_tuple(item) for item in value)
    return value


def coerce_hyperparameters(optimizer: str | type, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
    """Give sequences back their tuple type where the constructor's default is a tuple.

    A config file writes ``betas: [0.9, 0.99]``; torch's optimizers (and their reprs) expect
    ``betas=(0.9, 0.99)``. Other values pass through unchanged.
    """
    defaults = signature_defaults(optimizer)
    return {
        key: _as_tuple(value) if isinstance(defaults.get(key), tuple) else value
        for key, value in hyperparameters.items()
    }


def create(name: str | type, params, **hyperparameters):
    """Build the optimizer ``name`` over ``params``: ``create("sgd", model_params, lr=0.1, momentum=0.9)``."""
    cls = get(name)
    return cls(params, **coerce_hyperparameters(cls, hyperparameters))
