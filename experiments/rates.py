"""Theory beside measurement: on an objective with a constant Hessian (the quadratic), the linear rates gradient
descent and heavy-ball momentum reach at their best constant parameters, drawn as reference lines beside the measured
loss gap ``f - f*`` (a run's ``loss.png``, a sweep's ``comparison.png``).

With the Hessian's eigenvalues in ``[mu, L]`` and ``kappa = L / mu``:

- Gradient descent ``x <- x - lr * grad f(x)`` at its best constant step ``lr = 2 / (L + mu)`` multiplies the
  component of ``x - x*`` along the eigenvector of ``lambda`` by ``1 - lr * lambda``, of modulus at most
  ``q = (kappa - 1) / (kappa + 1)`` (exactly ``q`` at ``mu`` and at ``L``). So ``|x_t - x*| <= q^t |x_0 - x*|`` and,
  as ``f - f* = 0.5 * sum(lambda_i * c_i^2)`` over those components ``c_i``, ``f_t - f* <= q^(2t) (f_0 - f*)``: a bound
  at every step, met with equality when ``x_0 - x*`` lies along the eigenvector of ``mu`` or of ``L``.
- Heavy ball ``x <- x - lr * grad f(x) + momentum * (x - x_previous)`` (torch's SGD with ``momentum``, no
  dampening) at ``lr = 4 / (sqrt(L) + sqrt(mu))^2`` and ``momentum = p^2``, ``p = (sqrt(kappa) - 1) / (sqrt(kappa) +
  1)``: the 2x2 iteration matrix of every eigen-component has spectral radius ``p``, so ``|x_t - x*|`` shrinks like
  ``p^t`` and the gap like ``p^(2t) = momentum^t``. That is an asymptotic rate, not a bound: at ``mu`` and ``L`` the
  iteration matrix is a Jordan block, the gap goes as ``C * t^2 * p^(2t)`` and its curve runs above the line started
  at the initial gap, turning parallel to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QuadraticRates:
    """The best constant parameters of gradient descent and heavy ball on a quadratic with curvatures in
    ``[mu, L]``, and their rates on the distance to the minimiser (the loss gap contracts by their squares)."""

    mu: float
    L: float  # noqa: N815 - the Lipschitz constant's customary name

    @property
    def kappa(self) -> float:
        return self.L / self.mu

    @property
    def gd_lr(self) -> float:
        return 2.0 / (self.L + self.mu)

    @property
    def gd_rate(self) -> float:
        return (self.kappa - 1.0) / (self.kappa + 1.0)

    @property
    def heavy_ball_lr(self) -> float:
        return 4.0 / (math.sqrt(self.L) + math.sqrt(self.mu)) ** 2

    @property
    def heavy_ball_rate(self) -> float:
        root = math.sqrt(self.kappa)
        return (root - 1.0) / (root + 1.0)

    @property
    def heavy_ball_momentum(self) -> float:
        return self.heavy_ball_rate ** 2


@dataclass(frozen=True)
class ReferenceLine:
    label: str
    steps: np.ndarray
    losses: np.ndarray  # the objective's minimum plus the predicted gap


def rates_of(objective) -> QuadraticRates | None:
    """The rates of an objective that declares a constant Hessian (``hessian_eigenvalues``, all positive), else
    None; None too for ``kappa = 1``, where both methods reach the minimum at once (nothing to draw on a log axis)."""
    eigenvalues = getattr(objective, "hessian_eigenvalues", None)
    if eigenvalues is None or getattr(objective, "min_value", None) is None:
        return None
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    mu, top = float(eigenvalues.min()), float(eigenvalues.max())
    return QuadraticRates(mu, top) if 0 < mu < top else None


def reference_lines(objective, curves: Sequence[Sequence[tuple[int, float]]]) -> list[ReferenceLine]:
    """The two reference lines beside measured loss curves ``[[(step, loss), ...], ...]`` on ``objective``: they
    start at the curves' first step, at the highest gap measured there (one start, as the curves of one objective
    share it), end at their last step, and are cut a decade below the lowest measured gap (so the lines never
    stretch the loss axis). Empty when the objective has no known rates or the curves no positive gap."""
    rates = rates_of(objective)
    if rates is None:  # also when the minimum is unknown: no gap to measure
        return []
    points = [(int(s), float(v) - objective.min_value) for curve in curves for s, v in curve if math.isfinite(v)]
    gaps = [gap for _, gap in points if gap > 0]
    if not gaps:
        return []
    start, last = min(s for s, _ in points), max(s for s, _ in points)
    first_gap, floor = max(gap for s, gap in points if s == start), min(gaps) / 10
    if first_gap <= 0:
        return []
    steps = np.arange(start, last + 1)
    lines = []
    for label, per_step in ((f"GD bound, best step (κ={rates.kappa:.4g}, lr={rates.gd_lr:.4g}): "
                             f"gap x {rates.gd_rate ** 2:.4g}^t", rates.gd_rate ** 2),
                            (f"heavy ball rate, best lr={rates.heavy_ball_lr:.4g}, momentum="
                             f"{rates.heavy_ball_momentum:.4g}: gap x {rates.heavy_ball_momentum:.4g}^t",
                             rates.heavy_ball_momentum)):
        with np.errstate(under="ignore"):
            gap = first_gap * per_step ** (steps - start).astype(np.float64)
        kept = gap >= floor
        lines.append(ReferenceLine(label, steps[kept], objective.min_value + gap[kept]))
    return lines


def for_run(problem, losses: Sequence[tuple[int, float]]) -> list[ReferenceLine]:
    """A run's reference lines: none under ``objective.gradient_noise`` (the rates are those of exact gradients)."""
    return [] if getattr(problem, "noise", None) is not None else reference_lines(problem.objective, [losses])
