"""Classic optimisation test functions (Surjanovic & Bingham's Virtual Library of Simulation Experiments).

Each takes ``init`` (``null`` for the customary start), the n-dimensional ones also ``dim``; one parameter
``x``. 2-D instances carry a contour window (``plot_bounds``).
"""

from __future__ import annotations

import math

import numpy as np

import autodiff as ad

from . import _validate
from .base import Footprint, Objective

MAX_DIM = _validate.MAX_ELEMENTS


class _TestFunction(Objective):
    """One parameter ``x`` of ``dim`` coordinates; subclasses give the math and the known minimum."""

    min_dim = 1
    default_pattern: tuple[float, ...] = (1.0,)
    window: float = 5.0  # half-width of the 2-D contour window, around the origin

    def __init__(self, dim: int = 2, init=None) -> None:
        self.dim = _validate.integer(dim, "dim", self.min_dim, MAX_DIM)
        self._x = _validate.vector(init, "init", self.dim, _validate.alternating(self.default_pattern, self.dim))
        minimiser = self.minimiser(self.dim)
        self.optimum = None if minimiser is None else {"x": minimiser}
        if self.dim == 2:
            self.plot_bounds = _validate.square_bounds(np.zeros(2), max(self.window, 1.2 * np.abs(self._x).max()))

    @classmethod
    def footprint(cls, dim: int = 2, init=None) -> Footprint | None:
        return Footprint((dim,)) if _validate.is_count(dim) else None

    def minimiser(self, dim: int) -> np.ndarray | None:
        raise NotImplementedError

    def initial_params(self) -> dict[str, np.ndarray]:
        return {"x": self._x.copy()}


class _TwoDimensional(_TestFunction):
    """A function of exactly two coordinates (no ``dim`` option)."""

    min_dim = 2
    plot_center = (0.0, 0.0)

    def __init__(self, init=None) -> None:
        super().__init__(2, init)
        center = np.array(self.plot_center)
        self.plot_bounds = _validate.square_bounds(
            center, max(self.window, 1.2 * np.abs(self._x - center).max())
        )


class Rosenbrock(_TestFunction):
    """``sum_i 100 (x_{i+1} - x_i**2)**2 + (1 - x_i)**2``; minimum 0 at ``x = 1``; start (-1.2, 1, -1.2, ...)."""

    name = "rosenbrock"
    min_dim = 2
    default_pattern = (-1.2, 1.0)
    window = 2.0
    min_value = 0.0

    def minimiser(self, dim):
        return np.ones(dim)

    def loss(self, params, step):
        x = params["x"]
        return ad.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


class Rastrigin(_TestFunction):
    """``10 n + sum(x**2 - 10 cos(2 pi x))``; minimum 0 at ``x = 0``, a local minimum near every integer point."""

    name = "rastrigin"
    default_pattern = (2.5, -1.5)
    window = 5.12
    min_value = 0.0

    def minimiser(self, dim):
        return np.zeros(dim)

    def loss(self, params, step):
        x = params["x"]
        return 10 * self.dim + ad.sum(x**2 - 10 * ad.cos(2 * math.pi * x))


class Ackley(_TestFunction):
    """``-20 exp(-0.2 sqrt(mean(x**2))) - exp(mean(cos(2 pi x))) + 20 + e``; minimum 0 at ``x = 0``.

    The gradient of the square root is undefined exactly at the minimum (NaN, as in torch).
    """

    name = "ackley"
    default_pattern = (2.0, -1.5)
    min_value = 0.0

    def minimiser(self, dim):
        return np.zeros(dim)

    def loss(self, params, step):
        x = params["x"]
        return -20 * ad.exp(-0.2 * ad.sqrt(ad.mean(x**2))) - ad.exp(ad.mean(ad.cos(2 * math.pi * x))) + 20 + math.e


def _styblinski_tang_root() -> float:
    # The global minimiser per coordinate: the smallest root of f'(t) = 2 t**3 - 16 t + 2.5, Newton-polished.
    t = float(min(np.roots([2.0, 0.0, -16.0, 2.5]).real))
    for _ in range(5):
        t -= (2 * t**3 - 16 * t + 2.5) / (6 * t**2 - 16)
    return t


class StyblinskiTang(_TestFunction):
    """``0.5 sum(x**4 - 16 x**2 + 5 x)``; minimum ``-39.16616570377142 n`` at ``x_i = -2.903534027771178``."""

    name = "styblinski_tang"
    default_pattern = (0.5, -0.5)
    root = _styblinski_tang_root()

    def __init__(self, dim: int = 2, init=None) -> None:
        super().__init__(dim, init)
        self.min_value = float(self.dim * 0.5 * (self.root**4 - 16 * self.root**2 + 5 * self.root))

    def minimiser(self, dim):
        return np.full(dim, self.root)

    def loss(self, params, step):
        x = params["x"]
        return 0.5 * ad.sum(x**4 - 16 * x**2 + 5 * x)


class Beale(_TwoDimensional):
    """``(1.5 - x + xy)**2 + (2.25 - x + xy**2)**2 + (2.625 - x + xy**3)**2``; minimum 0 at (3, 0.5)."""

    name = "beale"
    default_pattern = (1.0, 1.0)
    window = 4.5
    min_value = 0.0

    def minimiser(self, dim):
        return np.array([3.0, 0.5])

    def loss(self, params, step):
        x = params["x"]
        u, v = x[0], x[1]
        return (1.5 - u + u * v) ** 2 + (2.25 - u + u * v**2) ** 2 + (2.625 - u + u * v**3) ** 2


def _himmelblau_minima() -> list[np.ndarray]:
    # Newton on the gradient from published 6-digit approximations gives every minimiser to machine precision.
    starts = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
    minima = []
    for start in starts:
        p = np.array(start)
        for _ in range(8):
            u, v = p
            a, b = u**2 + v - 11, u + v**2 - 7
            grad = np.array([4 * u * a + 2 * b, 2 * a + 4 * v * b])
            hess = np.array([[12 * u**2 + 4 * v - 42, 4 * u + 4 * v], [4 * u + 4 * v, 4 * u + 12 * v**2 - 26]])
            p = p - np.linalg.solve(hess, grad)
        minima.append(p)
    return minima


class Himmelblau(_TwoDimensional):
    """``(x**2 + y - 11)**2 + (x + y**2 - 7)**2``: four minima of value 0, among them (3, 2).

    ``optimum`` is (3, 2); ``optima`` holds all four and the distance logged is to the nearest.
    """

    name = "himmelblau"
    default_pattern = (0.0, 0.0)
    min_value = 0.0
    minima = _himmelblau_minima()

    def minimiser(self, dim):
        return self.minima[0].copy()

    @property
    def optima(self):
        return [{"x": m.copy()} for m in self.minima]

    def loss(self, params, step):
        x = params["x"]
        u, v = x[0], x[1]
        return (u**2 + v - 11) ** 2 + (u + v**2 - 7) ** 2
