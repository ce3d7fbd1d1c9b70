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
    tags = {
        "optimizer": str(cfg.optimizer.name),
        "objective": str(cfg.objective.name),
        "overrides": " ".join(overrides),
        "dtype": str(cfg.dtype),
        "seed": str(cfg.seed),
        **dict(extra),
    }
    commit = git_commit(Path(__file__).resolve().parent.parent)
    if commit:
        tags["git_commit"] = commit
        tags["mlflow.source.git.commit"] = commit
    return {key: redact(value) for key, value in tags.items()}  # the overrides may hold a tracking URI


def default_run_name(cfg, overrides: Sequence[str]) -> str:
    """The overrides that make this run what it is (``optimizer=adam lr=0.1``), or the optimizer's name."""
    return " ".join(overrides) or str(cfg.optimizer.name)
