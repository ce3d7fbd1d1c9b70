"""Adan, an optimizer plugin for optimizer-trajectories (entry point ``adan`` in group ``autodiff.optimizers``)."""

from .adan import Adan

__all__ = ["Adan"]
__version__ = "0.1.0"
