"""Gradient checks, as torch.autograd.gradcheck / gradgradcheck: analytical Jacobians against finite differences.

For every input ``x`` that requires grad and every differentiable output ``y`` the numerical Jacobian is built
one input element at a time by central differences,

    dy/dx_k ~ (f(x + eps e_k) - f(x - eps e_k)) / (2 eps),

and compared with ``torch.allclose`` semantics, ``|analytical - numerical| <= atol + rtol |numerical|``, against
the analytical one: reverse mode fills it a row per output element (a vjp with a one-hot cotangent), forward
mode (``check_forward_ad=True``) a column per input element (a jvp with a one-hot tangent). Both are laid out as
torch lays them out, ``(x.numel(), y.numel())``, so a failure prints the same matrices torch would print.
``fast_mode=True`` compares the scalars ``v^T J u`` for random unit vectors ``u``, ``v`` instead of whole
Jacobians, and on failure recomputes the full ones for the message.

The differences are taken in the inputs' own precision, as torch does: pass float64 inputs (a warning says so
otherwise; with float32 the check usually fails).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..creation import zeros_like
from ..engine import grad as _grad
from ..tensor import Tensor
from . import forward_ad as fwAD
from ._jacobians import (_NONDET_NOTE, GradcheckError, _as_tuple, _central_difference, _checked_inputs,
                         _dual_inputs, _forward_jacobians, _numerical_jacobians, _output_tangents,
                         _reverse_jacobians, _tensor)

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


_FAST_FAIL_SLOW_OK = """
Fast gradcheck failed but element-wise differences are small. This means that the
test might've passed in slow_mode!

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck:

