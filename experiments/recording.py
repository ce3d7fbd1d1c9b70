"""What a run records at each step: metric names and values, and the trajectory rows.

Metric names (documented in docs/runner.md, "What a run records") are chosen for the MLflow UI, which groups a
run's charts into sections named after everything before a key's last ``/``, titles each chart with what follows
it, lists the sections in sorted order (capitals before lower case) and puts keys without a ``/`` last:

- ``Objective/loss``, ``Objective/loss_gap``, ``Objective/distance_to_optimum`` (the last two where the objective
  knows its minimum) and ``Optimizer/grad_norm`` (Euclidean norm of all gradients together), ``Optimizer/lr`` (the
  first parameter group's rate used by this update), ``Optimizer/update_norm`` (norm of the change the update made
  to all parameters), ``Optimizer/update_cosine`` (cosine between the negative gradient and that change; 0 when
  either is zero, as ``torch.nn.functional.cosine_similarity`` gives): the first two sections of a run's page;
- ``Objective/<name>`` for each measure the objective's ``evaluate(params)`` gives (``digits``: ``test_loss``,
  ``test_accuracy``), at the recorded steps that are multiples of its ``eval_every`` and at the last step;
- ``Summary/final_loss``, ``Summary/best_loss``, ``Summary/best_step``, once, when the run ends;
- per tensor, ``<kind>/<name>.<i>`` (``param/a.0``, ``grad/a.0``, ``exp_avg/a.0``: a section per kind, a chart per
  element titled ``a.0``; ``i`` the flat, row-major index; a 0-d tensor is ``<kind>/<name>``) for tensors of up to
  ``max_elements`` elements, or ``<kind>/<name>.norm``, ``.mean``, ``.min``, ``.max`` beyond. Optimizer state that
  only counts steps (the key ``step``, integer tensors) is no metric; the trajectory artifact keeps it.
"""

from __future__ import annotations

import math

import numpy as np

from autodiff import Tensor

SUMMARIES = ("norm", "mean", "min", "max")

LOSS = "Objective/loss"
LOSS_GAP = "Objective/loss_gap"
DISTANCE_TO_OPTIMUM = "Objective/distance_to_optimum"
GRAD_NORM = "Optimizer/grad_norm"
LR = "Optimizer/lr"
UPDATE_NORM = "Optimizer/update_norm"
UPDATE_COSINE = "Optimizer/update_cosine"
FINAL_LOSS = "Summary/final_loss"
BEST_LOSS = "Summary/best_loss"
BEST_STEP = "Summary/best_step"
PARENT_BEST_FINAL_LOSS = "Summary/best_final_loss"  # a sweep's parent: the lowest final loss of its runs
RUNNER_OBJECTIVE_KEYS = frozenset({LOSS, LOSS_GAP, DISTANCE_TO_OPTIMUM})  # the objective's own measures: the rest
COUNTER_KEYS = frozenset({"step"})  # torch's per-parameter step count: the step axis says it already


def element_key(kind: str, name: str, index: int | str | None = None) -> str:
    """``param/a.0``: the metric of element ``index`` of tensor ``name`` (``param/a`` for a 0-d tensor)."""
    return f"{kind}/{name}" if index is None else f"{kind}/{name}.{index}"


def _as_array(value) -> np.ndarray | None:
    """The ndarray of an autodiff tensor (its storage, not a copy), or None for anything else an optimizer keeps
    (floats, lists)."""
    return value.numpy(force=True) if isinstance(value, Tensor) else None


