"""gradcheck / gradgradcheck: pass on correct ops (both modes, slow and fast), fail on deliberately wrong
derivatives with torch's messages (golden data from torch 2.13, see golden/make_functional_golden.py)."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from autodiff.autograd import GradcheckError, gradcheck, gradgradcheck
from autodiff.dispatch import apply
from autodiff.node import OPS, defop

GOLDEN = json.loads((Path(__file__).resolve().parent / "golden" / "functional.json").read_text())["gradcheck"]


def f64(data, requires_grad=True):
    return ad.tensor(data, dtype=ad.float64, requires_grad=requires_grad)


def _detached(x):
    return x.detach() if isinstance(x, ad.Tensor) else x


@pytest.fixture
def square_ops():
    """x**2 declared three times with one derivative wrong each (registered only for the test's duration)."""
    def two_x(x):
        return 2 * x

    def not_scaled_by_cotangent(g, ans, x):
        # right on one-hot cotangents, but a zero cotangent gives a nonzero gradient
        return g * 2 * x + (1 - abs(g).sum())

    declared = {
        "wrong_backward": defop("GradcheckTestWrongVjp", lambda x: x ** 2,
                                (lambda g, ans, x: g * 3 * x,), (lambda t, ans, x: t * two_x(x),)),
        "wrong_forward": defop("GradcheckTestWrongJvp", lambda x: x ** 2,
                               (lambda g, ans, x: g * two_x(x),), (lambda t, ans, x: t * 3 * x,)),
        # first derivative right, but computed from a detached x: its own derivative is wrong
        "wrong_second": defop("GradcheckTestWrongDoubleVjp", lambda x: x ** 2,
                              (lambda g, ans, x: g * 2 * _detached(x),), (lambda t, ans, x: t * 2 * _detached(x),)),
        "unscaled": defop("GradcheckTestUnscaledVjp", lambda x: x ** 2,
                          (not_scaled_by_cotangent,), (lambda t, ans, x: t * two_x(x),)),
        "noisy": defop("GradcheckTestNoisyVjp", lambda x: x ** 2,
                       (lambda g, ans, x: g * (2 * x + np.random.default_rng().normal(0, 1e-3, np.shape(x))),),
                       (lambda t, ans, x: t * two_x(x),)),
    }
    try:
        yield {name: (lambda x, op=op: apply(op, x)) for name, op in declared.items()}
    finally:
        for op in declared.values():
            OPS.pop(op.name, None)


# -- correct ops pass -------------------------------------------------------------------------------------------------

CORRECT = {
    "sin": (ad.sin, [[0.3, -1.2, 2.0]]),
    "exp_log": (lambda x: ad.log(ad.exp(x) + x ** 2), [[0.5, 1.5, -0.7]]),
    "broadcast_mul_div": (lambda x, y: x * y / (1 + y ** 2), [[[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], [0.3, -0.7, 1.1]]),
    "matmul_tanh": (lambda w, x: ad.tanh(w @ x), [[[0.5, -0.2, 0.1], [0.3, 0.8, -0.6]], [1.0, 0.5, -1.5]]),
    "softmax": (lambda x: ad.softmax(x, dim=1), [[[0.1, -0.4, 0.9], [1.2, 0.3, -0.8]]]),
    "reductions": (lambda x: (x.sum(dim=0), x.mean(), x.prod(dim=1)), [[[1.0, 2.0], [3.0, -0.5]]]),
    "indexing_cat": (lambda x: ad.cat([x[1:], x[:1] * 2], 0), [[0.2, 0.4, 0.8]]),
    "zero_dim": (lambda x: ad.sigmoid(x) * x, [0.4]),
}


@pytest.mark.parametrize("name", list(CORRECT))
@pytest.mark.parametrize("fast_mode", [False, True])
def test_correct_functions_pass_both_modes(name, fast_mode):
    func, data = CORRECT[name]
    inputs = tuple(f64(d) for d in data)
    assert gradcheck(func, inputs, check_forward_ad=True, fast_mode=fast_mode) is True


@pytest.mark.parametrize("name", ["sin", "broadcast_mul_div", "matmul_tanh", "softmax", "zero_dim"])
def test_second_derivatives_pass(name):
    func, data = CORRECT[name]
    inputs = tuple(f64(d) for d in data)
    assert gradgradcheck(func, inputs, check_fwd_over_rev=True) is True


def test_inputs_that_do_not_require_grad_are_passed_through():
    x, scale = f64([1.0, 2.0]), f64([3.0, -1.0], requires_grad=False)
    assert gradcheck(lambda a, s, k: a * s * k, (x, scale, 2.0))


def test_outputs_that_do_not_require_grad_need_zero_numerical_gradient():
    x = f64([1.0, 2.0])
    assert gradcheck(lambda a: (a * 2).detach() * 0 + 1, (x,))
    with pytest.raises(GradcheckError, match="^Numerical gradient for function expected to be zero$"):
        gradcheck(lambda a: (a * 2).detach(), (x,))


# -- wrong derivatives fail, as in torch -----------------------------------------------------------------------------

def test_wrong_vjp_raises_torchs_message(square_ops):
    x = f64([1.0, 2.0, 3.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(square_ops["wrong_backward"], (x,))
    assert isinstance(info.value, RuntimeError)
    assert ["GradcheckError", str(info.value)] == GOLDEN["wrong_backward"]


def test_mismatch_names_the_output_and_input(square_ops):
    x, y = f64([1.0, 2.0, 3.0]), f64([[0.5, -1.0], [2.0, 0.25]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: (a * 2, square_ops["wrong_backward"](b)), (x, y))
    assert ["GradcheckError", str(info.value)] == GOLDEN["wrong_backward_second_pair"]


def test_wrong_jvp_fails_only_the_forward_check(square_ops):
    x = f64([1.0, 2.0, 3.0])
    assert gradcheck(square_ops["wrong_forward"], (x,))
    with pytest.raises(GradcheckError) as info:
        gradcheck(square_ops["wrong_forward"], (x,), check_forward_ad=True)
    assert ["GradcheckError", str(info.value)] == GOLDEN["wrong_forward"]
    assert gradcheck(square_ops["wrong_forward"], (x,), check_forward_ad=True, raise_exception=False) is False
    assert not gradcheck(square_ops["wrong_forward"], (x,), check_forward_ad=True, check_backward_ad=False,
                         raise_exception=False)


def test_raise_exception_false_returns_false(square_ops):
    x = f64([1.0, 2.0, 3.0])
    assert gradcheck(square_ops["wrong_backward"], (x,), raise_exception=False) is False
    assert gradcheck(square_ops["wrong_backward"], (x,), fast_mode=True, raise_exception=False) is False


def test_fast_mode_failure_recomputes_the_full_jacobians(square_ops):
    x = f64([1.0, 2.0, 3.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(square_ops["wrong_backward"], (x,), fast_mode=True)
    message = str(info.value)
    assert message.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:")
    slow = GOLDEN["wrong_backward"][1]
    numerical = slow[slow.index("numerical:") + len("numerical:"):slow.index("\nanalytical:")]
    analytical = slow[slow.index("analytical:") + len("analytical:"):].rstrip("\n")
    assert f"Numerical:\n {numerical}\nAnalytical:\n{analytical}\n" in message
    # the same central differences as torch's, to the last bit
    assert message.endswith("The max per-element difference (slow mode) is: 2.999999999161332.\n")


def test_backward_must_scale_with_the_cotangent(square_ops):
    x = f64([1.0, 2.0, 3.0])
    with pytest.raises(GradcheckError, match="^backward not multiplied by grad_output$"):
        gradcheck(square_ops["unscaled"], (x,))


def test_nondeterministic_backward_is_reported(square_ops):
    x = f64([1.0, 2.0, 3.0])
    with pytest.raises(GradcheckError, match="^Backward is not reentrant"):
        gradcheck(square_ops["noisy"], (x,), atol=1e-2)
    assert gradcheck(square_ops["noisy"], (x,), atol=1e-2, nondet_tol=1.0)


def test_gradgradcheck_catches_a_wrong_second_derivative(square_ops):
    x = f64([1.0, 2.0, 3.0])
    op = square_ops["wrong_second"]
    assert gradcheck(op, (x,), check_forward_ad=True)
    with pytest.raises(GradcheckError, match="^Jacobian mismatch for output 0 with respect to input 0,\nnumerical:"):
        gradgradcheck(op, (x,))
    with pytest.raises(GradcheckError, match="^Jacobian computed with forward mode mismatch for output 0"):
        gradgradcheck(op, (x,), check_fwd_over_rev=True, check_rev_over_rev=False, check_undefined_grad=False)
    assert gradgradcheck(op, (x,), raise_exception=False) is False


def test_gradgradcheck_with_given_grad_outputs():
    x = f64([[0.5, 1.0], [1.5, -2.0]])
    v = f64([[1.0, -1.0], [0.5, 2.0]])
    assert gradgradcheck(lambda a: a.exp() * a, (x,), (v,))
    assert gradgradcheck(lambda a: a.exp() * a, (x,), (v.detach(),))


# -- arguments, warnings and errors as torch's ------------------------------------------------------------------------

def test_float32_inputs_warn_and_fail_like_torch():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = gradcheck(ad.sin, (x,), raise_exception=False)
    assert result is GOLDEN["float32_result"]
    assert [str(w.message) for w in caught if "double precision" in str(w.message)] == GOLDEN["float32_warnings"]


@pytest.mark.parametrize("key, call", [
    ("no_input_requires_grad", lambda: gradcheck(ad.sin, (f64([1.0], requires_grad=False),))),
    ("neither_mode", lambda: gradcheck(ad.sin, (f64([1.0]),), check_backward_ad=False)),
])
def test_argument_errors_match_torch(key, call):
    with pytest.raises(Exception) as info:
        call()
    assert [type(info.value).__name__, str(info.value)] == GOLDEN[key]


def test_batched_checks_need_vmap():
    with pytest.raises(NotImplementedError, match="vmap"):
        gradcheck(ad.sin, (f64([1.0]),), check_batched_grad=True)


def test_single_tensor_input_and_list_inputs():
    assert gradcheck(ad.tanh, f64([0.1, 0.2]))
    assert gradcheck(lambda a, b: a * b, [f64([0.1, 0.2]), f64([3.0, 4.0])])


def test_inputs_are_restored_after_perturbation():
    x = f64([0.1, 0.2, 0.3])
    before = x.detach().numpy().copy()
    gradcheck(ad.exp, (x,), check_forward_ad=True, fast_mode=False)
    gradcheck(ad.exp, (x,), fast_mode=True)
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert x.grad is None


def test_output_aliasing_the_input_is_differenced_correctly():
    x = f64([1.0, 2.0])
    assert gradcheck(lambda a: a[...], (x,))


def test_broadcast_view_inputs_are_refused():
    x = ad.from_numpy(np.broadcast_to(np.array([1.0, 2.0]), (3, 2))).requires_grad_()
    with pytest.raises(RuntimeError, match="The 0th input has a dimension with stride 0"):
        gradcheck(ad.sin, (x,))