If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `fast_mode=False` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_fast_mode=False`
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_fast_mode=False`
""".strip()


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    Args:
        func: takes the tensors of ``inputs`` and returns a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple (tensors that require grad are checked; others are passed through).
        eps: the finite-difference step. atol, rtol: the ``allclose`` tolerances.
        raise_exception: raise :class:`GradcheckError` on failure (else return False).
        nondet_tol: how far two identical backward passes may differ.
        check_forward_ad / check_backward_ad: which analytical Jacobians to check.
        check_grad_dtypes: fail when a gradient's dtype differs from its input's.
        fast_mode: compare random projections ``v^T J u`` instead of full Jacobians.
        check_undefined_grad, masked: accepted for torch compatibility; autodiff has neither undefined
            gradients (a missing cotangent is always zeros, checked by the zero-cotangent test) nor sparse tensors.
        check_batched_grad, check_batched_forward_grad: need vmap, which autodiff does not have.

    Returns:
        True when every check passes.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    if check_batched_grad or check_batched_forward_grad:
        raise NotImplementedError("check_batched_grad and check_batched_forward_grad test gradients under vmap, "
                                  "which autodiff does not have")
    settings = dict(eps=eps, atol=atol, rtol=rtol, nondet_tol=nondet_tol, check_grad_dtypes=check_grad_dtypes)
    try:
        _gradcheck(func, inputs, settings, check_forward_ad, check_backward_ad, fast_mode)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _gradcheck(func, inputs, settings, check_forward_ad, check_backward_ad, fast_mode):
    inputs = _as_tuple(inputs)
    _check_inputs(inputs)
    func_out = _as_tuple(func(*inputs))
    differentiable = [i for i, o in enumerate(func_out) if isinstance(o, Tensor) and o.requires_grad]
    check = _fast_check if fast_mode else _slow_check
    if check_backward_ad:
        check(func, inputs, func_out, differentiable, settings, forward=False)
    if check_forward_ad:
        check(func, inputs, func_out, differentiable, settings, forward=True)
    if check_backward_ad:
        _check_backward_scales_with_grad_output([func_out[i] for i in differentiable], inputs)


# -- inputs and outputs --------------------------------------------------------------------------------------------

def _check_inputs(inputs):
    checked = _checked_inputs(inputs)
    for i, x in checked:
        if x.dtype.numpy_dtype != np.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating point "
                          "or complex. ", stacklevel=4)
        data = x._data
        if any(stride == 0 and size > 1 for stride, size in zip(data.strides, data.shape)):
            raise RuntimeError(f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs that "
                               "are non-overlapping to be able to compute the numerical gradients correctly. You "
                               "should call .contiguous on the input before passing it to gradcheck.")
    if not checked:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")


def _allclose(a, n, rtol, atol):
    dtype = np.promote_types(a._data.dtype, n._data.dtype)
    return bool(np.allclose(a._data.astype(dtype), n._data.astype(dtype), rtol=rtol, atol=atol))


def _mismatch(analytical, numerical, out_index, in_index, forward):
    mode = "computed with forward mode " if forward else ""
    return (f"Jacobian {mode}mismatch for output {out_index:d} with respect to input {in_index:d},\n"
            f"numerical:{numerical}\nanalytical:{analytical}\n")


# -- slow mode: whole Jacobians ------------------------------------------------------------------------------------

def _slow_check(func, inputs, func_out, differentiable, settings, forward):
    eps, rtol, atol = settings["eps"], settings["rtol"], settings["atol"]
    numerical = _numerical_jacobians(func, inputs, func_out, eps)
    if not differentiable:
        for per_output in numerical:
            for jac in per_output.values():
                if np.count_nonzero(jac):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    if forward:
        analytical = _forward_jacobians(func, inputs, differentiable)
        for i, o in enumerate(differentiable):
            for j, per_output in enumerate(numerical):
                a, n = _tensor(analytical[j].get(o, per_output[o] * 0)), _tensor(per_output[o])
                if not _allclose(a, n, rtol, atol):
                    raise GradcheckError(_mismatch(a, n, i, j, forward=True))
        return
    for i, o in enumerate(differentiable):
        analytical = _reverse_jacobians(inputs, func_out[o], settings)
        for j, (a, per_output) in enumerate(zip(analytical, numerical)):
            a, n = _tensor(a), _tensor(per_output[o])
            if not _allclose(a, n, rtol, atol):
                raise GradcheckError(_mismatch(a, n, i, j, forward=False))


# -- fast mode: random projections ---------------------------------------------------------------------------------

def _unit_vector(rng, n, dtype):
    u = rng.random(n).astype(dtype)
    norm = np.linalg.norm(u)
    return u / norm if norm else u


def _fast_check(func, inputs, func_out, differentiable, settings, forward):
    """Compare ``v^T J u`` (reverse: v^T J from a vjp, times u) with ``v^T (J u)`` from finite differences.

    The tolerance on a projected entry is ``atol * sum(u) * sum(v)``, the projection of an all-atol matrix.
    """
    eps, rtol, atol = settings["eps"], settings["rtol"], settings["atol"]
    rng = np.random.default_rng(0)   # its own generator: the caller's random stream is left alone
    checked = _checked_inputs(inputs)
    all_u = [_unit_vector(rng, x.numel(), x._data.dtype) for _, x in checked]
    all_v = None if forward else [_unit_vector(rng, func_out[o].numel(), func_out[o]._data.dtype)
                                  for o in differentiable]
    numerical = []   # numerical[i][k]: J_ki u_i (forward) or v_k^T J_ki u_i (reverse), k over differentiable
    for (_, x), u in zip(checked, all_u):
        ju = _central_difference(func, inputs, x, (u * eps).reshape(x.shape), eps)
        if not differentiable:
            for d in ju:
                if d is not None and d.size and np.abs(d).max() > settings["nondet_tol"]:
                    raise GradcheckError("Numerical gradient for function expected to be zero")
            continue
        if forward:
            numerical.append([ju[o] for o in differentiable])
        else:
            numerical.append([np.dot(v, ju[o]) for o, v in zip(differentiable, all_v)])
    if not differentiable:
        return
    if forward:
        analytical = []
        with fwAD.dual_level():
            for i in range(len(checked)):
                tangents = [u if m == i else np.zeros_like(u) for m, u in enumerate(all_u)]
                columns = _output_tangents(func, _dual_inputs(inputs, tangents), differentiable)
                analytical.append([columns[o] for o in differentiable])
    else:
        analytical = [[None] * len(differentiable) for _ in checked]
        for k, (o, v) in enumerate(zip(differentiable, all_v)):
            vj = _projected_rows([x for _, x in checked], func_out[o], v, settings)
            for i, u in enumerate(all_u):
                analytical[i][k] = np.dot(vj[i], u)
    for i, u in enumerate(all_u):
        for k in range(len(differentiable)):
            a, n = _tensor(np.asarray(analytical[i][k])), _tensor(np.asarray(numerical[i][k]))
            tol = atol * float(u.sum()) * (1.0 if all_v is None else float(all_v[k].sum()))
            if not _allclose(a, n, rtol, tol):
                raise GradcheckError(_mismatch(a, n, k, i, forward)
                                     + _slow_report(func, inputs, func_out, differentiable, i, k, settings, forward))


def _projected_rows(checked, output, v, settings):
    """v^T J per checked input (twice, for the reentrancy check), flattened."""
    results = []
    for _ in range(2):
        grads = _grad(output, checked, _tensor(v.reshape(output.shape)), retain_graph=True, allow_unused=True)
        rows = []
        for x, g in zip(checked, grads):
            if g is not None and g.shape != x.shape:
                raise GradcheckError("Analytical gradient has incorrect size")
            if g is not None and settings["check_grad_dtypes"] and g.dtype != x.dtype:
                raise GradcheckError("Gradient has dtype mismatch")
            rows.append(np.zeros(x.numel(), x._data.dtype) if g is None else g._data.reshape(-1).copy())
        results.append(rows)
    for r1, r2 in zip(*results):
        if r1.size and np.abs(r1 - r2).max() > settings["nondet_tol"]:
            raise GradcheckError("Backward is not reentrant, i.e., running backward with same input and "
                                 "grad_output multiple times gives different values, although analytical gradient "
                                 "matches numerical gradient."
                                 f"The tolerance for nondeterminism was {settings['nondet_tol']}." + _NONDET_NOTE)
    return results[0]


def _slow_report(func, inputs, func_out, differentiable, i, k, settings, forward):
    """The full Jacobians of the failing pair, for the fast-mode failure message."""
    eps, rtol, atol = settings["eps"], settings["rtol"], settings["atol"]
    o = differentiable[k]
    numerical = _tensor(_numerical_jacobians(func, inputs, func_out, eps)[i][o])
    if forward:
        analytical = _forward_jacobians(func, inputs, [o])[i][o]
    else:
        analytical = _reverse_jacobians(inputs, func_out[o], dict(settings, nondet_tol=float("inf")))[i]
    analytical = _tensor(analytical)
    max_diff = float(np.abs(numerical._data - analytical._data).max())
    message = ("\nThe above quantities relating the numerical and analytical jacobians are computed \n"
               "in fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more background \n"
               "about fast mode. Below, we recompute numerical and analytical jacobians in slow mode:\n\n"
               f"Numerical:\n {numerical}\n"
               f"Analytical:\n{analytical}\n\n"
               f"The max per-element difference (slow mode) is: {max_diff}.\n")
    if _allclose(analytical, numerical, rtol, atol):
        message += _FAST_FAIL_SLOW_OK
    return message


# -- the zero-cotangent check --------------------------------------------------------------------------------------

def _check_backward_scales_with_grad_output(outputs, inputs):
    """A backward pass with zero cotangents must give zero gradients of the inputs' shapes and dtypes."""
    checked = [x for _, x in _checked_inputs(inputs)]
    if not checked:
        raise GradcheckError("no Tensors requiring grad found in input")
    if not outputs:
        return
    grads = _grad(outputs, checked, [zeros_like(o) for o in outputs], allow_unused=True)
    for g, x in zip(grads, checked):
        if g is None:
            continue
        if np.any(g._data != 0):
            raise GradcheckError("backward not multiplied by grad_output")
        if g.dtype != x.dtype:
            raise GradcheckError("grad is incorrect type")
        if g.shape != x.shape:
            raise GradcheckError("grad is incorrect size")


