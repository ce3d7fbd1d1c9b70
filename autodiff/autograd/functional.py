"""Functions of functions, as torch.autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp.

For ``f: (x_1..x_n) -> (y_1..y_m)`` with Jacobian blocks ``J_ij = dy_i/dx_j``:

- ``vjp(f, x, v)``   returns ``(f(x), v^T J)`` by one reverse pass (``v`` shaped like the outputs);
- ``jvp(f, x, v)``   returns ``(f(x), J v)`` by one forward pass on dual tensors (``v`` shaped like the inputs);
- ``jacobian(f, x)`` stacks ``J`` row by row (reverse mode, one pass per output element) or column by column
  (``strategy="forward-mode"``, one forward pass per input element);
- ``hessian(f, x)``  is the Jacobian of the (reverse-mode, differentiable) gradient: reverse-over-reverse by
  default, forward-over-reverse with ``outer_jacobian_strategy="forward-mode"``;
- ``vhp(f, x, v)``   ``v^T H`` by reverse-over-reverse; ``hvp(f, x, v)`` ``H v`` by forward-over-reverse
  (the tangent ``v`` pushed through the differentiable gradient), where torch uses a double-backward trick.

Return structures follow torch: a tuple where ``inputs`` (or the outputs) were a tuple, a single tensor otherwise;
``jacobian`` of tuple outputs and tuple inputs is a tuple of tuples, ``J[i][j]`` of shape
``outputs[i].shape + inputs[j].shape``. With ``create_graph=False`` results are detached; with ``strict=True`` an
input on which an output does not depend is an error instead of a block of zeros.

Beyond torch: ``strategy="forward-mode"`` (and ``outer_jacobian_strategy="forward-mode"``) also works with
``vectorize=False``; there is no vmap here, so ``vectorize=True`` computes the same loop as ``vectorize=False``.
"""
from __future__ import annotations

import numpy as np

from ..creation import ones_like, zeros, zeros_like
from ..engine import _size
from ..engine import grad as _grad
from ..grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from ..ops.shape import reshape, stack
from ..tensor import Tensor
from . import forward_ad as fwAD

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_STRATEGIES = ("forward-mode", "reverse-mode")


# -- argument handling ---------------------------------------------------------------------------------------------

def _as_tuple(value, arg_name, fn_name):
    """``(was_tuple, tuple_of_tensors)``, with torch's TypeError for anything that is not a Tensor."""
    was_tuple = isinstance(value, tuple)
    items = value if was_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"the value at index {i}" if was_tuple else f"the given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"{where} has type {type(item)}.")
    return was_tuple, items


