"""A study's child runs read back from MLflow: one :class:`Trial` per run, from its tags, params and metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..recording import FINAL_LOSS
from .targets import STEPS_TO_TARGET

DEFAULT_FACTOR = 1.0  # the trial at the optimizer's own default learning rate
HELD_OUT_TAG = "study.held_out"


@dataclass(frozen=True)
class Trial:
    run_id: str
    run_name: str
    status: str
    objective: str  # the problem: the objective's name, with its noise scale when noisy (targets.problem_name)
    optimizer: str
    lr: float
    lr_factor: float
    seed: int
    target: str  # as the run was tagged: "loss_gap <= 0.001"
    steps_to_target: float  # math.inf when the target was never reached
    final_loss: float  # NaN when the run did not end with a finite loss
    held_out: bool = False  # a re-run of the chosen learning rate on a seed the tuning did not see (.held_out)
    experiment_id: str = ""  # where the run is stored (for its link in the MLflow UI)

    @property
    def is_default(self) -> bool:
        return math.isclose(self.lr_factor, DEFAULT_FACTOR)


def trial_of(run) -> Trial | None:
    """The study trial a child run is, or None for a run that is no study's (no ``study.lr_factor`` tag)."""
    tags, metrics = run.data.tags, run.data.metrics
    if "study.lr_factor" not in tags:
        return None
    steps = metrics.get(STEPS_TO_TARGET)
    problem = tags.get("study.problem") or tags.get("objective", "")  # runs made before the tag: the objective
    return Trial(run.info.run_id, run.info.run_name or run.info.run_id, run.info.status, problem,
                 tags.get("optimizer", ""), float(run.data.params.get("optimizer.lr", "nan")),
                 float(tags["study.lr_factor"]), int(tags.get("seed", 0)), tags.get("study.target", ""),
                 math.inf if steps is None else float(steps), float(metrics.get(FINAL_LOSS, math.nan)),
                 tags.get(HELD_OUT_TAG) == "true", run.info.experiment_id)


def study_trials(client, parent_run_id: str) -> list[Trial]:
    """Every child of the parent that is a study trial, in a stable order."""
    from ..compare import child_runs

    trials = [t for t in map(trial_of, child_runs(client, parent_run_id)) if t is not None]
    return sorted(trials, key=lambda t: (t.objective, t.optimizer, t.lr_factor, t.seed, t.run_id))


def budgets(trials: list[Trial]) -> dict[tuple[str, str], int]:
    """(objective, optimizer) -> the number of distinct learning-rate trials it got (a fair study: all equal)."""
    factors: dict[tuple[str, str], set[float]] = {}
    for t in tuning(trials):
        factors.setdefault((t.objective, t.optimizer), set()).add(t.lr_factor)
    return {key: len(v) for key, v in factors.items()}


def tuning(trials: list[Trial]) -> list[Trial]:
    """The trials of the study's grid (not the held-out re-runs)."""
    return [t for t in trials if not t.held_out]