# -- second derivatives --------------------------------------------------------------------------------------------

def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False) -> bool:
    """Check second derivatives: :func:`gradcheck` of ``(inputs, grad_outputs) -> autograd.grad(func(inputs),
    inputs, grad_outputs, create_graph=True)``.

    The gradient is differentiated with respect to the inputs and the cotangents, by reverse mode
    (``check_rev_over_rev``, double backward) and/or forward mode (``check_fwd_over_rev``). Without
    ``grad_outputs``, random cotangents in [-1, 1) of the outputs' shapes are drawn (from gradgradcheck's own
    generator). ``gen_non_contig_grad_outputs`` has no effect: autodiff tensors have no strides to vary.
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        outputs = [o for o in _as_tuple(func(*inputs)) if o.requires_grad]
        grad_outputs = tuple(_random_cotangent(rng, o) for o in outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_out = len(grad_outputs)
    input_needs_grad = {i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad}
    cotangent_needs_grad = {i for i, g in enumerate(grad_outputs) if g.requires_grad}

    def first_derivatives(*args):
        # forward-mode checking hands in detached copies: give them back their requires_grad
        xs = tuple(x.requires_grad_() if i in input_needs_grad else x for i, x in enumerate(args[:-n_out]))
        outputs = [o for o in _as_tuple(func(*xs)) if o.requires_grad]
        cotangents = tuple(g.requires_grad_() if i in cotangent_needs_grad else g
                           for i, g in enumerate(args[-n_out:]))
        wrt = tuple(x for i, x in enumerate(xs) if i in input_needs_grad)
        grads = _grad(outputs, wrt, cotangents, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, fast_mode=fast_mode,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev, masked=masked)


def _random_cotangent(rng, output):
    dtype = output._data.dtype if output.is_floating_point() else np.float64
    values = rng.uniform(-1, 1, output.shape).astype(dtype)
    return Tensor._from_array(np.asarray(values), requires_grad=True)
