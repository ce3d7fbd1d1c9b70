"""The project's Hydra plugins (found by Hydra under the ``hydra_plugins`` namespace): the study sweeper."""
