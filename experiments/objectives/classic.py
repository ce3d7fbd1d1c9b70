"""The seed notebooks' functions: L = sum(3a^3 - b^2) and d2l's y = 2 x.x."""

from __future__ import annotations

import numpy as np

import autodiff as ad

from experiments.errors import ConfigError

from . import _validate
from .base import Objective


class Seed(Objective):
    """``L = sum(3 a**3 - b**2)`` from ``a = [2, 3]``, ``b = [6, 4]``: gradients ``9 a**2`` and ``-2 b``.

    Unbounded below (``a -> -inf``), so there is no optimum: optimizers run downhill for ever, which is the
    point of the seed notebooks' SGD/Adam cells.
    """

    name = "seed"

    def __init__(self, init=None) -> None:
        init = {"a": [2.0, 3.0], "b": [6.0, 4.0]} if init is None else init
        allowed = "a mapping {a: [...], b: [...]} of finite numbers or lists whose shapes broadcast together"
        init = _validate.mapping(init, "init", allowed)
        if set(init) != {"a", "b"}:
            raise ConfigError(
                f"objective.init has the keys {sorted(init)}; the seed objective's parameters are exactly a and b. "
                f"Allowed: {allowed}."
            )
        self._init = {name: _validate.finite_array(init[name], f"init.{name}", allowed) for name in ("a", "b")}
        try:
            np.broadcast_shapes(self._init["a"].shape, self._init["b"].shape)
        except ValueError:
            raise ConfigError(
                f"objective.init.a has shape {self._init['a'].shape} and objective.init.b shape "
                f"{self._init['b'].shape}, which do not broadcast together. Allowed: {allowed}."
            ) from None

    def initial_params(self) -> dict[str, np.ndarray]:
        return {name: value.copy() for name, value in self._init.items()}

    def loss(self, params, step):
        a, b = params["a"], params["b"]
        return ad.sum(3 * a**3 - b**2)


class D2L(Objective):
    """d2l.ai 2.5: ``y = 2 x.x`` from ``x = arange(4.)``, gradient ``4 x``; minimum 0 at ``x = 0``."""

    name = "d2l"

    def __init__(self, init=None) -> None:
        allowed = "a non-empty list of finite numbers (x is a vector)"
        x = np.arange(4.0) if init is None else _validate.finite_array(init, "init", allowed)
        if x.ndim != 1 or x.size == 0:
            raise ConfigError(
                f"objective.init = {init!r} is not allowed: it has shape {x.shape}, and x must be a vector "
                f"(torch.dot takes 1-D tensors). Allowed: {allowed}."
            )
        self._x = x
        self.optimum = {"x": np.zeros_like(x)}
        self.min_value = 0.0
        if x.size == 2:
            self.plot_bounds = _validate.square_bounds(np.zeros(2), 1.5 * max(1.0, np.abs(x).max()))

    def initial_params(self) -> dict[str, np.ndarray]:
        return {"x": self._x.copy()}

    def loss(self, params, step):
        x = params["x"]
        return 2 * ad.dot(x, x)
