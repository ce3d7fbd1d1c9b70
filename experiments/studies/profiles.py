"""Times to target, Dolan-More performance profiles and the AlgoPerf-style score, as plain functions.

Times (AlgoPerf's external tuning rule, a seed playing the part of one of its studies): on an objective, an optimizer's
*tuned* time is the median over seeds of the fewest steps any of its learning-rate trials needed on that seed; its
*default* time is the median over seeds of the steps its default learning rate needed. A trial that never reached the
target takes infinitely long (so a median over an even number of seeds is infinite when half of them failed).

Performance profile (Dolan and More, 2002): with t[p, s] the time of optimizer s on problem (objective) p, the
ratio r[p, s] = t[p, s] / min over s' of t[p, s'], and rho_s(tau) = the share of problems with r[p, s] <= tau. A
time of 0 (the start already meets the target) counts as 1 step, so that ratios are defined; a problem no optimizer
solved gives every optimizer an infinite ratio there.

Held out: the learning rate an optimizer chose on an objective (its lowest median steps over the study's seeds,
then its lowest median final loss) re-run on seeds the tuning did not see; its time is the median over those.

Score (AlgoPerf, Dahl et al. 2023): the integral of rho_s from tau = 1 to TAU_MAX = 4, divided by TAU_MAX - 1, so
1 means fastest on every problem and 0 means never within 4 times the fastest; for a step function it is the mean
over problems of max(0, TAU_MAX - r[p, s]) / (TAU_MAX - 1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

TAU_MAX = 4.0
SETTINGS = ("tuned", "default")
HELD_OUT = "held_out"  # the chosen learning rate re-run on held-out seeds (experiments.studies.held_out)


def median(values: Iterable[float]) -> float:
    values = sorted(values)
    return float(np.median(values)) if values else math.inf


def times(trials, setting: str) -> dict[str, dict[str, float]]:
    """objective -> optimizer -> time to target, for ``setting`` "tuned", "default" (see the module's text) or
    "held_out" (the median over held-out seeds of the re-runs of the chosen learning rate)."""
    out: dict[str, dict[str, float]] = {}
    for (objective, optimizer), seeds in _by_seed(trials, setting).items():
        out.setdefault(objective, {})[optimizer] = median(min(t.steps_to_target for t in runs)
                                                          for runs in seeds.values())
    return out


def behind(trials, setting: str) -> dict[tuple[str, str], list]:
    """(objective, optimizer) -> the trials its time in ``setting`` is the median of: on each seed, the trial(s)
    with that seed's fewest steps to target (none for a seed on which no trial reached it)."""
    out = {}
    for key, seeds in _by_seed(trials, setting).items():
        out[key] = [t for seed, runs in sorted(seeds.items()) for t in runs
                    if math.isfinite(t.steps_to_target) and t.steps_to_target == min(r.steps_to_target for r in runs)]
    return out


def _by_seed(trials, setting: str) -> dict[tuple[str, str], dict[int, list]]:
    """(objective, optimizer) -> seed -> the trials ``setting`` counts: every grid trial (tuned), the factor-1
    trial (default) or the held-out re-runs (held_out)."""
    out: dict[tuple[str, str], dict[int, list]] = {}
    for t in trials:
        if t.held_out != (setting == HELD_OUT) or (setting == "default" and not t.is_default):
            continue
        out.setdefault((t.objective, t.optimizer), {}).setdefault(t.seed, []).append(t)
    return out


def ratios(times_by_problem: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """problem -> optimizer -> r[p, s], the time over the problem's best time (infinite when unsolved)."""
    out = {}
    for problem, by_optimizer in times_by_problem.items():
        costs = {s: max(float(t), 1.0) for s, t in by_optimizer.items()}
        best = min(costs.values(), default=math.inf)
        out[problem] = {s: (c / best if math.isfinite(c) else math.inf) for s, c in costs.items()}
    return out


def profile(ratios_by_problem: Mapping[str, Mapping[str, float]], optimizer: str, taus) -> np.ndarray:
    """rho_s(tau) for each tau: the share of problems on which ``optimizer`` is within tau of the best (a problem
    it did not run counts as not solved)."""
    problems = list(ratios_by_problem)
    r = np.array([ratios_by_problem[p].get(optimizer, math.inf) for p in problems], dtype=np.float64)
    taus = np.asarray(taus, dtype=np.float64)
    if not problems:
        return np.zeros_like(taus)
    return (r[None, :] <= taus[:, None]).mean(axis=1)


def score(ratios_by_problem: Mapping[str, Mapping[str, float]], optimizer: str, tau_max: float = TAU_MAX) -> float:
    """The profile's integral over [1, tau_max] divided by tau_max - 1 (exact: rho is a step function)."""
    r = [ratios_by_problem[p].get(optimizer, math.inf) for p in ratios_by_problem]
    if not r:
        return 0.0
    return float(np.mean([max(0.0, tau_max - x) / (tau_max - 1.0) for x in r]))


def optimizers_of(times_by_problem: Mapping[str, Mapping[str, float]]) -> list[str]:
    return sorted({s for by_optimizer in times_by_problem.values() for s in by_optimizer})


def tau_grid(ratios_by_problem: Mapping[str, Mapping[str, float]], tau_max: float = TAU_MAX) -> np.ndarray:
    """Where the profiles are tabulated: 1 to tau_max, fine, plus every finite ratio (where rho steps up)."""
    steps = {x for by in ratios_by_problem.values() for x in by.values() if math.isfinite(x) and x <= tau_max}
    return np.unique(np.concatenate([np.linspace(1.0, tau_max, 61), np.array(sorted(steps), dtype=np.float64)]))
