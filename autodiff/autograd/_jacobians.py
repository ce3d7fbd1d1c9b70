"""The Jacobians gradcheck compares: numerical ones by central differences, analytical ones by reverse mode (a
row per output element) and forward mode (a column per input element), each laid out as torch lays them out,
``(x.numel(), y.numel())``."""
from __future__ import annotations

import numpy as np

from ..engine import grad as _grad
from ..tensor import Tensor
from . import forward_ad as fwAD


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` and :func:`gradgradcheck` when a check fails."""

    __module__ = "autodiff.autograd.gradcheck"


_NONDET_NOTE = """\n
NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""


# -- inputs and outputs --------------------------------------------------------------------------------------------

def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _checked_inputs(inputs):
    """(position, tensor) of the inputs that require grad."""
    return [(i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def _float_outputs(outputs):
    return [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.is_floating_point()]


def _tensor(array):
    return Tensor._from_array(np.array(array, copy=True))


# -- numerical Jacobians -------------------------------------------------------------------------------------------

def _evaluate(func, inputs):
    """The outputs as arrays, copied (an output may share memory with the input being perturbed)."""
    return [np.array(o._data, copy=True) if isinstance(o, Tensor) else None for o in _as_tuple(func(*inputs))]


def _central_difference(func, inputs, x, step, eps, index=None):
    """(f(x + step) - f(x - step)) / (2 eps) per output, ``x`` perturbed in place and restored."""
    data = x._data
    original = data.copy()
    try:
        np.subtract(original, step, out=data, casting="unsafe")
        before = _evaluate(func, inputs)
        np.add(original, step, out=data, casting="unsafe")
        after = _evaluate(func, inputs)
    finally:
        data[...] = original
    diffs = []
    for a, b in zip(before, after):
        if a is None:
            diffs.append(None)
            continue
        _check_same_dtype_and_shape(a, b, eps, index)
        diffs.append(((b - a) / (2 * eps)).reshape(-1) if a.dtype.kind == "f" else None)
    return diffs


def _check_same_dtype_and_shape(a, b, eps, index):
    on_index = f"on index {index} " if index is not None else ""
    if a.shape != b.shape:
        raise AssertionError(f"Expected `func` to return outputs with the same shape when inputs are perturbed "
                             f"{on_index}by {eps}, but got: shapes {_size(a.shape)} and {_size(b.shape)}.")
    if a.dtype != b.dtype:
        raise AssertionError(f"Expected `func` to return outputs with the same dtype when inputs are perturbed "
                             f"{on_index}by {eps}, but got: dtypes {_dtype(a)} and {_dtype(b)}.")


def _size(shape):
    return f"autodiff.Size({list(shape)})"


def _dtype(array):
    return repr(Tensor._from_array(array).dtype)


def _numerical_jacobians(func, inputs, func_out, eps):
    """``J[i][o]``: (x_i.numel(), y_o.numel()) for each checked input ``x_i`` and each floating output ``y_o``."""
    outputs = _float_outputs(func_out)
    jacobians = []
    for _, x in _checked_inputs(inputs):
        per_output = {o: np.zeros((x.numel(), func_out[o].numel()), dtype=func_out[o]._data.dtype) for o in outputs}
        for k, index in enumerate(np.ndindex(*x.shape)):
            step = np.zeros(x.shape, dtype=x._data.dtype)
            step[index] = eps
            columns = _central_difference(func, inputs, x, step, eps, index)
            for o in outputs:
                per_output[o][k] = columns[o]
        jacobians.append(per_output)
    return jacobians


# -- analytical Jacobians ------------------------------------------------------------------------------------------

def _reverse_jacobians(inputs, output, settings):
    """Rows from one-hot cotangents, twice: the two passes must agree within nondet_tol (reentrancy)."""
    checked = [x for _, x in _checked_inputs(inputs)]
    first = _reverse_rows(checked, output, settings)
    second = _reverse_rows(checked, output, settings)
    for j1, j2 in zip(first, second):
        if j1.size and np.abs(j1 - j2).max() > settings["nondet_tol"]:
            raise GradcheckError("Backward is not reentrant, i.e., running backward with same input and "
                                 "grad_output multiple times gives different values, although analytical gradient "
                                 "matches numerical gradient."
                                 f"The tolerance for nondeterminism was {settings['nondet_tol']}." + _NONDET_NOTE)
    return first


def _reverse_rows(checked, output, settings):
    jacobians = [np.zeros((x.numel(), output.numel()), dtype=x._data.dtype) for x in checked]
    cotangent = np.zeros(output.shape, dtype=output._data.dtype)
    flat = cotangent.reshape(-1)
    for j in range(output.numel()):
        flat[:] = 0
        flat[j] = 1
        grads = _grad(output, checked, Tensor._from_array(cotangent.copy()), retain_graph=True, allow_unused=True)
        for jac, x, g in zip(jacobians, checked, grads):
            if g is None:
                continue
            if g.shape != x.shape:
                raise GradcheckError("Analytical gradient has incorrect size")
            if settings["check_grad_dtypes"] and g.dtype != x.dtype:
                raise GradcheckError("Gradient has dtype mismatch")
            jac[:, j] = g._data.reshape(-1)
    return jacobians


def _dual_inputs(inputs, tangents):
    """Inputs for a forward-mode pass: each checked input detached and carrying its tangent."""
    duals = list(inputs)
    for (i, x), t in zip(_checked_inputs(inputs), tangents):
        duals[i] = fwAD.make_dual(x.detach(), _tensor(t.reshape(x.shape)))
    return duals


def _output_tangents(func, duals, outputs):
    raw = _as_tuple(func(*duals))
    result = {}
    for o in outputs:
        primal, tangent = fwAD.unpack_dual(raw[o])
        result[o] = np.zeros(primal.numel(), primal._data.dtype) if tangent is None else tangent._data.reshape(-1)
    return result


def _forward_jacobians(func, inputs, outputs):
    """Columns from one-hot tangents: ``J[i][o]`` of shape (x_i.numel(), y_o.numel()), as the numerical one."""
    checked = [x for _, x in _checked_inputs(inputs)]
    jacobians = []
    with fwAD.dual_level():
        for i, x in enumerate(checked):
            per_output = None
            for k in range(x.numel()):
                tangents = [np.zeros(y.numel(), y._data.dtype) for y in checked]
                tangents[i][k] = 1
                columns = _output_tangents(func, _dual_inputs(inputs, tangents), outputs)
                if per_output is None:
                    per_output = {o: np.zeros((x.numel(), c.size), c.dtype) for o, c in columns.items()}
                for o, c in columns.items():
                    per_output[o][k] = c
            jacobians.append(per_output or {})
    return jacobians
