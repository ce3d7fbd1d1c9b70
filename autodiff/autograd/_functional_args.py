"""Argument handling shared by the functional transforms: inputs and vectors as tuples with torch's checks,
gradients over the outputs that require grad, and strict mode's errors (or zeros where a gradient is missing).
"""
from __future__ import annotations

from ..creation import zeros_like
from ..engine import _size
from ..engine import grad as _grad
from ..tensor import Tensor


def as_tuple(value, arg_name, fn_name):
    """``(was_tuple, tuple_of_tensors)``, with torch's TypeError for anything that is not a Tensor."""
    was_tuple = isinstance(value, tuple)
    items = value if was_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"the value at index {i}" if was_tuple else f"the given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"{where} has type {type(item)}.")
    return was_tuple, items


def untuple(result, was_tuple):
    """Undo ``as_tuple``: ``was_tuple`` is one flag, or (outer, inner) flags for a tuple of tuples."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            result = tuple(row[0] for row in result)
        return result if outer else result[0]
    return result if was_tuple else result[0]


def prepare_inputs(inputs, create_graph, need_graph):
    """Fresh tensor objects for ``func`` to see (so captured copies of the user's tensors are told apart).

    Under ``create_graph`` an input that requires grad stays connected to the caller's graph (a view of it);
    otherwise it is detached and, when we need its graph, made a new leaf.
    """
    if create_graph:
        return tuple(t.view_as(t) if t.requires_grad else t.detach().requires_grad_(need_graph) for t in inputs)
    return tuple(t.detach().requires_grad_(need_graph) for t in inputs)


def finish(tensors, create_graph):
    """Detach results the caller did not ask to differentiate (nested tuples too)."""
    if create_graph:
        return tensors
    return type(tensors)(t.detach() if isinstance(t, Tensor) else finish(t, create_graph) for t in tensors)


def _check_v(v, reference, reference_was_tuple):
    if len(v) != len(reference):
        if reference_was_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(reference)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (vi, ri) in enumerate(zip(v, reference)):
        if vi.shape != ri.shape:
            prefix = f"Entry {i} in " if reference_was_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {_size(ri.shape)} but got {_size(vi.shape)}.")


def prepare_v(v, fn_name, reference, reference_was_tuple, create_graph, none_message):
    if v is None:
        if len(reference) != 1 or reference[0].numel() != 1:
            raise RuntimeError(none_message)
        return None
    _, v = as_tuple(v, "v", fn_name)
    v = prepare_inputs(v, create_graph, need_graph=False)
    _check_v(v, reference, reference_was_tuple)
    return v


_NEEDS_GRAD = {
    "hessian": lambda i: (f"The hessian of the user-provided function with respect to input {i} is independent of "
                          "the input. This is not allowed in strict mode. You should ensure that your function is "
                          "thrice differentiable and that the hessian depends on the inputs."),
    "jacobian": lambda i: ("While computing the hessian, found that the jacobian of the user-provided function with "
                           f"respect to input {i} is independent of the input. This is not allowed in strict mode. "
                           "You should ensure that your function is twice differentiable and that the jacobian "
                           "depends on the inputs (this would be violated by a linear function for example)."),
    "grad_inputs": lambda i: (f"The gradient with respect to input {i} is independent of the inputs of the "
                              "user-provided function. This is not allowed in strict mode."),
    "outputs": lambda i: (f"Output {i} of the user-provided function does not require gradients. The outputs must "
                          "be computed in a differentiable manner from the input when running in strict mode."),
}


def check_requires_grad(tensors, kind, strict):
    """strict mode: every tensor must exist (be connected) and require grad."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is "
                               "not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_NEEDS_GRAD[kind](i))


def grads_of(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (None for an input none of them reaches)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gouts = zip(*pairs)
    return _grad(outs, inputs, gouts, retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict "
            "mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients. This is not allowed in strict "
                  "mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed "
                   "in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD.",
}


def zeros_for_none(grads, refs, strict, create_graph, stage):
    """Replace missing gradients by zeros (the mathematical value), or fail in strict mode."""
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(INDEPENDENT[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode when create_graph=True.")
        out.append(g)
    return tuple(out)
