"""An ill-conditioned quadratic bowl: the textbook case for momentum and adaptive step sizes."""

from __future__ import annotations

import numpy as np

import autodiff as ad

from experiments.errors import ConfigError

from . import _validate
from .base import ConstantCache, Footprint, Objective

MAX_DIM = 4096  # the matrix is dim x dim


def spectrum(dim: int, condition_number: float) -> np.ndarray:
    """The eigenvalues of ``A``: log-spaced from 1 to ``condition_number``, ascending."""
    return np.logspace(0.0, np.log10(condition_number), dim) if dim > 1 else np.ones(1)


def rotated_spectrum(dim: int, condition_number: float, rotation_seed: int) -> np.ndarray:
    """``A = Q diag(lambda) Q^T``: eigenvalues :func:`spectrum`, ``Q`` a seeded random orthogonal matrix (QR of a
    Gaussian matrix, signs fixed so Q is unique given the seed)."""
    eigenvalues = spectrum(dim, condition_number)
    gaussian = np.random.default_rng(rotation_seed).standard_normal((dim, dim))
    q, r = np.linalg.qr(gaussian)
    q = q * np.sign(np.diag(r))
    a = (q * eigenvalues) @ q.T
    return (a + a.T) / 2  # exactly symmetric


class Quadratic(Objective):
    """``f(x) = 0.5 x^T A x`` with ``cond(A) = condition_number``; minimum 0 at ``x = 0``.

    Gradient ``A x``, Hessian ``A`` (its eigenvalues: ``hessian_eigenvalues``); plain gradient descent converges
    only for ``lr < 2 / condition_number``, fastest at ``lr = 2 / (1 + condition_number)``, and
    :mod:`experiments.rates` draws its rate and heavy ball's beside a run's loss.
    """

    name = "quadratic"

    @classmethod
    def footprint(cls, dim: int = 2, condition_number: float = 10.0, rotation_seed: int = 0,
                  init=None) -> Footprint | None:
        # the dim x dim matrix, the Gaussian it is rotated from, and the QR factorisation's two
        return Footprint((dim,), 4 * 8 * dim * dim) if _validate.is_count(dim) else None

    def __init__(self, dim: int = 2, condition_number: float = 10.0, rotation_seed: int = 0, init=None) -> None:
        self.dim = _validate.integer(dim, "dim", 1, MAX_DIM)
        self.condition_number = _validate.real(condition_number, "condition_number", 1.0)
        if self.dim == 1 and self.condition_number != 1.0:
            raise ConfigError(
                f"objective.condition_number = {condition_number!r} is not allowed with objective.dim = 1: a "
                f"1-D quadratic has condition number 1. Allowed: condition_number 1, or dim >= 2."
            )
        seed = _validate.integer(rotation_seed, "rotation_seed", 0)
        self.matrix = rotated_spectrum(self.dim, self.condition_number, seed)
        self.hessian_eigenvalues = spectrum(self.dim, self.condition_number)  # a constant Hessian: rates are known
        self._constants = ConstantCache(A=self.matrix)
        self._x = _validate.vector(init, "init", self.dim, np.ones(self.dim))
        self.optimum = {"x": np.zeros(self.dim)}
        self.min_value = 0.0
        if self.dim == 2:
            self.plot_bounds = _validate.square_bounds(np.zeros(2), 1.5 * max(1.0, np.abs(self._x).max()))

    def initial_params(self) -> dict[str, np.ndarray]:
        return {"x": self._x.copy()}

    def loss(self, params, step):
        x = params["x"]
        return 0.5 * ad.dot(x, ad.matmul(self._constants.get("A", x.dtype), x))
