"""The experiment runner: Hydra configs in (``configs/``), MLflow runs out.

``runner.run(cfg)`` does one run; ``jobs.run_job(cfg)`` is what ``run.py`` calls under Hydra (repeats, the sweep's
parent); ``reuse`` lets a sweep run again skip or resume what its earlier runs did; ``tracking`` talks to MLflow;
``callbacks`` gives a sweep its parent run; ``compare`` draws comparisons;
``trajectory`` writes and loads the full-trajectory artifact; ``objectives`` and ``expression`` define what is
minimised; ``studies`` (and the command ``study``) reports on optimizer studies.
"""


def _register_resolvers() -> None:
    """``${times:a,b}``, the product a*b: a study's learning rate is the optimizer's default times the trial's factor
    (``configs/study/``). Registered when the package is imported, so every process that resolves a config (the
    launching one, and every launcher's workers, which import this package to run a job) has it."""
    try:
        from omegaconf import OmegaConf
    except ImportError:  # the engine and optimizers are used without the runner's dependencies
        return
    if not OmegaConf.has_resolver("times"):
        OmegaConf.register_new_resolver("times", lambda a, b: float(a) * float(b))


_register_resolvers()
