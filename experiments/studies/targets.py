"""A study's targets: for each problem, the loss a run must reach, and the first step that reaches it.

A study's problem is an objective by name, and, when its gradients are noisy (``objective.gradient_noise`` > 0), by
name and noise scale: ``rosenbrock[noise=1]`` is a problem of its own beside ``rosenbrock`` (:func:`problem_name`;
runs are tagged ``study.problem``). The study config sets ``study.targets.<problem>`` to ``{loss_gap: g}`` (the loss
within ``g`` of the objective's known minimum: ``Objective/loss_gap <= g``) or ``{loss: v}`` (``Objective/loss <=
v``, for objectives whose minimum is unknown). A run of a study logs ``Summary/steps_to_target``: the first step whose loss meets it
(step t is the loss after t updates, so 0 means the start already met it); a run that never meets it logs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigError

STEPS_TO_TARGET = "Summary/steps_to_target"
KINDS = ("loss_gap", "loss")


@dataclass(frozen=True)
class Target:
    kind: str  # "loss_gap" or "loss"
    value: float

    def threshold(self, min_value: float | None) -> float:
        """The loss at or below which the target is met."""
        return self.value + min_value if self.kind == "loss_gap" else self.value

    def __str__(self) -> str:
        return f"{self.kind} <= {self.value!r}"


def problem_name(objective) -> str:
    """The problem a run of ``objective`` (its config node) is, in a study: the objective's name, with the noise
    scale added when its gradients are noisy (``rosenbrock[noise=1]``), so that a noisy and an exact variant of one
    objective are two problems, each with its own target and times."""
    name = str(objective.get("name"))
    try:
        noise = float(objective.get("gradient_noise") or 0.0)
    except (TypeError, ValueError):
        return name  # refused when the run is built (experiments.objectives.gradient_noise)
    return f"{name}[noise={noise:g}]" if noise > 0 else name


def target_for(study, problem: str) -> Target:
    """The target ``study.targets`` sets for ``problem`` (:func:`problem_name`); a ConfigError when there is none or
    it is not one of ``{loss_gap: g}`` (g >= 0) and ``{loss: v}``."""
    targets = study.get("targets") or {}
    entry = targets.get(problem)
    where = f"study.targets.{problem}"
    if entry is None:
        named = ", ".join(str(k) for k in targets) or "none"
        if "[" in problem:
            raise ConfigError(
                f"The problem {problem} (objective {problem.partition('[')[0]} with noisy gradients) has no target in "
                f"this study: every problem of a study needs one; give it in the study's file, under study.targets, as "
                f'"{problem}": {{loss_gap: 0.1}} (a loss gap, where the minimum is known) or {{loss: 0.5}} (a loss '
                f"value); a key with brackets cannot be set on the command line. Targets set: {named}.")
        raise ConfigError(f"objective={problem} has no target in this study: every objective of a study needs "
                          f"one, as {where}={{loss_gap: 0.001}} (a loss gap, where the minimum is known) or "
                          f"{where}={{loss: 0.5}} (a loss value). Targets set: {named}.")
    if not isinstance(entry, Mapping) or len(entry) != 1 or next(iter(entry)) not in KINDS:
        raise ConfigError(f"{where}={_plain(entry)!r} is not allowed: give exactly one of loss_gap (>= 0) and "
                          "loss, e.g. {loss_gap: 0.001}.")
    kind, value = next(iter(entry.items()))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or (
            kind == "loss_gap" and value < 0):
        raise ConfigError(f"{where}.{kind}={value!r} is not allowed: it must be a finite number"
                          f"{' >= 0' if kind == 'loss_gap' else ''}.")
    return Target(str(kind), float(value))


def run_threshold(cfg, objective) -> float | None:
    """The loss at or below which this run meets its study's target; None outside a study."""
    study = cfg.get("study")
    if not study:
        return None
    target = target_for(study, problem_name(cfg.objective))
    min_value = getattr(objective, "min_value", None)
    if target.kind == "loss_gap" and min_value is None:
        raise ConfigError(f"study.targets.{cfg.objective.name}.loss_gap is not allowed: objective="
                          f"{cfg.objective.name} does not know its minimum, so it has no loss gap; give a loss "
                          f"instead (study.targets.{cfg.objective.name}={{loss: <value>}}).")
    return target.threshold(min_value)


def first_step_at_or_below(history: list[tuple[int, float]], threshold: float) -> int | None:
    """The first step of ``(step, loss)`` pairs, in step order, whose loss is at most ``threshold`` (NaN never is)."""
    for step, loss in sorted(history):
        if loss <= threshold:
            return int(step)
    return None


def _plain(value):
    from omegaconf import DictConfig, ListConfig, OmegaConf

    return OmegaConf.to_container(value) if isinstance(value, (DictConfig, ListConfig)) else value
