"""numpy's floating-point warnings off for a stretch of code, cheaply.

The backward pass and forward-mode rules run with numpy's warnings silenced (torch never warns: a rule may divide
by values a later where() masks). ``np.errstate`` costs about two microseconds to enter and leave, a large part
of a small backward pass; setting numpy's error-state context variable directly costs a tenth of that. Where
numpy's private names are missing, ``np.errstate`` does the same job.
"""
from __future__ import annotations

import numpy as np

try:
    from numpy._core.umath import _extobj_contextvar, _make_extobj
except ImportError:      # another numpy layout: the public, slower way
    _extobj_contextvar = None

__all__ = ["silence", "restore"]


def silence():
    """Turn numpy's floating-point warnings off; returns the token for :func:`restore`."""
    if _extobj_contextvar is None:
        state = np.errstate(all="ignore")
        state.__enter__()
        return state
    return _extobj_contextvar.set(_make_extobj(all="ignore"))


def restore(token) -> None:
    if _extobj_contextvar is None:
        token.__exit__(None, None, None)
    else:
        _extobj_contextvar.reset(token)
