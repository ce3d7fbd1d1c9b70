"""What a run is tagged with in MLflow (optimizer, objective, overrides, the code's git commit) and its default name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .credentials import redact


def git_commit(directory: Path) -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_tags(cfg, overrides: Sequence[str], extra: Mapping[str, str] = ()) -> dict[str, str]:
    """A run's tags; in a study, also ``study``, ``study.lr_factor``, ``study.problem`` (the objective's name, with
    its noise scale when its gradients are noisy) and ``study.target`` (what its report reads),
    and ``study.held_out=true`` for a re-run on a held-out seed (:mod:`experiments.studies.held_out`)."""
    from .studies.held_out import is_held_out
    from .studies.results import HELD_OUT_TAG
    from .studies.targets import problem_name, target_for

    tags = _common_tags(cfg, overrides, extra)
    study = cfg.get("study")
    if study:
        tags["study.lr_factor"] = repr(float(study.get("lr_factor", 1.0)))
        tags["study.problem"] = problem_name(cfg.objective)
        tags["study.target"] = str(target_for(study, tags["study.problem"]))
        if is_held_out(cfg):
            tags[HELD_OUT_TAG] = "true"
    return tags


def _common_tags(cfg, overrides: Sequence[str], extra: Mapping[str, str] = ()) -> dict[str, str]:
    tags = {
        "optimizer": str(cfg.optimizer.name),
        "objective": str(cfg.objective.name),
        "overrides": " ".join(overrides),
        "dtype": str(cfg.dtype),
        "seed": str(cfg.seed),
        **dict(extra),
    }
    if cfg.get("study"):
        tags["study"] = str(cfg.study.get("name"))
    commit = git_commit(Path(__file__).resolve().parent.parent)
    if commit:
        tags["git_commit"] = commit
        tags["mlflow.source.git.commit"] = commit
    return {key: redact(value) for key, value in tags.items()}  # the overrides may hold a tracking URI


def default_run_name(cfg, overrides: Sequence[str]) -> str:
    """The overrides that make this run what it is (``optimizer=adam lr=0.1``), or the optimizer's name."""
    return " ".join(overrides) or str(cfg.optimizer.name)


def swept_keys(overrides: Sequence[str], sweeper_params: Sequence[str] = ()) -> set[str]:
    """The keys a sweep varies: those of its sweep overrides (``optimizer=sgd,adam``, ``lr=range(...)``) and of
    its sweeper's search space (``hydra.sweeper.params``)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return {o.key_or_group for o in parsed if o.is_sweep_override()} | set(sweeper_params)


def constant_overrides(overrides: Sequence[str]) -> list[str]:
    """The overrides of a sweep that every job gets as they are (``objective=quadratic``, not ``lr=0.1,0.2``)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return [o.input_line for o in parsed if not o.is_sweep_override()]


def parent_tags(cfg, overrides: Sequence[str], swept: set[str]) -> dict[str, str]:
    """A sweep's parent run: its overrides as given, ``sweep=parent``, and the run tags of what it does not vary
    (no single ``optimizer`` when the optimizer is swept)."""
    tags = _common_tags(cfg, overrides, {"sweep": "parent"})
    for key in ("optimizer", "objective", "dtype", "seed"):
        if key in swept:
            tags.pop(key)
    return tags


def varying_overrides(overrides: Sequence[str], constant: Sequence[str]) -> list[str]:
    """What sets a sweep's job apart from the other jobs, to name its run: its overrides but the sweep's constant
    ones (all of them when none differs)."""
    varying = [o for o in overrides if o not in set(constant)]
    return varying or list(overrides)
