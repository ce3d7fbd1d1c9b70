"""The run's first step, tried on a copy before the MLflow run exists.

Building the objective, the optimizer and the scheduler checks their arguments, but some mistakes only show when
they are used: a starting point whose loss or gradient overflows in the run's dtype (``objective.init=1e300`` or
``exp(a)`` at ``a=100`` are finite in float64, not in float32), an optimizer hyperparameter torch checks only in
``step()``, a scheduler that divides by ``step_size=0``. A run created for them would fail at step 0; here they are
a ConfigError instead, with the numbers. The trial works on freshly built parameters, optimizer and scheduler and
restores every random generator, so the run itself is exactly what it would be without it.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError


def _describe(cfg) -> str:
    return f"{cfg.optimizer.name} on {cfg.objective.name} in {cfg.dtype}"


def _check_start(cfg, problem) -> None:
    """The initial values, loss and gradient are finite in the run's dtype."""
    info = np.finfo(cfg.dtype)
    for name, tensor in problem.params.items():
        data = tensor.numpy(force=True)
        if not np.all(np.isfinite(data)):
            original = problem.objective.initial_params()[name]
            raise ConfigError(
                f"objective.init: the start of {name} does not fit in {cfg.dtype} (its largest finite value is "
                f"{info.max:.7g}; the start has {np.max(np.abs(original)):.7g}), so a run would fail at step 0. "
                f"Allowed: initial values within the dtype's range, or dtype=float64.")


def _loss_message(cfg, problem, what: str, value) -> str:
    hint = ""
    if cfg.dtype != "float64":
        import autodiff as ad

        wide = {n: ad.tensor(np.asarray(v), dtype=ad.float64) for n, v in problem.objective.initial_params().items()}
        with np.errstate(all="ignore"):
            in_float64 = float(problem.objective.loss(wide, 0).item())
        if math.isfinite(in_float64):
            hint = f" (in float64 it is {in_float64:.7g}: dtype=float64 would hold it)"
    return (f"The {what} at the start (objective.init) is {value} in {cfg.dtype}{hint}, so a run of {_describe(cfg)} "
            f"would fail at step 0. Allowed: a start where the loss and its gradient are finite in the run's dtype.")


def _step(cfg, problem) -> None:
    from . import recording

    objective, params, optimizer = problem.objective, problem.params, problem.optimizer
    optimizer.zero_grad()
    loss_tensor = objective.loss(params, 0)
    loss_tensor.backward()
    loss = float(loss_tensor.item())
    if not math.isfinite(loss):
        raise ConfigError(_loss_message(cfg, problem, "loss", loss))
    grads = {f"grad/{n}": t.grad.numpy(force=True) for n, t in params.items() if t.grad is not None}
    norm = recording.grad_norm(grads)
    if not math.isfinite(norm):
        where = recording.why_not_finite(grads, norm)
        raise ConfigError(_loss_message(cfg, problem, f"gradient ({where})", "not finite"))

    def closure():
        optimizer.zero_grad()
        again = objective.loss(params, 0)
        again.backward()
        return again

    try:
        optimizer.step(closure)
    except Exception as error:  # noqa: BLE001 - whatever torch's step refuses is the user's hyperparameter
        raise ConfigError(f"optimizer={cfg.optimizer.name}: its first step fails with {type(error).__name__}: "
                          f"{error}. Check its hyperparameters (lr=..., optimizer.<name>=...): they are passed to "
                          f"the optimizer as given.") from None
    if problem.scheduler is not None:
        try:
            problem.scheduler.step()
        except Exception as error:  # noqa: BLE001
            raise ConfigError(f"scheduler={problem.scheduler.__class__.__name__}: its first step fails with "
                              f"{type(error).__name__}: {error}. Check its options (scheduler.<name>=...).") from None


def check(cfg, build) -> None:
    """Build a second copy of the problem with ``build()`` and take one step with it; a ConfigError if the start is
    not finite in the run's dtype or the step fails. Every random generator is left as it was."""
    import autodiff as ad

    states = ad.get_rng_state(), np.random.get_state(legacy=False)
    try:
        with np.errstate(all="ignore"):
            trial = build()
            _check_start(cfg, trial)
            _step(cfg, trial)
    finally:
        ad.set_rng_state(states[0])
        np.random.set_state(states[1])
