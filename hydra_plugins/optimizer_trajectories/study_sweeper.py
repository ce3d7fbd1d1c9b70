"""``hydra/sweeper: study``: an optimizer study's sweep in two phases, both jobs of the sweep's own launcher.

First the grid (Hydra's basic sweeper: objectives x optimizers x learning-rate factors x seeds, the factors those of
``study.search``, :func:`experiments.studies.search.with_lr_factors`: a scrambled Sobol sample or a log grid);
then, when the study names ``study.held_out_seeds``, each (objective, optimizer)'s chosen trial re-run on those
seeds, read from the grid's runs in the store (:func:`experiments.studies.held_out.held_out_batch`) and launched
as one more batch, numbered after the grid's jobs. So the re-runs run in parallel wherever the grid did (joblib,
submitit, Ray), are children of the same parent run, and the report attached when the sweep ends scores them
(docs/runner.md, "Studies"). A sweep that was stopped never starts the second phase.
"""

from __future__ import annotations

from typing import Any, List

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

from experiments.plugin_configs import register_study_sweeper

register_study_sweeper()


class StudySweeper(BasicSweeper):
    def sweep(self, arguments: List[str]) -> Any:
        from experiments.studies.held_out import held_out_batch
        from experiments.studies.search import KEY, with_lr_factors

        study = self.config.get("study")
        params = with_lr_factors(study, self.params, arguments)
        if KEY in params and KEY not in self.params:
            print(f"Learning-rate trials ({study.search}): factors {params[KEY].replace(',', ', ')} of each "
                  "optimizer's default.", flush=True)
        self.params = params
        returns = super().sweep(arguments)
        grid = [job for batch in self.overrides for job in batch]
        batch = held_out_batch(self.config, grid)
        if not batch:
            return returns
        self.validate_batch_is_legal(batch)
        results = self.launcher.launch(batch, initial_job_idx=len(grid))
        for r in results:
            _ = r.return_value  # a job that raised fails the sweep, as in the grid
        returns.append(results)
        return returns