class StepRecorder:
    """Turns tensors into ``(keys, values)`` for the metric writer, caching the key lists between steps."""

    def __init__(self, max_elements: int) -> None:
        self.max_elements = max_elements
        self._keys: dict[tuple[str, str, tuple], list[str]] = {}

    def keys_for(self, kind: str, name: str, shape: tuple) -> list[str]:
        cached = self._keys.get((kind, name, shape))
        if cached is None:
            size = math.prod(shape)
            if not shape:
                cached = [element_key(kind, name)]
            elif size <= self.max_elements:
                cached = [element_key(kind, name, i) for i in range(size)]
            else:
                cached = [element_key(kind, name, s) for s in SUMMARIES]
            self._keys[(kind, name, shape)] = cached
        return cached

    def extend(self, keys: list[str], values: list[float], kind: str, name: str, array: np.ndarray) -> None:
        keys.extend(self.keys_for(kind, name, array.shape))
        if array.size <= self.max_elements or not array.shape:
            values.extend(array.ravel().tolist())
        else:
            flat = array.ravel().astype(np.float64, copy=False)
            values.extend([float(np.sqrt(np.dot(flat, flat))), float(flat.mean()), float(flat.min()),
                           float(flat.max())])


def objective_measures(objective, params: dict[str, np.ndarray], step: int, last: bool) -> dict[str, float]:
    """``Objective/<name>`` -> value for the measures the objective takes of ``params`` beside its loss
    (``Objective.evaluate``: a held-out set's loss, say), at the steps that are multiples of its ``eval_every``
    and at the ``last``; nothing otherwise, or for an objective without measures."""
    evaluate = getattr(objective, "evaluate", None)
    if not callable(evaluate) or not (last or step % int(getattr(objective, "eval_every", 1)) == 0):
        return {}
    return {f"Objective/{name}": float(value) for name, value in evaluate(params).items()}


def is_objective_measure(key: str) -> bool:
    """Whether metric ``key`` is one of the objective's own measures (``Objective/test_loss``), logged every
    ``eval_every`` recorded steps rather than at each."""
    return key.startswith("Objective/") and key not in RUNNER_OBJECTIVE_KEYS


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


def is_series(state_key: str, array: np.ndarray) -> bool:
    """Whether an optimizer-state tensor is a metric series: not a step counter (``step``, an integer tensor)."""
    return state_key not in COUNTER_KEYS and array.dtype.kind in "fc"


def grad_norm(grads: dict[str, np.ndarray]) -> float:
    """Euclidean norm of all gradients together, in float64 (so finite float32 gradients never overflow it)."""
    total = 0.0
    for g in grads.values():
        flat = g.ravel().astype(np.float64, copy=False)
        total += float(np.dot(flat, flat))
    return math.sqrt(total)


def update_measures(before: dict[str, np.ndarray], after: dict[str, np.ndarray],
                    grads: dict[str, np.ndarray]) -> tuple[float, float]:
    """(norm of the update ``after - before``, cosine between ``-grads`` and it), all tensors together, in float64.
    The cosine is 0 when either vector is zero (no direction to compare), as torch's ``cosine_similarity``."""
    squared, dot, grad_squared = 0.0, 0.0, 0.0
    for name, start in before.items():
        change = (np.asarray(after[name], dtype=np.float64) - start.astype(np.float64)).ravel()
        grad = grads[name].ravel().astype(np.float64, copy=False)
        squared += float(np.dot(change, change))
        dot -= float(np.dot(grad, change))
        grad_squared += float(np.dot(grad, grad))
    norm = math.sqrt(squared)
    scale = norm * math.sqrt(grad_squared)
    return norm, (dot / scale if scale > 0 else 0.0)


def why_not_finite(grads: dict[str, np.ndarray], norm: float) -> str:
    """What made a gradient norm non-finite: its first non-finite element (``"grad/a[3] = nan"``), or, when every
    element is finite, the norm itself (their squares overflow float64)."""
    return first_non_finite(grads) or f"gradient norm {norm!r}: every element is finite, their squares overflow"


def first_non_finite(arrays: dict[str, np.ndarray]) -> str | None:
    """``"grad/a[3]"`` for the first non-finite element found, else None."""
    for key, array in arrays.items():
        bad = np.flatnonzero(~np.isfinite(array))
        if bad.size:
            return f"{key}[{int(bad[0])}] = {array.ravel()[bad[0]]}"
    return None
