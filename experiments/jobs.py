"""Glue between Hydra and :func:`experiments.runner.run`: the command-line overrides, the launch directory, the
sweep's parent run, ``repeats`` (one child run per seed, the job returning their mean final loss), and, in a sweep,
the earlier runs of the same configuration that a job skips or resumes instead of starting anew
(:mod:`experiments.reuse`)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from . import signals
from .errors import RunNotStored
from .reuse import run_or_reuse
from .runner import RunResult


def hydra_context() -> tuple[list[str], Path, str | None]:
    """(task overrides, the directory the command ran in, the sweep directory when in a multirun)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    hydra_cfg = HydraConfig.get()
    overrides = OmegaConf.to_container(hydra_cfg.overrides.task, resolve=False)  # the text typed: lr=${...} too
    sweep_dir = str(hydra_cfg.sweep.dir) if hydra_cfg.mode == RunMode.MULTIRUN else None
    return overrides, Path(hydra_cfg.runtime.cwd), sweep_dir


def configuration_label(overrides: list[str]) -> str:
    """What distinguishes a configuration from another, seeds aside (groups repeats in the comparison)."""
    return " ".join(o for o in overrides if not o.startswith("seed=")) or "defaults"


def run_job(cfg) -> float:
    """The task function's body: run ``cfg`` (``repeats`` times with successive seeds), return the final loss
    (the mean over seeds; NaN when a run failed, which sweepers treat as a failed trial).

    A sweep's job in a process other than the launcher's (:mod:`experiments.sweep`) stops when its sweep is
    stopped, or does not start; an interruption ends its runs KILLED and the job returns NaN: the launcher, not
    the job, ends the sweep (an error returned to joblib would kill the other workers mid-run)."""
    from . import sweep
    from .config import validate

    validate(cfg)
    overrides, launch_dir, sweep_dir = hydra_context()
    if sweep_dir is None or sweep.is_launcher_process():
        return _run_configuration(cfg, overrides, launch_dir, sweep_dir)
    with sweep.Job(sweep_dir) as job:
        if job.refused:
            print(f"Job {' '.join(overrides)} not started: the sweep was stopped.", file=sys.stderr, flush=True)
            return math.nan
        try:
            return _run_configuration(cfg, overrides, launch_dir, sweep_dir)
        except KeyboardInterrupt as error:
            print(signals.closing_line(error), file=sys.stderr, flush=True)
            return math.nan


def _run_configuration(cfg, overrides: list[str], launch_dir: Path, sweep_dir: str | None) -> float:
    from omegaconf import open_dict

    from .studies.held_out import configuration_tag, is_held_out, run_name
    from .tags import varying_overrides
    from .tracking import open_client, resolve_uri
    from .tracking.parent import ParentRun

    parent = None
    if sweep_dir:
        parent = ParentRun.read(sweep_dir) or ParentRun.find(
            resolve_uri(cfg.tracking.get("uri"), launch_dir), str(cfg.tracking.experiment), sweep_dir)
    repeats = int(cfg.repeats)
    group = {"configuration": configuration_label(overrides)}
    name = None
    if is_held_out(cfg):  # a study's re-run on a held-out seed (experiments.studies.held_out)
        group = configuration_tag(overrides)
        name = run_name(overrides, parent.constant if parent is not None else ())
    if repeats == 1:
        result = run_or_reuse(cfg, label=" ".join(overrides), parent=parent, client=None, reuse=bool(sweep_dir),
                              overrides=overrides, launch_dir=launch_dir, run_name=name, extra_tags=group)
        if result.spool is not None and sweep_dir is None:
            raise RunNotStored(f"run {result.run_id} ended {result.status}, but the tracking store has not received "
                               f"all of it: it is kept in {result.spool} (python -m experiments.sync "
                               f"{result.spool} uploads it).")
        return _loss(result)
    if parent is None:  # a single configuration with several seeds: its own parent run, compared at the end
        from .callbacks import close_parent, open_parent

        parent = open_parent(cfg, launch_dir, " ".join(overrides) or "repeats", sweep_dir=None,
                             overrides=overrides, swept={"seed"})
        own_parent = True
    else:
        own_parent = False
    results: list[RunResult] = []
    client = open_client(parent.tracking_uri)
    status = "FAILED"
    try:
        for i in range(repeats):
            seeded = cfg.copy()
            with open_dict(seeded):
                seeded.seed = int(cfg.seed) + i
            name = " ".join([*overrides, f"seed={seeded.seed}"]) if own_parent else " ".join(
                [*varying_overrides(overrides, parent.constant), f"seed={seeded.seed}"])
            results.append(run_or_reuse(seeded, label=name, parent=parent, client=client, reuse=not own_parent,
                                        overrides=overrides, launch_dir=launch_dir, run_name=name,
                                        extra_tags={**group, "repeat": str(i)}))
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        if own_parent:
            print(close_parent(parent, status), flush=True)
    losses = [_loss(r) for r in results]
    return float(sum(losses) / len(losses))


def _loss(result: RunResult) -> float:
    return result.final_loss if result.status == "FINISHED" and math.isfinite(result.final_loss) else math.nan
