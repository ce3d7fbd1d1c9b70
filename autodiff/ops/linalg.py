"""Products: dot, matrix-vector, matrix-matrix and batched matmul, with numpy's promotion of 1-D operands."""
from __future__ import annotations

import numpy as np

from ..dispatch import apply
from ..dtypes import type_name
from ._helpers import fix_dtype
from .declare import declare, defop
from .selection import where
from .shape import reshape, transpose, unsqueeze



def _matmul_grad_x(g, ans, x, y):
    if x.ndim == 1 and y.ndim == 1:
        return g * y
    if y.ndim == 1:                       # (.., n, k) @ (k,) -> (.., n)
        return unsqueeze(g, -1) * y
    if x.ndim == 1:                       # (k,) @ (.., k, m) -> (.., m)
        return matmul(y, unsqueeze(g, -1)).squeeze(-1)
    return matmul(g, transpose(y, -1, -2))


def _matmul_grad_y(g, ans, x, y):
    if x.ndim == 1 and y.ndim == 1:
        return g * x
    if x.ndim == 1:                       # (k,) @ (.., k, m)
        return unsqueeze(x, -1) * unsqueeze(g, -2)
    if y.ndim == 1:                       # (.., n, k) @ (k,)
        return matmul(transpose(x, -1, -2), unsqueeze(g, -1)).squeeze(-1)
    return matmul(transpose(x, -1, -2), g)


def _forward(x, y):
    return fix_dtype(np.matmul(x, y), x, y)


_rules = dict(vjps=(_matmul_grad_x, _matmul_grad_y),
              jvps=(lambda t, ans, x, y: matmul(t, y), lambda t, ans, x, y: matmul(x, t)),
              saves=((1,), (0,)))
DOT = defop("DotBackward0", _forward, **_rules)
MV = defop("MvBackward0", _forward, **_rules)
MM = defop("MmBackward0", _forward, **_rules)
VM = defop("SqueezeBackward4", _forward, **_rules)  # torch computes vector @ matrix as unsqueeze, mm, squeeze
MATMUL = defop("UnsafeViewBackward0", _forward, **_rules)
BMM = defop("BmmBackward0", _forward, **_rules)


def _check(x, y):
    xs, ys = x.shape, y.shape
    if not xs or not ys:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {len(xs)}D and "
                           f"{len(ys)}D")
    k_x = xs[-1]
    k_y = ys[0] if len(ys) == 1 else ys[-2]
    if k_x != k_y:
        if len(xs) == 1 and len(ys) == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{xs[0]}] and src [{ys[0]}] to have "
                               f"the same number of elements, but got {xs[0]} and {ys[0]} elements respectively")
        if len(xs) == 2 and len(ys) == 1:
            raise RuntimeError(f"size mismatch, got input ({xs[0]}), mat ({xs[0]}x{k_x}), vec ({ys[0]})")
        a = f"{int(np.prod(xs[:-1]))}x{k_x}" if len(xs) > 1 else f"1x{k_x}"
        b = f"{k_y}x{ys[-1] if len(ys) > 1 else 1}"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a} and {b})")


@declare("matmul")
def matmul(input, other):
    _check(input, other)
    nx, ny = input.ndim, other.ndim
    if nx == 1 and ny == 1:
        op = DOT
    elif nx == 2 and ny == 1:
        op = MV
    elif nx == 2 and ny == 2:
        op = MM
    elif nx == 1 and ny == 2:
        op = VM
    else:
        op = MATMUL
    out = apply(op, input, other)
    if nx == 2 and ny > 2 and getattr(out, "grad_fn", None) is not None:
        out.grad_fn.name_override = "CloneBackward0"   # torch's matrix @ batch ends in a contiguous copy
    return out


@declare("bmm")
def bmm(input, mat2):
    for name, x in (("batch1", input), ("batch2", mat2)):
        if x.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    b, n, k = input.shape
    if tuple(mat2.shape[:2]) != (b, k):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    return apply(BMM, input, mat2)


@declare("dot")
def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.dtype != other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_name(input)} and "
                           f"{_name(other)}")
    return matmul(input, other)


@declare("mm")
def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError("self must be a matrix" if input.ndim != 2 else "mat2 must be a matrix")
    return matmul(input, mat2)


@declare("mv")
def mv(input, vec):
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x{input.shape[1]}), "
                           f"vec ({vec.shape[0]})")
    return matmul(input, vec)


@declare("outer")
def outer(input, vec2):
    return reshape(input, (input.shape[0], 1)) * vec2      # as torch's: a column by reshape (ViewBackward0)


def _name(x):
    return type_name(x._data.dtype if hasattr(x, "_data") else x.dtype)


# -- eigenvalues and eigenvectors of symmetric matrices (autodiff.linalg.eigvalsh, eigh): the lower triangle is read,
# as torch's UPLO="L". Each rule is written with these two ops, so it differentiates again (second derivatives and
# beyond): with A = V diag(lambda) V^T, d lambda_k = v_k^T dA v_k and dV = V (F o (V^T dA V)), F_ij = 1/(lambda_j - lambda_i).

def _vectors(x, uplo):
    """The eigenvectors of ``x``: an array for an array, a recorded op for a tensor (the rules differentiate)."""
    return np.linalg.eigh(x, UPLO=uplo)[1] if isinstance(x, np.ndarray) else apply(EIGENVECTORS, x, uplo)


def _values(x, uplo):
    return np.linalg.eigvalsh(x, UPLO=uplo) if isinstance(x, np.ndarray) else apply(EIGENVALUES, x, uplo)


def _eigenvalues_vjp(g, ans, x, uplo="L"):
    vectors = _vectors(x, uplo)
    return matmul(vectors * unsqueeze(g, -2), transpose(vectors, -1, -2))


def _eigenvalues_jvp(t, ans, x, uplo="L"):
    vectors = _vectors(x, uplo)
    return (vectors * matmul(t, vectors)).sum(-2)


def _turn(m, values):
    """F o m with F_ij = 1/(lambda_j - lambda_i) off the diagonal and 0 on it: how the eigenvectors turn."""
    n = values.shape[-1]
    off = ~np.eye(n, dtype=bool)
    gaps = unsqueeze(values, -2) - unsqueeze(values, -1)            # lambda_j - lambda_i
    return where(off, m / where(off, gaps, 1.0), 0.0)


def _eigenvectors_vjp(g, ans, x, uplo="L"):
    # only the antisymmetric part of V^T g moves the input (a symmetric gradient, as torch's)
    m = matmul(transpose(ans, -1, -2), g)
    return matmul(matmul(ans, _turn((m - transpose(m, -1, -2)) * 0.5, _values(x, uplo))), transpose(ans, -1, -2))


def _eigenvectors_jvp(t, ans, x, uplo="L"):
    return matmul(ans, _turn(matmul(matmul(transpose(ans, -1, -2), t), ans), _values(x, uplo)))


EIGENVALUES = defop("LinalgEighBackward0", lambda x, uplo="L": np.linalg.eigvalsh(x, UPLO=uplo),
                    (_eigenvalues_vjp, None), (_eigenvalues_jvp, None), saves=((0,), ()))
# torch records both outputs of eigh on one LinalgEighBackward0; here the eigenvectors are an op of their own
EIGENVECTORS = defop("LinalgEighVectorsBackward0", lambda x, uplo="L": np.linalg.eigh(x, UPLO=uplo)[1],
                     (_eigenvectors_vjp, None), (_eigenvectors_jvp, None), saves=((-1, 0), ()))
