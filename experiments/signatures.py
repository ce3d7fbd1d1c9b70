"""Config values checked against the signature of what they are passed to (an optimizer, a scheduler).

Hydra and OmegaConf accept any value for any key, and torch's classes check only some of their arguments when they
are built: ``StepLR(gamma="abc")`` is accepted and fails at step ``step_size``, ``Adam(betas=(0.9, 0.99, 0.5))``
at its first step. Here each value is held against its parameter's annotation (``step_size: int``,
``gamma: float``, ``Optional[...]``, ``tuple[float, float]``) or, without one, against the form of its default (a
default of two numbers, ``betas=(0.9, 0.999)``, takes two numbers), before anything is built.
"""

from __future__ import annotations

import inspect
import numbers
import typing
from collections.abc import Mapping, Sequence

from .errors import ConfigError


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _numbers(count: int):
    def accepts(value) -> bool:
        return (isinstance(value, Sequence) and not isinstance(value, str) and len(value) == count
                and all(_is_number(v) for v in value))

    return accepts, f"a list of {count} numbers"


def _expectation(annotation) -> tuple | None:
    """(accepts(value) -> bool, what is allowed) for an annotation this module understands, else None."""
    simple = {int: (_is_integer, "an integer"), float: (_is_number, "a number"),
              bool: (lambda v: isinstance(v, bool), "true or false"), str: (lambda v: isinstance(v, str), "a string")}
    if annotation in simple:
        return simple[annotation]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        parts = [_expectation(a) for a in args if a is not type(None)]
        if not parts or None in parts:
            return None
        nullable = type(None) in args

        def accepts(value) -> bool:
            return (nullable and value is None) or any(p[0](value) for p in parts)

        return accepts, " or ".join([p[1] for p in parts] + (["null"] if nullable else []))
    if origin is tuple and args and Ellipsis not in args and all(a in (int, float) for a in args):
        return _numbers(len(args))
    return None


def _from_default(default) -> tuple | None:
    if isinstance(default, tuple) and default and all(_is_number(v) for v in default):
        return _numbers(len(default))
    return None


def _hints(target) -> dict:
    function = target.__init__ if inspect.isclass(target) else target
    try:
        return typing.get_type_hints(function)
    except Exception:  # noqa: BLE001 - an annotation that does not evaluate: check by defaults only
        return {}


def check_arguments(target, options: Mapping, prefix: str) -> None:
    """A ConfigError naming ``<prefix>.<key>`` for the first value of ``options`` that the parameter of ``target``'s
    signature cannot take; unknown keys are left to the call itself (Python's "unexpected keyword argument")."""
    try:
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return
    hints = _hints(target)
    owner = getattr(target, "__name__", str(target))
    for key, value in options.items():
        parameter = parameters.get(key)
        if parameter is None:
            continue
        expected = _expectation(hints[key]) if key in hints else None
        if expected is None and parameter.default is not inspect.Parameter.empty:
            expected = _from_default(parameter.default)
        if expected is not None and not expected[0](value):
            raise ConfigError(f"{prefix}.{key}={value!r} is not allowed: {owner}'s {key} takes {expected[1]}.")
