"""Single-pass SGD and Adam kernels compiled by numba: what ``fused=True`` selects when numba is
installed (torch's ``fused=True`` selects its fused CPU kernel the same way).

The numpy kernels make one pass over memory per ufunc, a dozen for Adam; these read each array
once and write it once, which is what reaching the memory bandwidth takes. numba is optional:
without it ``fused=True`` runs the numpy kernels, with the same numbers up to rounding. The
arithmetic is that of the numpy kernels, in the arrays' dtype (float32 math for float32 tensors,
as torch's fused kernel), without fastmath (no reassociation).
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np


@functools.cache
def available() -> bool:
    """Whether the fused kernels can run (numba is installed). numba itself is imported on the first fused step:
    importing it takes about 0.1 s, which ``import optimizers`` would otherwise pay every time."""
    return importlib.util.find_spec("numba") is not None


@functools.cache
def _kernels():
    """The compiled SGD and Adam kernels (compiled once, then cached on disk by numba)."""
    import numba

    # error_model="numpy": no Python ZeroDivisionError check, which keeps the loops vectorized.
    compile_ = numba.njit(cache=True, nogil=True, error_model="numpy")
    return compile_(_sgd_kernel_py), compile_(_adam_kernel_py)


def _flat(*arrays):
    """1-D views of C-contiguous arrays, or None if one is not contiguous (then use numpy)."""
    if not all(a is None or a.flags.c_contiguous for a in arrays):
        return None
    return [None if a is None else a.reshape(-1) for a in arrays]


def sgd_fused_(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov,
               maximize, first_step) -> bool:
    """:func:`optimizers._functional.sgd_` in one pass; returns False if it could not run."""
    flat = _flat(param, grad, momentum_buffer)
    if flat is None:
        return False
    p, g, b = flat
    if b is None:
        b = p[:0]  # unused without momentum; numba wants an array of the same type
    # Scalars in the arrays' dtype, as numpy's kernels (and torch's fused kernel) compute.
    real = p.dtype.type
    _kernels()[0](p, g, b, real(-lr), real(momentum), real(1 - dampening), real(weight_decay),
                nesterov, maximize, first_step, momentum != 0, dampening == 0)
    return True


def adam_fused_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps,
                weight_decay, amsgrad, maximize, decoupled_weight_decay) -> bool:
    """:func:`optimizers._functional.adam_` in one pass; returns False if it could not run."""
    flat = _flat(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
    if flat is None:
        return False
    p, g, m, v, vmax = flat
    if vmax is None:
        vmax = p[:0]
    real = p.dtype.type
    step_size = lr / (1 - beta1**step)
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    decay = 1 - lr * weight_decay if decoupled_weight_decay else 1.0
    coupled = 0.0 if decoupled_weight_decay else weight_decay
    weight = 1 - beta1
    _kernels()[1](p, g, m, v, vmax, amsgrad, maximize, real(decay), real(coupled), real(weight),
                 real(1 - weight), weight < 0.5, real(beta2), real(1 - beta2), real(eps),
                 real(-step_size), real(bias_correction2_sqrt))
    return True


def _sgd_kernel_py(p, g, b, neg_lr, momentum, one_minus_dampening, weight_decay, nesterov,
                   maximize, first_step, has_momentum, undamped):
    for i in range(p.size):
        d = -g[i] if maximize else g[i]
        d = weight_decay * p[i] + d
        if has_momentum:
            if first_step:
                buf = d
            elif undamped:
                buf = b[i] * momentum + d
            else:
                buf = b[i] * momentum + d * one_minus_dampening
            b[i] = buf
            d = buf * momentum + d if nesterov else buf
        p[i] += d * neg_lr


def _adam_kernel_py(p, g, m, v, vmax, amsgrad, maximize, decay, weight_decay, weight,
                    one_minus_weight, small_weight, beta2, one_minus_beta2, eps, neg_step_size,
                    bias_correction2_sqrt):
    for i in range(p.size):
        theta = p[i] * decay
        d = -g[i] if maximize else g[i]
        d = theta * weight_decay + d
        mi = m[i]
        mi = mi + (d - mi) * weight if small_weight else d - (d - mi) * one_minus_weight
        vi = v[i] * beta2 + d * one_minus_beta2 * d
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vi = max(vmax[i], vi)
            vmax[i] = vi
        p[i] = theta + mi * neg_step_size / (np.sqrt(vi) / bias_correction2_sqrt + eps)

