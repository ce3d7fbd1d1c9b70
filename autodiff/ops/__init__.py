"""The rule table: every differentiable op, its forward, VJPs and JVPs declared side by side.

``OPS`` maps each op's grad_fn name to its :class:`~autodiff.node.Op`; the tests walk it, so adding an op is one
entry here and one row in ``tests/op_cases.py``.
"""
from .. import views  # noqa: F401  (the view and in-place ops: AsStridedBackward0, CopySlices, ...)
from ..node import OPS
from . import compound, elementwise, linalg, reductions, shape  # noqa: F401  (imported for their table entries)

__all__ = ["OPS"]
