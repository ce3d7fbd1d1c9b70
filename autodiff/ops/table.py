"""The registry the op modules declare their ops into."""
from __future__ import annotations

from ..node import Op

OPS: dict[str, Op] = {}


def defop(name, forward, vjps=None, jvps=None, **options) -> Op:
    """Declare a differentiable op once: forward on arrays, a VJP and a JVP per input."""
    op = Op(name, forward, vjps, jvps, **options)
    if name in OPS:
        raise ValueError(f"op {name} declared twice")
    OPS[name] = op
    return op


