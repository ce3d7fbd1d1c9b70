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
from ..grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from ..ops.concat import stack
from ..ops.shape import reshape
from ..tensor import Tensor
from . import forward_ad as fwAD
from ._functional_args import (INDEPENDENT, as_tuple, check_requires_grad, finish, grads_of, prepare_inputs, prepare_v,
                               untuple, zeros_for_none)

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_STRATEGIES = ("forward-mode", "reverse-mode")


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
        inputs_tuple, inputs = as_tuple(inputs, "inputs", "vjp")
        inputs = prepare_inputs(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        check_requires_grad(outputs, "outputs", strict)
        v = prepare_v(v, "vjp", outputs, outputs_tuple, create_graph,
                       "The vector v can only be None if the user-provided function returns a single Tensor with "
                       "a single element.")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        products = grads_of(outputs, inputs, v, create_graph=create_graph)
        products = zeros_for_none(products, inputs, strict, create_graph, "back")
    return (untuple(finish(outputs, create_graph), outputs_tuple),
            untuple(finish(products, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product, one forward-mode pass on dual tensors.

    Each input enters ``func`` as a dual tensor carrying its entry of ``v`` as tangent; every op pushes the
    tangent on by its JVP rule, so the outputs' tangents are ``J v``. Args as :func:`vjp`, with ``v`` shaped like
    ``inputs`` (optional when the input is a single one-element tensor).
    """
    with enable_grad():
        inputs_tuple, inputs = as_tuple(inputs, "inputs", "jvp")
        inputs = prepare_inputs(inputs, create_graph, need_graph=True)
        v = prepare_v(v, "jvp", inputs, inputs_tuple, create_graph,
                       "The vector v can only be None if the input to the user-provided function is a single "
                       "Tensor with a single element.")
        if v is None:
            v = (ones_like(inputs[0]),)
        with fwAD.dual_level():
            duals = tuple(fwAD.make_dual(x, t) for x, t in zip(inputs, v))
            outputs_tuple, dual_outputs = as_tuple(func(*duals), "outputs of the user-provided function", "jvp")
            tangents = [fwAD.unpack_dual(o).tangent for o in dual_outputs]
        outputs = dual_outputs   # their tangents belonged to the closed level: plain tensors again, graph and all
        check_requires_grad(outputs, "outputs", strict)
        if strict:
            _check_connected(outputs, inputs)
        tangents = zeros_for_none(tangents, outputs, strict, create_graph, "back_trick")
    return (untuple(finish(outputs, create_graph), outputs_tuple),
            untuple(finish(tangents, create_graph), outputs_tuple))


def _check_connected(outputs, inputs):
    """strict mode: every input must reach some output (a zero cotangent sent back finds the ones that do)."""
    reached = grads_of(outputs, inputs, tuple(zeros_like(o) for o in outputs), retain_graph=True)
    for i, g in enumerate(reached):
        if g is None:
            raise RuntimeError(INDEPENDENT["back"].format(i=i))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar ``func``: reverse mode over the differentiable gradient."""
    with enable_grad():
        inputs_tuple, inputs, v, output = _scalar_function_setup(func, inputs, v, create_graph, strict, "vhp")
        jac = grads_of((output,), inputs, create_graph=True)
        check_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        products = grads_of(jac, inputs, v, create_graph=create_graph)
        products = zeros_for_none(products, inputs, strict, create_graph, "double_back")
    return finish((output,), create_graph)[0], untuple(finish(products, create_graph), inputs_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar ``func``: forward mode over the differentiable gradient.

    The inputs enter as dual tensors with tangent ``v``; the gradient, computed by a reverse pass that records its
    own ops (create_graph), carries the tangent ``d(grad f) v = H v``. (torch gets ``H v`` by backpropagating twice
    more through that gradient.) Under ``create_graph=True`` the tangents are recorded too, so ``H v`` is
    differentiable in the inputs and in ``v``.
    """
    with enable_grad():
        inputs_tuple, inputs = as_tuple(inputs, "inputs", "hvp")
        inputs = prepare_inputs(inputs, create_graph, need_graph=True)
        v = prepare_v(v, "hvp", inputs, inputs_tuple, create_graph,
                       "The vector v can only be None if the input to the user-provided function is a single "
                       "Tensor with a single element.")
        with fwAD.dual_level():
            duals = tuple(fwAD.make_dual(x, t) for x, t in zip(inputs, v or (ones_like(inputs[0]),)))
            output = _single_output(func(*duals), strict, "hvp")
            jac = grads_of((output,), duals, create_graph=True)
            check_requires_grad(jac, "jacobian", strict)
            products = [None if g is None else fwAD.unpack_dual(g).tangent for g in jac]
        products = zeros_for_none(products, inputs, strict, create_graph, "double_back_trick")
    return finish((output,), create_graph)[0], untuple(finish(products, create_graph), inputs_tuple)


def _scalar_function_setup(func, inputs, v, create_graph, strict, fn_name):
    inputs_tuple, inputs = as_tuple(inputs, "inputs", fn_name)
    inputs = prepare_inputs(inputs, create_graph, need_graph=True)
    v = prepare_v(v, fn_name, inputs, inputs_tuple, create_graph,
                   "The vector v can only be None if the input to the user-provided function is a single Tensor "
                   "with a single element.")
    output = _single_output(func(*inputs), strict, fn_name)
    return inputs_tuple, inputs, v, output


def _single_output(result, strict, fn_name):
    """The one one-element tensor a scalar function must return (torch's checks and messages)."""
    was_tuple, outputs = as_tuple(result, "outputs of the user-provided function", fn_name)
    check_requires_grad(outputs, "outputs", strict)
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
        inputs_tuple, inputs = as_tuple(inputs, "inputs", "jacobian")
        inputs = prepare_inputs(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = as_tuple(func(*inputs), "outputs of the user-provided function", "jacobian")
        check_requires_grad(outputs, "outputs", strict)
        blocks = tuple(_reverse_rows(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs))
    return untuple(finish(blocks, create_graph), (outputs_tuple, inputs_tuple))


def _reverse_rows(i, out, inputs, create_graph, strict):
    """Output ``i``'s blocks, one gradient per element of ``out``."""
    rows = [[] for _ in inputs]
    flat = reshape(out, (-1,))
    for k in range(out.numel()):
        grads = grads_of((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
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
    inputs_tuple, inputs = as_tuple(inputs, "inputs", "jacobian")
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
                outputs_tuple, dual_outputs = as_tuple(func(*duals), "outputs", "jacobian")
                unpacked = [fwAD.unpack_dual(o) for o in dual_outputs]
            outputs = [u.primal for u in unpacked]
            if columns[j] is None:
                columns[j] = [[] for _ in unpacked]
            for i, u in enumerate(unpacked):
                columns[j][i].append(zeros_like(u.primal) if u.tangent is None else u.tangent.detach())
    if outputs is None:   # every input is empty: evaluate once for the output shapes
        outputs_tuple, outputs = as_tuple(func(*inputs), "outputs", "jacobian")
    # lists, not tuples, where torch's forward-mode path returns lists (tuple inputs)
    blocks = [[_forward_block(columns[j], i, out, x) for j, x in enumerate(inputs)] for i, out in enumerate(outputs)]
    return untuple(finish(blocks, False), (outputs_tuple, inputs_tuple))


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
    inputs_tuple, inputs = as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*args):
        output = _single_output(func(*args), strict, "hessian")
        return output.squeeze()

    def gradient(*args):
        if outer_jacobian_strategy == "forward-mode":
            args = tuple(a.requires_grad_(True) for a in args)
        jac = jacobian(scalar_func, args, create_graph=True)
        check_requires_grad(jac, "jacobian", strict)
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)
    return untuple(result, (inputs_tuple, inputs_tuple))
