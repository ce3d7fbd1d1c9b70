"""Held-out seeds: each optimizer's chosen learning rate on each objective, re-run on seeds the tuning did not see.

The chosen trial of an (objective, optimizer) is the learning-rate factor with the lowest median steps to target over
the study's seeds (then the lowest median final loss). Its job is run again with each held-out seed, as one more child
of the study's parent, tagged ``study.held_out=true``; the report then has a third setting, ``held_out``
(:mod:`.profiles`), its headline. The tuning counts only the grid's runs, so the re-runs change neither the tuned nor
the default figures.

A study that names ``study.held_out_seeds`` runs them as the second phase of its own sweep (the ``study`` sweeper,
``hydra_plugins/optimizer_trajectories/``: :func:`held_out_batch`, jobs of the sweep's launcher);
``python -m experiments.study <parent> --held-out-seeds ...`` runs them afterwards, in its own process
(:func:`rerun`). Either way a re-run is its trial's job with ``seed=`` replaced and :data:`MARKS` added.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError
from .profiles import median
from .results import Trial, tuning

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
MARKS = ("++study.held_out=true", "repeats=1")  # a re-run's own overrides: tagged held out, one run of its seed


def chosen_factors(trials: list[Trial]) -> dict[tuple[str, str], float]:
    """(objective, optimizer) -> the learning-rate factor its tuning chose."""
    by_factor: dict[tuple[str, str], dict[float, list[Trial]]] = {}
    for t in tuning(trials):
        by_factor.setdefault((t.objective, t.optimizer), {}).setdefault(t.lr_factor, []).append(t)

    def rank(item):
        factor, runs = item
        final = median(t.final_loss if math.isfinite(t.final_loss) else math.inf for t in runs)
        return median(t.steps_to_target for t in runs), final, factor

    return {key: min(factors.items(), key=rank)[0] for key, factors in by_factor.items()}


def is_held_out(cfg) -> bool:
    """Whether a job's config is a held-out re-run (its ``study.held_out``, set by :data:`MARKS`)."""
    study = cfg.get("study") or {}
    return bool(study.get("held_out", False))


def shown_overrides(overrides: Sequence[str]) -> list[str]:
    """A re-run's overrides without :data:`MARKS`, to name it."""
    return [o for o in overrides if o not in MARKS]


def _key(override: str) -> str:
    return override.partition("=")[0].lstrip("+~")


def held_out_jobs(client, trials: list[Trial], seeds: Sequence[int],
                  grid: Sequence[Sequence[str]] = ()) -> list[list[str]]:
    """The overrides of each re-run: its chosen trial's job (the one of ``grid`` its run's ``overrides`` tag names,
    else that tag's words) with ``seed=`` replaced and :data:`MARKS` added."""
    from ..credentials import redact

    by_text = {redact(" ".join(job)): list(job) for job in grid}
    chosen = chosen_factors(trials)
    jobs = []
    for (objective, optimizer), factor in sorted(chosen.items()):
        model = next(t for t in tuning(trials) if (t.objective, t.optimizer, t.lr_factor) == (objective, optimizer,
                                                                                              factor))
        text = client.get_run(model.run_id).data.tags.get("overrides", "")
        job = by_text.get(text, text.split())
        kept = [o for o in job if _key(o) not in ("seed", "repeats") and o not in MARKS]
        jobs += [[*kept, f"seed={seed}", *MARKS] for seed in seeds]
    return jobs


def held_out_seeds(study) -> list[int]:
    """``study.held_out_seeds`` (absent or ``[]``: no held-out phase), or a ConfigError saying what it must be."""
    seeds = (study or {}).get("held_out_seeds") or []
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__") or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise ConfigError(f"study.held_out_seeds={seeds!r} is not allowed: give a list of seeds (integers >= 0), "
                          "e.g. study.held_out_seeds=[2,3], or [] for no held-out phase.")
    return [int(s) for s in seeds]


