"""The op table: every differentiable op with its forward, VJPs and JVPs side by side, and the public names bound
to it (the module function and its aliases, the Tensor method, the in-place variant).

``OPS`` maps each op's grad_fn name to its :class:`~autodiff.node.Op`; ``PUBLIC`` maps each public name to its
binding (see ``autodiff.ops.declare``). Adding an elementwise op is one entry in its module, e.g. in
``elementwise.py``::

    sinh = declare("sinh", unary("SinhBackward0", floating_forward(np.sinh), lambda ans, x: cosh(x), reads=(0,)),
                   inplace=True)

and one row in ``tests/op_cases.py``; then ``python -m autodiff._declarations`` regenerates what editors read
(``autodiff/__init__.py``'s imports and the Tensor method stubs), and ``python tests/golden/make_ops_golden.py``
records torch's values for the new row. The tests walk both tables: every op has a row, every row's values and
derivatives (both modes, two orders) match torch and finite differences, and what an entry says its rules read
is what they read.
"""
from .. import inplace, views  # noqa: F401  (the view and in-place ops: AsStridedBackward0, CopySlices, ...)
from ..node import OPS
# imported for their table entries
from . import (comparison, compound, concat, elementwise, indexing, linalg, reductions, selection, shape,  # noqa: F401
               softmax, sorting, special, losses)
from .declare import PUBLIC

__all__ = ["OPS", "PUBLIC"]
