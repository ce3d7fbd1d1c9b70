"""What a run records at each step: metric names and values, and the trajectory rows.

Metric names (fixed, documented in docs/runner.md, "What a run records"):
``loss``, ``grad_norm`` (Euclidean norm of all gradients together), ``lr`` (the first parameter group's rate used by
this update), ``distance_to_optimum`` and ``loss_gap`` where the objective knows its minimum, and per tensor
``param/<name>/<i>``, ``grad/<name>/<i>``, ``<state key>/<name>/<i>`` (``i`` the flat, row-major index) for tensors
of up to ``max_elements`` elements, or ``<kind>/<name>/norm``, ``/mean``, ``/min``, ``/max`` beyond.
"""

from __future__ import annotations

import math

import numpy as np

from autodiff import Tensor

SUMMARIES = ("norm", "mean", "min", "max")


def _as_array(value) -> np.ndarray | None:
    """The ndarray of an autodiff tensor (its storage, not a copy), or None for anything else an optimizer keeps
    (floats, lists)."""
    return value.numpy(force=True) if isinstance(value, Tensor) else None


class StepRecorder:
    """Turns tensors into ``(keys, values)`` for the metric writer, caching the key lists between steps."""

    def __init__(self, max_elements: int) -> None:
        self.max_elements = max_elements
        self._keys: dict[tuple[str, str, int], list[str]] = {}

    def keys_for(self, kind: str, name: str, size: int) -> list[str]:
        cached = self._keys.get((kind, name, size))
        if cached is None:
            if size <= self.max_elements:
                cached = [f"{kind}/{name}/{i}" for i in range(size)]
            else:
                cached = [f"{kind}/{name}/{s}" for s in SUMMARIES]
            self._keys[(kind, name, size)] = cached
        return cached

    def extend(self, keys: list[str], values: list[float], kind: str, name: str, array: np.ndarray) -> None:
        keys.extend(self.keys_for(kind, name, array.size))
        if array.size <= self.max_elements:
            values.extend(array.ravel().tolist())
        else:
            flat = array.ravel().astype(np.float64, copy=False)
            values.extend([float(np.sqrt(np.dot(flat, flat))), float(flat.mean()), float(flat.min()),
                           float(flat.max())])


def optimizer_state_arrays(optimizer, names: dict[int, str]) -> dict[str, np.ndarray]:
    """``"<state key>/<param name>"`` -> array, for every tensor in ``optimizer.state[p]`` (whatever the keys)."""
    out = {}
    for param, state in optimizer.state.items():
        name = names.get(id(param))
        if name is None:
            continue
        for key, value in state.items():
            array = _as_array(value)
            if array is not None:
                out[f"{key}/{name}"] = array
    return out


def grad_norm(grads: dict[str, np.ndarray]) -> float:
    """Euclidean norm of all gradients together, in float64 (so finite float32 gradients never overflow it)."""
    total = 0.0
    for g in grads.values():
        flat = g.ravel().astype(np.float64, copy=False)
        total += float(np.dot(flat, flat))
    return math.sqrt(total)


def first_non_finite(arrays: dict[str, np.ndarray]) -> str | None:
    """``"grad/a[3]"`` for the first non-finite element found, else None."""
    for key, array in arrays.items():
        bad = np.flatnonzero(~np.isfinite(array))
        if bad.size:
            return f"{key}[{int(bad[0])}] = {array.ravel()[bad[0]]}"
    return None