def check_seeds(held_out: Sequence[int], tuning_seeds: set[int]) -> None:
    """A ConfigError when a held-out seed is one the grid tunes on (its re-run would not be held out)."""
    shared = sorted(set(held_out) & set(tuning_seeds))
    if shared:
        raise ConfigError(
            f"study.held_out_seeds={list(held_out)} is not allowed: seed{'s' if len(shared) > 1 else ''} "
            f"{', '.join(map(str, shared))} {'are' if len(shared) > 1 else 'is'} among the seeds the study tunes its "
            f"learning rates on ({', '.join(map(str, sorted(tuning_seeds)))}), so a re-run on "
            f"{'them' if len(shared) > 1 else 'it'} would not be held out. Give seeds the grid does not use (e.g. "
            f"study.held_out_seeds=[{max(tuning_seeds) + 1},{max(tuning_seeds) + 2}]), or [] for no held-out phase. "
            "Nothing was run.")


def held_out_batch(config, grid: Sequence[Sequence[str]]) -> list[list[str]]:
    """The study sweeper's second phase, once the grid's jobs are done: the re-runs of the chosen trials (none when
    the study names no held-out seeds, the sweep was stopped, or it has no parent run to read the grid from)."""
    from .. import signals
    from ..sweep import stop_requested
    from ..tracking import open_client
    from ..tracking.parent import ParentRun
    from .results import study_trials

    seeds = held_out_seeds(config.get("study"))
    if not seeds:
        return []
    signals.check()  # interrupted: the sweep ends (its parent KILLED), the held-out phase never starts
    sweep_dir = str(config.hydra.sweep.dir)
    if stop_requested(sweep_dir) is not None:
        return []
    parent = ParentRun.read(sweep_dir)
    if parent is None:
        print("No held-out phase: the sweep has no parent run to read its grid's results from.", file=sys.stderr,
              flush=True)
        return []
    client = open_client(parent.tracking_uri)
    jobs = held_out_jobs(client, study_trials(client, parent.run_id), seeds, grid)
    print(f"Held-out phase: {len(jobs)} re-runs of the chosen learning rates on seeds "
          f"{', '.join(map(str, seeds))}.", flush=True)
    return jobs


def rerun(client, parent_run_id: str, trials: list[Trial], seeds: Sequence[int], launch_dir: Path) -> list[str]:
    """Run every held-out job as a child of the parent, in this process; returns their run ids."""
    from hydra import compose, initialize_config_dir

    from .. import plugin_configs
    from ..runner import run
    from ..tracking.parent import CONSTANT_TAG, ParentRun

    plugin_configs.register()
    parent = client.get_run(parent_run_id)
    constant = tuple(json.loads(parent.data.tags.get(CONSTANT_TAG) or "[]"))
    handle = ParentRun(parent_run_id, parent.info.experiment_id, client.tracking_uri, constant)
    run_ids = []
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        for overrides in held_out_jobs(client, trials, seeds):
            cfg = compose("config", overrides=overrides)
            result = run(cfg, overrides=overrides, launch_dir=launch_dir, parent=handle,
                         run_name=run_name(overrides, constant), extra_tags=configuration_tag(overrides))
            run_ids.append(result.run_id)
    return run_ids


def run_name(overrides: Sequence[str], constant: Sequence[str] = ()) -> str:
    """``held out`` and what sets the re-run apart from the sweep's other jobs (the sweep's constant overrides and
    :data:`MARKS` left out)."""
    from ..tags import varying_overrides

    return "held out " + " ".join(varying_overrides(shown_overrides(overrides), constant))


def configuration_tag(overrides: Sequence[str]) -> dict[str, str]:
    """The ``configuration`` tag that groups a re-run's seeds (apart from the grid's runs of its trial)."""
    return {"configuration": "held out " + " ".join(o for o in shown_overrides(overrides)
                                                    if not o.startswith("seed="))}
