"""autodiff: a numpy tensor library with define-by-run automatic differentiation that behaves like PyTorch.

    import autodiff as ad
    a = ad.tensor([2., 3.], requires_grad=True)
    b = ad.tensor([6., 4.], requires_grad=True)
    ad.sum(3*a**3 - b**2).backward()
    a.grad   # tensor([36., 81.])
"""
from . import methods as _methods  # noqa: F401  (installs Tensor methods and operators)
from ._formatting import get_printoptions, printoptions, set_printoptions
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, get_rng_state,
                       initial_seed, linspace, manual_seed, ones, ones_like, rand, rand_like, randint, randn,
                       randn_like, seed, set_rng_state, tensor, zeros, zeros_like)
from .dtypes import (bool, dtype, float16, float32, float64, get_default_dtype, int32, int64,  # noqa: A004
                     set_default_dtype)
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops.compound import addcdiv, addcmul, lerp
from .ops.elementwise import (abs, add, clamp, clip, cos, div, eq, exp, ge, gt, le, log, lt, maximum,  # noqa: A004
                              logical_and, logical_not, logical_or, minimum, mul, ne, neg, negative, pow, reciprocal, relu, rsub, sigmoid, sign, sin,
                              sqrt, square, sub, tan, tanh, true_divide, where)
from .ops.linalg import dot, matmul, mm, mv, outer
from .ops.reductions import (amax, amin, logsumexp, log_softmax, max, mean, min, norm, prod, softmax,  # noqa: A004
                             std, sum, var)
from .ops.shape import cat, clone, concat, flatten, permute, reshape, squeeze, stack, t, transpose, unsqueeze
from .tensor import Size, Tensor
from . import autograd  # noqa: E402
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled  # noqa: E402

subtract = sub
multiply = mul
divide = div
float = float32  # noqa: A001 - torch's alias
double = float64
long = int64


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input) -> int:
    return input.numel()


def detach(input):
    return input.detach()


__version__ = "0.1.0"
