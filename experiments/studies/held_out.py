"""Held-out seeds: each optimizer's chosen learning rate on each objective, re-run on seeds the tuning did not see.

The chosen trial of an (objective, optimizer) is the learning-rate factor with the lowest median steps to target over
the study's seeds (then the lowest median final loss). Its job's configuration is composed again from the child's
``overrides`` tag with another ``seed=`` and run in this process as one more child of the study's parent, tagged
``study.held_out=true``; the report then has a third setting, ``held_out`` (:mod:`.profiles`). The tuning counts
only the grid's runs, so the re-runs change neither the tuned nor the default figures.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from .profiles import median
from .results import HELD_OUT_TAG, Trial, tuning

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


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


def held_out_jobs(client, parent_run_id: str, trials: list[Trial], seeds: Sequence[int]) -> list[list[str]]:
    """The overrides of each re-run: a chosen trial's (from its run's ``overrides`` tag), ``seed=`` replaced."""
    chosen = chosen_factors(trials)
    jobs = []
    for (objective, optimizer), factor in sorted(chosen.items()):
        model = next(t for t in tuning(trials) if (t.objective, t.optimizer, t.lr_factor) == (objective, optimizer,
                                                                                              factor))
        overrides = [o for o in client.get_run(model.run_id).data.tags.get("overrides", "").split()
                     if not o.startswith("seed=")]
        jobs += [[*overrides, f"seed={seed}"] for seed in seeds]
    return jobs


def rerun(client, parent_run_id: str, trials: list[Trial], seeds: Sequence[int], launch_dir: Path) -> list[str]:
    """Run every held-out job as a child of the parent; returns their run ids."""
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
        for overrides in held_out_jobs(client, parent_run_id, trials, seeds):
            cfg = compose("config", overrides=overrides)
            name = "held out " + " ".join(o for o in overrides if o not in constant)
            result = run(cfg, overrides=overrides, launch_dir=launch_dir, parent=handle, run_name=name,
                         extra_tags={HELD_OUT_TAG: "true", "configuration": "held out " + " ".join(
                             o for o in overrides if not o.startswith("seed="))})
            run_ids.append(result.run_id)
    return run_ids
