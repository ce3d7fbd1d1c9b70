"""Optimizer studies: which optimizer is better on a set of objectives, and how sure the runs make us.

A study is a sweep (``python run.py -m study=<name>``, ``configs/study/``) over objectives x optimizers x seeds x
learning-rate trials; every number of its report is computed from the child runs read back from MLflow:

- :mod:`.search`: the learning-rate trials, the same for every optimizer (a scrambled Sobol sample, or a grid);
- :mod:`.targets`: each objective's target (a loss gap, or a loss) and the first step reaching it;
- :mod:`.results`: the children's records (objective, optimizer, learning rate, seed, steps to target);
- :mod:`.profiles`: tuned and default times, Dolan-More performance profiles and the AlgoPerf-style score;
- :mod:`.figures`: ``performance_profile.png`` and ``lr_sensitivity.png``;
- :mod:`.held_out`: each chosen learning rate re-run on seeds the tuning did not see;
- :mod:`.page`: ``study.html``, all of it on one interactive page, each profile step linked to its runs;
- :mod:`.report`: the parent's files and metrics (``python -m experiments.study <parent run id>`` redoes them).
"""
