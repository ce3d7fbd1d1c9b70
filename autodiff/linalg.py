"""``autodiff.linalg``: torch.linalg's norms and the eigenvalues of a symmetric matrix."""
from __future__ import annotations

from . import return_types
from .dispatch import apply
from .tensor import Tensor
from .ops.linalg import EIGENVALUES, EIGENVECTORS
from .ops.reductions import amax, amin, norm as _norm, sum
from .ops.elementwise import abs

__all__ = ["vector_norm", "matrix_norm", "norm", "eigvalsh", "eigh"]
_INF = float("inf")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ``ord``-norm of ``x`` over ``dim`` (all elements by default) as a vector."""
    if dtype is not None:
        x = x.to(dtype)
    return _norm(x, ord, dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The Frobenius norm, or the largest/smallest absolute column (ord=±1) or row (ord=±inf) sum."""
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if ord == "fro":
        return _norm(A, 2, dim, keepdim)
    if ord in (1, -1, _INF, -_INF):
        rows, cols = (d % A.ndim for d in dim)
        summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = sum(abs(A), summed, keepdim)
        if not keepdim and other > summed:
            other -= 1                  # the summed dimension is gone
        return (amax if ord > 0 else amin)(sums, other, keepdim)
    if ord in (2, -2, "nuc"):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs singular values, which autodiff has "
                                  "not got; ord='fro', 1, -1, inf and -inf are supported")
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a vector norm over one dimension (or all of them, ord=None), a matrix norm over two."""
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                               f"Got {A.ndim}D.")
        dim = tuple(range(A.ndim))
    if len(dim) == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, ord, dim, keepdim, dtype=dtype)


def eigvalsh(A, UPLO="L"):
    """The eigenvalues of the symmetric matrices ``A`` (reading its lower triangle), ascending."""
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    if A.ndim < 2:
        raise RuntimeError("linalg.eigh: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.eigh: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    return apply(EIGENVALUES, A, UPLO) if UPLO != "L" else apply(EIGENVALUES, A)


def eigh(A, UPLO="L"):
    """``(eigenvalues, eigenvectors)`` of the symmetric matrices ``A`` (reading its lower triangle), the values
    ascending and the vectors as columns (each determined up to its sign)."""
    eigenvalues = eigvalsh(A, UPLO)
    eigenvectors = apply(EIGENVECTORS, A, UPLO) if UPLO != "L" else apply(EIGENVECTORS, A)
    if isinstance(eigenvectors, Tensor) and eigenvectors.grad_fn is not None:
        eigenvectors.grad_fn.name_override = "LinalgEighBackward0"   # one node for both outputs in torch
    return return_types.linalg_eigh(eigenvalues, eigenvectors)
