"""Utilities shared by autodiff and the code built on it (as ``torch.utils``)."""
from . import hooks

__all__ = ["hooks"]
