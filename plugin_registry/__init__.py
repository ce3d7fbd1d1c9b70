"""Find optimizers, objectives and LR schedulers by name: the built-ins and any installed plugin.

Each kind is one entry-point group: ``autodiff.optimizers``, ``autodiff.objectives``,
``autodiff.lr_schedulers``; the project's own classes are entry points of its distribution like any
plugin's (``name = "module:Class"`` in a distribution's ``pyproject.toml``). This package is on its
own, beside ``optimizers`` and ``experiments``, so that choosing an objective or a scheduler
imports neither every optimizer nor the runner: it imports nothing of the project until an entry
is chosen. Discovery reads only the installed
distributions' metadata and is cached, so :func:`available` never imports a plugin; a plugin's module is
imported the first time it is chosen (:func:`get` / :func:`create`).

Rules, in the order they apply:

* Names are lower case. Entry-point names are lower-cased on discovery and lookups are case-insensitive
  (``get("Adam") is get("adam")``).
* Two distributions claiming one name: a :class:`DuplicateNameWarning` names both, and the choice is
  deterministic: the project's own distribution (``optimizer-trajectories``) wins over plugins, otherwise the
  distribution whose normalised name sorts first wins. Installation order and ``sys.path`` order do not matter.
* An unknown name raises :class:`UnknownNameError` (both a ``ValueError`` and a ``KeyError``), whose message
  lists the available names and suggests the closest one.
* A plugin whose module fails to import (or whose attribute is missing or not an optimizer class) raises
  :class:`PluginLoadError` (an ``ImportError``) when it is chosen, naming the distribution, the entry point
  and the original exception (chained as ``__cause__``). Listing and every other optimizer keep working.

Wherever a name is accepted, a class is accepted too and returned as is.

The machinery is the class :class:`EntryPointRegistry`, one instance per kind: :data:`OPTIMIZERS`,
:data:`OBJECTIVES`, :data:`LR_SCHEDULERS`. The module-level functions are the optimizer registry's.

Example::

    >>> import plugin_registry as registry
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

# The distribution that ships the built-ins; it wins any name clash.
BUILTIN_DISTRIBUTION = "optimizer-trajectories"
ENTRY_POINT_GROUP = "autodiff.optimizers"
OBJECTIVES_GROUP = "autodiff.objectives"
LR_SCHEDULERS_GROUP = "autodiff.lr_schedulers"

__all__ = [
    "BUILTIN_DISTRIBUTION",
    "ENTRY_POINT_GROUP",
    "LR_SCHEDULERS",
    "LR_SCHEDULERS_GROUP",
    "OBJECTIVES",
    "OBJECTIVES_GROUP",
    "OPTIMIZERS",
    "DuplicateNameWarning",
    "EntryPointRegistry",
    "Origin",
    "PluginLoadError",
    "UnknownNameError",
    "available",
    "coerce_hyperparameters",
    "create",
    "get",
    "origin",
    "refresh",
    "signature_defaults",
]


class UnknownNameError(ValueError, KeyError):
    """No entry is registered under the requested name.

    A ``ValueError`` for callers validating a configuration and a ``KeyError`` for callers treating the
    registry as a mapping.
    """

    def __str__(self) -> str:
        # KeyError would otherwise quote the message (str(KeyError("x")) == "'x'").
        return str(self.args[0]) if self.args else ""


class PluginLoadError(ImportError):
    """A registered entry could not be loaded; the message names its distribution and entry point."""


class DuplicateNameWarning(UserWarning):
    """Two distributions register an entry under the same name."""


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


def _as_tuple(value: Any) -> Any:
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return tuple(_as_tuple(item) for item in value)
    return value


class EntryPointRegistry:
    """Named classes from one entry-point group (see the module docstring for the rules).

    Args:
        group: the entry-point group, e.g. ``"autodiff.optimizers"``.
        kind: what an entry is, for messages (``"optimizer"``: "Unknown optimizer 'x'", "Available optimizers").
        base: returns the class every entry must subclass (called lazily, so the registry module does not
            import it), or ``None`` to accept any object (a class or a factory function).
        positional: constructor arguments that are not hyperparameters (left out of
            :meth:`signature_defaults`), e.g. ``("params",)``.
    """

    def __init__(
        self,
        group: str,
        kind: str,
        base: Callable[[], type] | None = None,
        positional: Sequence[str] = (),
    ) -> None:
        self.group = group
        self.kind = kind
        self._base = base
        self.positional = tuple(positional)
        self._registered = functools.cache(self._discover)

    def __repr__(self) -> str:
        return f"EntryPointRegistry(group={self.group!r}, kind={self.kind!r})"

    def _discover(self) -> dict[str, EntryPoint]:
        """Name -> chosen entry point, from installed metadata only (no plugin is imported here)."""
        claims: dict[str, list[EntryPoint]] = {}
        for ep in entry_points(group=self.group):
            claims.setdefault(ep.name.lower(), []).append(ep)
        chosen = {}
        for name, eps in sorted(claims.items()):
            eps = sorted(eps, key=_precedence)
            if len(eps) > 1:
                others = ", ".join(f"{_distribution(ep)[0]} ({_describe(ep)})" for ep in eps[1:])
                warnings.warn(
                    f"{self.kind.capitalize()} {name!r} is registered by more than one distribution: "
                    f"{_distribution(eps[0])[0]} ({_describe(eps[0])}) and {others}. "
                    f"Using the one from {_distribution(eps[0])[0]}.",
                    DuplicateNameWarning,
                    stacklevel=3,
                )
            chosen[name] = eps[0]
        return chosen

    def refresh(self) -> None:
        """Forget the cached discovery, so distributions installed since the first lookup are seen."""
        self._registered.cache_clear()

    def available(self) -> list[str]:
        """The registered names, sorted; reads metadata only, imports no plugin."""
        return sorted(self._registered())

    def entry_point(self, name: str) -> EntryPoint:
        """The entry point chosen for ``name`` (case-insensitive), without loading it."""
        registered = self._registered()
        key = name.lower()
        if key in registered:
            return registered[key]
        names = sorted(registered)
        closest = difflib.get_close_matches(key, names, n=1)
        hint = f" Did you mean {closest[0]!r}?" if closest else ""
        raise UnknownNameError(
            f"Unknown {self.kind} {name!r}.{hint} Available {self.kind}s: {', '.join(names) or 'none'}. "
            f"Plugins register more under the entry-point group {self.group!r}."
        )

    def origin(self, name: str) -> Origin:
        """The distribution and entry point behind ``name`` (without importing it)."""
        ep = self.entry_point(name)
        distribution, version = _distribution(ep)
        return Origin(ep.name.lower(), distribution, version, _describe(ep))

    def _load(self, ep: EntryPoint) -> Any:
        distribution, version = _distribution(ep)
        label = f"{self.kind.capitalize()} {ep.name.lower()!r}"
        where = f"distribution {distribution!r} {version}, entry point '{_describe(ep)}' in group {self.group!r}"
        try:
            obj = ep.load()
        except Exception as exc:
            raise PluginLoadError(
                f"{label} could not be loaded ({where}): {type(exc).__name__}: {exc}", name=ep.module
            ) from exc
        if self._base is None:
            return obj
        base = self._base()
        if not (isinstance(obj, type) and issubclass(obj, base)):
            raise PluginLoadError(
                f"{label} ({where}) is {obj!r}, not a subclass of {base.__module__.split('.')[0]}.{base.__qualname__}",
                name=ep.module,
            )
        return obj

    def get(self, name: str | type) -> Any:
        """The class registered as ``name`` (case-insensitive); a class is returned unchanged."""
        if isinstance(name, type):
            return name
        return self._load(self.entry_point(name))

    def signature_defaults(self, name: str | type) -> dict[str, Any]:
        """Hyperparameter name -> default value, from the constructor's signature, in signature order.

        The ``positional`` arguments (``params``) and arguments without a default (e.g. a required ``lr``) are
        left out, as are ``*args`` / ``**kwargs``. Values are returned as the signature holds them: tuples stay
        tuples (``betas=(0.9, 0.999)``). Configuration systems that turn tuples into lists (YAML, OmegaConf)
        get them back through :meth:`create`, which calls :meth:`coerce_hyperparameters`.
        """
        defaults = {}
        for parameter in inspect.signature(self.get(name)).parameters.values():
            if parameter.name in self.positional or parameter.default is inspect.Parameter.empty:
                continue
            if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                continue
            defaults[parameter.name] = parameter.default
        return defaults

    def coerce_hyperparameters(self, name: str | type, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        """Give sequences back their tuple type where the constructor's default is a tuple.

        A config file writes ``betas: [0.9, 0.99]``; torch's optimizers (and their reprs) expect
        ``betas=(0.9, 0.99)``. Other values pass through unchanged.
        """
        defaults = self.signature_defaults(name)
        return {
            key: _as_tuple(value) if isinstance(defaults.get(key), tuple) else value
            for key, value in hyperparameters.items()
        }

    def create(self, name: str | type, *args, **hyperparameters):
        """Build the entry ``name``: ``create("sgd", model_params, lr=0.1, momentum=0.9)``."""
        cls = self.get(name)
        return cls(*args, **self.coerce_hyperparameters(cls, hyperparameters))


def _optimizer_base() -> type:
    # imported when an optimizer is chosen, never at import: listing names loads no plugin
    from optimizers.optimizer import Optimizer

    return Optimizer


def _scheduler_base() -> type:
    from optimizers.lr_scheduler import LRScheduler

    return LRScheduler


#: Optimizers: the built-ins (``optimizers``) and plugins, group ``autodiff.optimizers``.
OPTIMIZERS = EntryPointRegistry(ENTRY_POINT_GROUP, "optimizer", base=_optimizer_base, positional=("params",))
#: Objectives the runner minimises, group ``autodiff.objectives`` (a class or a factory each).
OBJECTIVES = EntryPointRegistry(OBJECTIVES_GROUP, "objective")
#: Learning-rate schedulers, group ``autodiff.lr_schedulers`` (subclasses of ``optimizers.lr_scheduler.LRScheduler``).
LR_SCHEDULERS = EntryPointRegistry(LR_SCHEDULERS_GROUP, "scheduler", base=_scheduler_base,
                                   positional=("optimizer",))

# The optimizer registry's methods as module functions (``plugin_registry.create("adam", ...)``).
available = OPTIMIZERS.available
get = OPTIMIZERS.get
create = OPTIMIZERS.create
origin = OPTIMIZERS.origin
refresh = OPTIMIZERS.refresh
signature_defaults = OPTIMIZERS.signature_defaults
coerce_hyperparameters = OPTIMIZERS.coerce_hyperparameters