def _untuple(result, was_tuple):
    """Undo ``_as_tuple``: ``was_tuple`` is one flag, or (outer, inner) flags for a tuple of tuples."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            result = tuple(row[0] for row in result)
        return result if outer else result[0]
    return result if was_tuple else result[0]


def _prepare(inputs, create_graph, need_graph):
    """Fresh tensor objects for ``func`` to see (so captured copies of the user's tensors are told apart).

    Under ``create_graph`` an input that requires grad stays connected to the caller's graph (a view of it);
    otherwise it is detached and, when we need its graph, made a new leaf.
    """
    if create_graph:
        return tuple(t.view_as(t) if t.requires_grad else t.detach().requires_grad_(need_graph) for t in inputs)
    return tuple(t.detach().requires_grad_(need_graph) for t in inputs)


def _finish(tensors, create_graph):
    """Detach results the caller did not ask to differentiate (nested tuples too)."""
    if create_graph:
        return tensors
    return type(tensors)(t.detach() if isinstance(t, Tensor) else _finish(t, create_graph) for t in tensors)


def _check_v(v, reference, reference_was_tuple):
    if len(v) != len(reference):
        if reference_was_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(reference)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (vi, ri) in enumerate(zip(v, reference)):
        if vi.shape != ri.shape:
            prefix = f"Entry {i} in " if reference_was_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {_size(ri.shape)} but got {_size(vi.shape)}.")


def _prepare_v(v, fn_name, reference, reference_was_tuple, create_graph, none_message):
    if v is None:
        if len(reference) != 1 or reference[0].numel() != 1:
            raise RuntimeError(none_message)
        return None
    _, v = _as_tuple(v, "v", fn_name)
    v = _prepare(v, create_graph, need_graph=False)
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


def _check_requires_grad(tensors, kind, strict):
    """strict mode: every tensor must exist (be connected) and require grad."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is "
                               "not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_NEEDS_GRAD[kind](i))


def _grads(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (None for an input none of them reaches)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gouts = zip(*pairs)
    return _grad(outs, inputs, gouts, retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


_INDEPENDENT = {
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


def _zeros_for_none(grads, refs, strict, create_graph, stage):
    """Replace missing gradients by zeros (the mathematical value), or fail in strict mode."""
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode when create_graph=True.")
        out.append(g)
    return tuple(out)


# -- vector products -----------------------------------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product, one reverse pass.

    Args:
        func: takes the tensors of ``inputs`` and returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: shaped like ``func``'s output; may be omitted when the output has a single element.
        create_graph: make the output and the product differentiable.
        strict: raise when an input does not influence the output, instead of returning zeros for it.
    """
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(v, "vjp", outputs, outputs_tuple, create_graph,
                       "The vector v can only be None if the user-provided function returns a single Tensor with "
                       "a single element.")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        products = _grads(outputs, inputs, v, create_graph=create_graph)
        products = _zeros_for_none(products, inputs, strict, create_graph, "back")
    return (_untuple(_finish(outputs, create_graph), outputs_tuple),
            _untuple(_finish(products, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product, one forward-mode pass on dual tensors.

    Each input enters ``func`` as a dual tensor carrying its entry of ``v`` as tangent; every op pushes the
    tangent on by its JVP rule, so the outputs' tangents are ``J v``. Args as :func:`vjp`, with ``v`` shaped like
    ``inputs`` (optional when the input is a single one-element tensor).
    """
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, "jvp", inputs, inputs_tuple, create_graph,
                       "The vector v can only be None if the input to the user-provided function is a single "
                       "Tensor with a single element.")
        if v is None:
            v = (ones_like(inputs[0]),)
        with fwAD.dual_level():
            duals = tuple(fwAD.make_dual(x, t) for x, t in zip(inputs, v))
            outputs_tuple, dual_outputs = _as_tuple(func(*duals), "outputs of the user-provided function", "jvp")
            tangents = [fwAD.unpack_dual(o).tangent for o in dual_outputs]
        outputs = dual_outputs   # their tangents belonged to the closed level: plain tensors again, graph and all
        _check_requires_grad(outputs, "outputs", strict)
        if strict:
            _check_connected(outputs, inputs)
        tangents = _zeros_for_none(tangents, outputs, strict, create_graph, "back_trick")
    return (_untuple(_finish(outputs, create_graph), outputs_tuple),
            _untuple(_finish(tangents, create_graph), outputs_tuple))


def _check_connected(outputs, inputs):
    """strict mode: every input must reach some output (a zero cotangent sent back finds the ones that do)."""
    reached = _grads(outputs, inputs, tuple(zeros_like(o) for o in outputs), retain_graph=True)
    for i, g in enumerate(reached):
        if g is None:
            raise RuntimeError(_INDEPENDENT["back"].format(i=i))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar ``func``: reverse mode over the differentiable gradient."""
    with enable_grad():
        inputs_tuple, inputs, v, output = _scalar_function_setup(func, inputs, v, create_graph, strict, "vhp")
        jac = _grads((output,), inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        products = _grads(jac, inputs, v, create_graph=create_graph)
        products = _zeros_for_none(products, inputs, strict, create_graph, "double_back")
    return _finish((output,), create_graph)[0], _untuple(_finish(products, create_graph), inputs_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar ``func``: forward mode over the differentiable gradient.

    The inputs enter as dual tensors with tangent ``v``; the gradient, computed by a reverse pass that records its
    own ops (create_graph), carries the tangent ``d(grad f) v = H v``. (torch gets ``H v`` by backpropagating twice
    more through that gradient.) Under ``create_graph=True`` the tangents are recorded too, so ``H v`` is
    differentiable in the inputs and in ``v``.
    """
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, "hvp", inputs, inputs_tuple, create_graph,
                       "The vector v can only be None if the input to the user-provided function is a single "
                       "Tensor with a single element.")
        with fwAD.dual_level():
            duals = tuple(fwAD.make_dual(x, t) for x, t in zip(inputs, v or (ones_like(inputs[0]),)))
            output = _single_output(func(*duals), strict, "hvp")
            jac = _grads((output,), duals, create_graph=True)
            _check_requires_grad(jac, "jacobian", strict)
            products = [None if g is None else fwAD.unpack_dual(g).tangent for g in jac]
        products = _zeros_for_none(products, inputs, strict, create_graph, "double_back_trick")
    return _finish((output,), create_graph)[0], _untuple(_finish(products, create_graph), inputs_tuple)


def _scalar_function_setup(func, inputs, v, create_graph, strict, fn_name):
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _prepare(inputs, create_graph, need_graph=True)
    v = _prepare_v(v, fn_name, inputs, inputs_tuple, create_graph,
                   "The vector v can only be None if the input to the user-provided function is a single Tensor "
                   "with a single element.")
    output = _single_output(func(*inputs), strict, fn_name)
    return inputs_tuple, inputs, v, output


def _single_output(result, strict, fn_name):
    """The one one-element tensor a scalar function must return (torch's checks and messages)."""
    was_tuple, outputs = _as_tuple(result, "outputs of the user-provided function", fn_name)
    _check_requires_grad(outputs, "outputs", strict)
    if was_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single "
                           "element")
    return outputs[0]


# -- full matrices -------------------------------------------------------------------------------------------------

def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: block ``[i][j]`` has shape ``outputs[i].shape + inputs[j].shape``.

    ``strategy="reverse-mode"`` (default) fills it one row per output element (a vjp with a one-hot ``v``);
    ``"forward-mode"`` one column per input element (a jvp with a one-hot tangent): fewer passes when the
    outputs have more elements than the inputs. Reverse-mode blocks take the input's dtype, forward-mode blocks
    the output's, as in torch.
    """
    if strategy not in _STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('autodiff.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please either '
                                      'set `create_graph=False` or `strategy="reverse-mode"`.')
        return _jacobian_forward(func, inputs, strict)
    if vectorize and strict:
        raise RuntimeError("autodiff.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                           "supported together. Please either set `strict=False` or `vectorize=False`.")
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        blocks = tuple(_reverse_rows(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs))
    return _untuple(_finish(blocks, create_graph), (outputs_tuple, inputs_tuple))


def _reverse_rows(i, out, inputs, create_graph, strict):
    """Output ``i``'s blocks, one gradient per element of ``out``."""
    rows = [[] for _ in inputs]
    flat = reshape(out, (-1,))
    for k in range(out.numel()):
        grads = _grads((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
        for j, (g, x) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. "
                                       "This is not allowed in strict mode.")
                g = zeros_like(x)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                   "This is not allowed in strict mode when create_graph=True.")
            rows[j].append(g)
    return tuple(_stack_rows(r, out.shape + x.shape, x) for r, x in zip(rows, inputs))


def _stack_rows(rows, shape, like):
    if not rows:   # an output with no elements
        return zeros(shape, dtype=like.dtype)
    return reshape(stack(rows, 0), shape)


def _jacobian_forward(func, inputs, strict):
    """Column by column: one dual pass per input element, its one-hot tangent on that input only."""
    if strict:
        raise RuntimeError('autodiff.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are not '
                           'supported together (yet). Please either set `strict=False` or '
                           '`strategy="reverse-mode"`.')
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    columns = [None] * len(inputs)     # columns[j][i]: list over input j's elements of output i's tangent
    outputs, outputs_tuple = None, False
    for j, x in enumerate(inputs):
        for k in range(x.numel()):
            basis = np.zeros(x.numel(), dtype=x._data.dtype)
            basis[k] = 1
            tangent = Tensor._from_array(basis.reshape(x.shape))
            with fwAD.dual_level():
                # fresh objects for the other inputs too: func may set requires_grad on them (hessian does)
                duals = tuple(fwAD.make_dual(a, tangent) if m == j else _alias(a) for m, a in enumerate(inputs))
                outputs_tuple, dual_outputs = _as_tuple(func(*duals), "outputs", "jacobian")
                unpacked = [fwAD.unpack_dual(o) for o in dual_outputs]
            outputs = [u.primal for u in unpacked]
            if columns[j] is None:
                columns[j] = [[] for _ in unpacked]
            for i, u in enumerate(unpacked):
                columns[j][i].append(zeros_like(u.primal) if u.tangent is None else u.tangent.detach())
    if outputs is None:   # every input is empty: evaluate once for the output shapes
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs", "jacobian")
    # lists, not tuples, where torch's forward-mode path returns lists (tuple inputs)
    blocks = [[_forward_block(columns[j], i, out, x) for j, x in enumerate(inputs)] for i, out in enumerate(outputs)]
    return _untuple(_finish(blocks, False), (outputs_tuple, inputs_tuple))


def _alias(t):
    return t.view_as(t) if t.requires_grad else t.detach()


def _forward_block(columns_j, i, out, x):
    if columns_j is None:   # an input with no elements
        return zeros(out.shape + x.shape, dtype=out.dtype)
    cols = stack(columns_j[i], -1) if out.ndim else stack(columns_j[i], 0)
    return reshape(cols, out.shape + x.shape)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``: block ``[i][j]`` has shape ``inputs[i].shape + inputs[j].shape``.

    The Jacobian of the gradient, the gradient always by reverse mode (with create_graph, so it can be
    differentiated again), the outer Jacobian by ``outer_jacobian_strategy``: "reverse-mode" is
    reverse-over-reverse, "forward-mode" forward-over-reverse (tangents pushed through the gradient's ops).
    """
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*args):
        output = _single_output(func(*args), strict, "hessian")
        return output.squeeze()

    def gradient(*args):
        if outer_jacobian_strategy == "forward-mode":
            args = tuple(a.requires_grad_(True) for a in args)
        jac = jacobian(scalar_func, args, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)
    return _untuple(result, (inputs_tuple, inputs_tuple))
