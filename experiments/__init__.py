"""The experiment runner: Hydra configs in (``configs/``), MLflow runs out.

``runner.run(cfg)`` does one run; ``jobs.run_job(cfg)`` is what ``run.py`` calls under Hydra (repeats, the sweep's
parent); ``tracking`` talks to MLflow; ``callbacks`` gives a sweep its parent run; ``compare`` draws comparisons;
``trajectory`` writes and loads the full-trajectory artifact; ``objectives`` and ``expression`` define what is
minimised.
"""
