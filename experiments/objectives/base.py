"""The objective contract the runner codes against.

An objective owns named parameters (float64 numpy arrays for the initial values; the runner turns them into
autodiff tensors of the run's dtype) and a scalar loss of those tensors. Where a minimiser is known it says so,
so runs also log the distance to it and the gap to the minimum value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

import autodiff as ad

Bounds = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class Footprint:
    """What building an objective takes, known from its options alone: the number of elements of each parameter
    tensor, and the bytes its data and their preparation hold at the peak."""

    parameters: tuple[int, ...]
    data_bytes: int = 0


class Objective:
    """Base class of every objective (built-in or plugin).

    Attributes:
        name: the registry name (``"rosenbrock"``).
        optimum: a known minimiser, name -> array of the parameter's shape, or ``None``.
        optima: every known minimiser (Himmelblau has four); defaults to ``[optimum]``.
        min_value: the known minimum of the loss, or ``None`` (e.g. unbounded below).
        plot_bounds: ``((x_min, x_max), (y_min, y_max))``, the contour window of a 2-D objective (one parameter
            of two elements, or two scalar parameters), else ``None``.
        minibatches: whether ``loss(params, step)`` sees a part of the data that changes with the step (then
            :meth:`full_loss` is the true objective, which contour plots and the explorer draw).
        eval_every: how often :meth:`evaluate` runs: at the recorded steps that are multiples of it, and at the
            last step.
    """

    name: str = ""
    optimum: dict[str, np.ndarray] | None = None
    min_value: float | None = None
    plot_bounds: Bounds | None = None
    minibatches: bool = False
    eval_every: int = 1

    @classmethod
    def footprint(cls, **options) -> Footprint | None:
        """The parameters' sizes and the data's bytes for these options, without building anything; None when
        unknown (the runner then builds the objective to count its parameters). An objective that builds large
        data overrides this, so that a configuration this machine cannot hold is refused before any allocation."""
        return None

    def initial_params(self) -> dict[str, np.ndarray]:
        """Name -> initial value (a fresh float64 array each call, so callers may modify it)."""
        raise NotImplementedError

    def loss(self, params: dict[str, ad.Tensor], step: int) -> ad.Tensor:
        """The scalar loss at ``params``; ``step`` selects the minibatch where there is one."""
        raise NotImplementedError

    def full_loss(self, params: dict[str, ad.Tensor]) -> ad.Tensor:
        """The loss over all the data: the true objective, as drawn on landscapes (``loss(params, 0)`` for an
        objective without minibatches; one with minibatches overrides this)."""
        return self.loss(params, 0)

    def evaluate(self, params: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Measures of ``params`` (arrays in the run's dtype) beside the loss, name -> value, each logged as the
        metric ``Objective/<name>``: a held-out set's loss and accuracy, say. None by default."""
        return {}

    @property
    def optima(self) -> list[dict[str, np.ndarray]]:
        return [] if self.optimum is None else [self.optimum]

    def distance_to_optimum(self, params: Mapping[str, np.ndarray]) -> float | None:
        """Euclidean distance from ``params`` (all parameters flattened together) to the nearest known optimum."""
        if not self.optima:
            return None
        return min(
            float(np.sqrt(sum(np.sum((np.asarray(params[k], np.float64) - v) ** 2) for k, v in opt.items())))
            for opt in self.optima
        )

    def loss_gap(self, loss: float) -> float | None:
        """``loss - min_value`` where the minimum is known."""
        return None if self.min_value is None else float(loss) - self.min_value

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {tuple(v.shape)}" for k, v in self.initial_params().items())
        return f"{type(self).__name__}(name={self.name!r}, params={{{shapes}}})"


class ConstantCache:
    """Constant arrays of an objective as tensors of the run's dtype, converted once per dtype."""

    def __init__(self, **arrays: np.ndarray) -> None:
        self._arrays = arrays
        self._tensors: dict[tuple[str, object], ad.Tensor] = {}

    def get(self, name: str, dtype) -> ad.Tensor:
        key = (name, dtype)
        if key not in self._tensors:
            self._tensors[key] = ad.tensor(self._arrays[name], dtype=dtype)
        return self._tensors[key]
