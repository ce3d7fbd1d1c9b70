"""Gradient noise, an option of every objective: ``objective.gradient_noise=<std>`` turns any objective into a noisy
test problem (as DeepOBS's noisy quadratic, or a noisy Rosenbrock or Beale).

At every step, after the backward pass, each element of each parameter's gradient gets independent Gaussian noise
of standard deviation ``std`` (absolute, per coordinate): the optimizer sees ``g + std * xi`` with
``xi ~ N(0, I)``, so ``E|noise|^2 = std^2 * n`` for ``n`` coordinates. The loss is untouched (the run logs the true
loss); the noisy gradient is the one logged (``grad/*``, ``Optimizer/grad_norm``) because it is the one the
optimizer used.

The noise of step ``t`` is drawn from its own generator, seeded by ``(run seed, t)``: the same seed gives the same
noise, a resumed run draws exactly what the uninterrupted one drew (nothing to checkpoint), and every gradient
evaluated within one step (LBFGS's line search) gets the same draw, as a minibatch objective keeps its batch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np

from experiments.errors import ConfigError

KEY = "gradient_noise"  # the objective option, read and removed by the runner (no objective sees it)
STREAM = 0x6E6F697365  # ("noise") keeps this generator apart from any other seeded by (seed, step)


def standard_deviation(value) -> float:
    """``objective.gradient_noise`` checked: a finite number >= 0 (null reads as 0); a ConfigError otherwise."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ConfigError(
            f"objective.{KEY}={value!r} is not allowed: it is the standard deviation of the Gaussian noise added "
            f"to every coordinate of the gradient the optimizer sees (absolute, the same for every coordinate and "
            f"step), so it must be a finite number >= 0. Allowed: 0 (exact gradients, the default), or e.g. "
            f"objective.{KEY}=0.1."
        )
    return float(value)


def split(options: Mapping) -> tuple[dict, float]:
    """``(the objective's own options, the noise's standard deviation)`` of an ``objective`` config node."""
    own = dict(options)
    return own, standard_deviation(own.pop(KEY, None))


class GradientNoise:
    """Adds ``std * N(0, I)`` to the gradients of a run's parameters, the draw of step ``t`` fixed by
    ``(seed, t)``."""

    def __init__(self, std: float, seed: int) -> None:
        self.std = float(std)
        self.seed = int(seed)

    def draws(self, shapes: Mapping[str, tuple[int, ...]], step: int) -> dict[str, np.ndarray]:
        """The noise of ``step`` for parameters of these shapes, in float64, drawn in the parameters' order."""
        generator = np.random.default_rng([self.seed, int(step), STREAM])
        return {name: self.std * generator.standard_normal(shape) for name, shape in shapes.items()}

    def perturb(self, params: Mapping, step: int) -> None:
        """Add the noise of ``step`` to each parameter's ``.grad`` in place (a parameter without a gradient gets
        one: the optimizer sees noise even where the loss does not depend on it)."""
        import autodiff as ad

        noise = self.draws({name: tuple(t.shape) for name, t in params.items()}, step)
        for name, tensor in params.items():
            if tensor.grad is None:
                tensor.grad = ad.zeros_like(tensor)
            grad = tensor.grad.numpy(force=True)
            grad += noise[name].astype(grad.dtype, copy=False)


def for_run(std: float, seed: int) -> GradientNoise | None:
    """The run's noise, or None for ``std == 0`` (then the run is exactly a run without the option)."""
    return GradientNoise(std, seed) if std > 0 else None
