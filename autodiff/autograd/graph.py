"""The graph's nodes, as torch.autograd.graph: ``tensor.grad_fn`` is a :class:`Node`, with ``name()``,
``next_functions``, ``metadata``, ``register_hook(fn(grad_inputs, grad_outputs))`` and
``register_prehook(fn(grad_outputs))``. (Nodes are recorded by ``autodiff.node``, below the engine.)"""
from ..node import Node

__all__ = ["Node"]
