"""Checks of objective options, raising ConfigError messages that say what, where and what is allowed."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from experiments.errors import ConfigError

PREFIX = "objective"
MAX_ELEMENTS = 10_000_000  # a parameter larger than this is a typo, not an experiment


def _leaves(value, path=()):
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        for i, item in enumerate(value):
            yield from _leaves(item, path + (i,))
    else:
        yield path, value


def is_count(value) -> bool:
    """An integer >= 1 (not a bool): the options that size an objective, before they are validated."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def finite_array(value, key: str, allowed: str) -> np.ndarray:
    """``value`` (a number or nested lists of numbers) as a float64 array; a ConfigError otherwise.

    ``key`` is where the value sits under ``objective.`` (``"init.a"``); ``allowed`` completes "Allowed: ...".
    """
    where = f"{PREFIX}.{key}"
    for path, leaf in _leaves(value):
        index = "".join(f"[{i}]" for i in path)
        if isinstance(leaf, bool) or not isinstance(leaf, numbers.Real):
            raise ConfigError(
                f"{where} = {value!r} is not allowed: {where}{index} is {leaf!r} ({type(leaf).__name__}), "
                f"not a number. Allowed: {allowed}."
            )
    try:
        array = np.array(value, dtype=np.float64)
    except (ValueError, OverflowError) as exc:
        raise ConfigError(
            f"{where} = {value!r} is not allowed: its nested lists are not rectangular ({exc}). Allowed: {allowed}."
        ) from None
    if array.size > MAX_ELEMENTS:
        raise ConfigError(f"{where} has {array.size} elements; the limit is {MAX_ELEMENTS}. Allowed: {allowed}.")
    bad = [()] if array.ndim == 0 and not np.isfinite(array) else np.argwhere(~np.isfinite(array))
    if len(bad):
        index = "".join(f"[{i}]" for i in bad[0])
        raise ConfigError(
            f"{where} = {value!r} is not allowed: {where}{index} is {array[tuple(bad[0])]}, and initial values "
            f"must be finite (no NaN or inf). Allowed: {allowed}."
        )
    return array


def vector(value, key: str, length: int, default) -> np.ndarray:
    """An init for an n-dimensional objective: ``null`` (the default), one number for every coordinate, or a
    list of ``length`` numbers."""
    allowed = f"null (the default start), one finite number for every coordinate, or a list of {length} finite numbers"
    if value is None:
        return np.array(default, dtype=np.float64)
    array = finite_array(value, key, allowed)
    if array.ndim == 0:
        return np.full(length, float(array))
    if array.shape != (length,):
        raise ConfigError(
            f"{PREFIX}.{key} = {value!r} is not allowed: it has shape {array.shape}, and this objective has "
            f"{length} coordinates (shape ({length},)). Allowed: {allowed}."
        )
    return array


def integer(value, key: str, minimum: int, maximum: int | None = None) -> int:
    """An integer option in ``[minimum, maximum]``."""
    where = f"{PREFIX}.{key}"
    allowed = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{where} = {value!r} is not allowed: it is not an integer. Allowed: {allowed}.")
    if value < minimum or (maximum is not None and value > maximum):
        raise ConfigError(f"{where} = {value!r} is out of range. Allowed: {allowed}.")
    return int(value)


def real(value, key: str, minimum: float, *, inclusive: bool = True) -> float:
    """A finite real option ``>= minimum`` (``> minimum`` when not inclusive)."""
    where = f"{PREFIX}.{key}"
    allowed = f"a finite number {'>=' if inclusive else '>'} {minimum:g}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ConfigError(f"{where} = {value!r} is not allowed: it is not a finite number. Allowed: {allowed}.")
    if value < minimum or (not inclusive and value == minimum):
        raise ConfigError(f"{where} = {value!r} is out of range. Allowed: {allowed}.")
    return float(value)


def mapping(value, key: str, allowed: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{PREFIX}.{key} = {value!r} is not allowed: it is not a mapping of names to values. Allowed: {allowed}."
        )
    return value


def alternating(pattern: Sequence[float], length: int) -> list[float]:
    """``pattern`` repeated to ``length`` values: the default start of an n-dimensional test function."""
    return [pattern[i % len(pattern)] for i in range(length)]


def square_bounds(center: np.ndarray, half_width: float):
    return tuple((float(c) - half_width, float(c) + half_width) for c in center)
