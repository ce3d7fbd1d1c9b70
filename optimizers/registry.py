"""The optimizer registry, kept importable as ``optimizers.registry``: the machinery and the
registries of every kind live in the top-level package :mod:`plugin_registry` (which imports no
optimizer until one is chosen)."""

from plugin_registry import *  # noqa: F401,F403
from plugin_registry import __all__  # noqa: F401
