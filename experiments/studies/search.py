"""A study's learning-rate trials: which factors of each optimizer's default learning rate it runs.

``study.search`` chooses how (docs/runner.md, "Studies"):

- ``sobol`` (the shipped studies): factor 1 (the default learning rate, always run) and ``study.trials`` factors
  ``lo * (hi / lo) ** u``, ``[lo, hi] = study.lr_range``, for ``u`` the first ``study.trials`` points of a base-2
  scrambled Sobol sequence in one dimension (:func:`sobol_points`: the van der Corput sequence with Owen's nested
  scramble, seeded by ``study.search_seed``), rounded to 3 significant digits (more only when two would coincide),
  so that run names stay readable and a configuration's hash is the same whenever the study is run again;
- ``grid``: ``study.trials + 1`` factors evenly spaced in log over ``study.lr_range`` (its ends included), and factor
  1 when it is not among them: ``trials: 4`` over ``[0.01, 100]`` is 0.01, 0.1, 1.0, 10.0, 100.0.

Every optimizer gets the same factors (one list for the whole sweep: an equal budget). The study sweeper sweeps
``study.lr_factor`` over them (:func:`with_lr_factors`) unless the sweep already names ``study.lr_factor`` (a list of
one's own on the command line, ``study.lr_factor=1.0,10.0``, wins); a study without ``study.search`` sweeps what its
``hydra.sweeper.params`` say, as Hydra's basic sweeper does.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence

from ..errors import ConfigError

SEARCHES = ("sobol", "grid")
KEY = "study.lr_factor"
BITS = 32  # digits of each point: far below the factors' rounding


def radical_inverse(index: int, bits: int = BITS) -> int:
    """``index``'s ``bits`` low binary digits in reverse order (the van der Corput point ``index``, times
    ``2**bits``)."""
    out = 0
    for _ in range(bits):
        out, index = (out << 1) | (index & 1), index >> 1
    return out


def _flip(seed: int, prefix: int, depth: int) -> int:
    """The scramble's random bit for the digit after the ``depth`` leading digits ``prefix``: one bit per node of
    the binary tree of prefixes, a hash of (seed, depth, prefix), so the same in any process."""
    digest = hashlib.blake2b(f"{seed}:{depth}:{prefix}".encode(), digest_size=1).digest()
    return digest[0] & 1


def owen_scramble(point: int, seed: int, bits: int = BITS) -> int:
    """Owen's nested uniform scramble of a ``bits``-digit binary fraction: each digit flipped or not by a random bit
    that depends on the digits before it. Points sharing their first k digits still do after it, so a set of points
    with one in each of 2^k equal intervals keeps that property."""
    out = 0
    for depth in range(bits):
        digit = (point >> (bits - 1 - depth)) & 1
        out = (out << 1) | (digit ^ _flip(seed, point >> (bits - depth), depth))
    return out


def sobol_points(n: int, seed: int | None = None) -> list[float]:
    """The first ``n`` points in [0, 1) of the one-dimensional base-2 Sobol sequence (the van der Corput sequence:
    0, 0.5, 0.25, 0.75, ...), scrambled with Owen's nested scramble seeded by ``seed`` (``None``: unscrambled). For
    every k, the first 2^k points lie one in each interval [j / 2^k, (j + 1) / 2^k)."""
    scale = 2.0 ** -BITS
    return [(radical_inverse(i) if seed is None else owen_scramble(radical_inverse(i), seed)) * scale
            for i in range(n)]


def rounded(factors: Sequence[float], digits: int = 3) -> list[float]:
    """``factors`` and 1.0, each to ``digits`` significant digits (more when two would coincide), sorted."""
    while True:
        out = sorted({float(f"{f:.{digits}g}") for f in [*factors, 1.0]})
        if len(out) == len(set(factors) | {1.0}) or digits >= 17:
            return out
        digits += 1


def log_grid(lo: float, hi: float, points: int) -> list[float]:
    """``points`` factors evenly spaced in log10 over [lo, hi], ends included (10 ** exponent, as written before
    searches existed: 0.01, 0.03162277660168379, 0.1, ...)."""
    a, b = math.log10(lo), math.log10(hi)
    return [10 ** (a + i * (b - a) / (points - 1)) for i in range(points)]


def lr_factors(study: Mapping) -> list[float]:
    """The study's learning-rate factors, sorted, 1.0 among them (see the module's text)."""
    search, trials, (lo, hi), seed = search_settings(study)
    if search == "grid":
        grid = log_grid(lo, hi, trials + 1)
        return sorted(grid if any(math.isclose(f, 1.0) for f in grid) else [*grid, 1.0])
    return rounded([lo * (hi / lo) ** u for u in sobol_points(trials, seed)])


def _bad(key: str, value, allowed: str) -> ConfigError:
    return ConfigError(f"study.{key}={value!r} is not allowed: {allowed} (docs/runner.md, \"Studies\"). Nothing was "
                       "run.")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def search_settings(study: Mapping) -> tuple[str, int, tuple[float, float], int]:
    """(search, trials, (lo, hi), search_seed) from ``study``, or a ConfigError saying what each must be."""
    search = study.get("search")
    if search not in SEARCHES:
        raise _bad("search", search, "give sobol (quasi-random trials) or grid (a log grid)")
    trials = study.get("trials")
    if not _is_int(trials) or not 1 <= trials <= 4096:
        raise _bad("trials", trials, "give the number of learning-rate trials besides the default, an integer from "
                   "1 to 4096, e.g. study.trials=4")
    span = study.get("lr_range")
    try:
        lo, hi = (float(x) for x in span)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not (0 < lo < hi < math.inf) or isinstance(span, (str, bytes)):
        raise _bad("lr_range", _plain(span), "give the range of factors of the default learning rate, [low, high] "
                   "with 0 < low < high, e.g. study.lr_range=[0.01,100]")
    seed = study.get("search_seed", 0)
    if not _is_int(seed) or seed < 0:
        raise _bad("search_seed", seed, "give an integer >= 0")
    return search, trials, (lo, hi), seed


def _plain(value):
    try:
        return list(value)
    except TypeError:
        return value


def sweeps_lr_factor(params: Mapping, arguments: Sequence[str]) -> bool:
    """Whether the sweep already names ``study.lr_factor`` (in its sweeper's params or its overrides)."""
    return KEY in params or any(a.partition("=")[0].lstrip("+~") == KEY for a in arguments)


def with_lr_factors(study: Mapping | None, params: Mapping, arguments: Sequence[str] = ()) -> dict[str, str]:
    """The sweeper's params with ``study.lr_factor`` swept over :func:`lr_factors` (placed before ``seed``, so jobs
    go objective, optimizer, factor, seed); unchanged when the study has no ``search`` or the sweep names the key."""
    params = dict(params)
    if not study or study.get("search") is None or sweeps_lr_factor(params, arguments):
        return params
    value = ",".join(repr(f) for f in lr_factors(study))
    keys = list(params)
    at = keys.index("seed") if "seed" in keys else len(keys)
    return {**{k: params[k] for k in keys[:at]}, KEY: value, **{k: params[k] for k in keys[at:]}}
