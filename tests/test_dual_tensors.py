"""Dual tensors of forward mode (``autograd.forward_ad``): what make_dual keeps, what unpack_dual returns, how a
dual tensor prints and torch's errors, each test run on autodiff and, when importable, on torch."""
from __future__ import annotations

import pytest

import autodiff as ad


@pytest.fixture(params=["autodiff", "torch"])
def m(request):
    if request.param == "torch":
        return pytest.importorskip("torch")
    return ad


def test_the_tangent_is_kept_as_given(m):
    fwd = m.autograd.forward_ad
    with fwd.dual_level():
        primal, tangent = m.tensor([1.0, 2.0]), m.tensor([3.0, 4.0])
        dual = fwd.make_dual(primal, tangent)
        unpacked = fwd.unpack_dual(dual)
        assert unpacked.tangent is tangent and unpacked.primal is not primal
        tangent.mul_(2)                                   # shared: the dual's tangent changes with it
        assert fwd.unpack_dual(dual).tangent.tolist() == [6.0, 8.0]
        assert fwd.unpack_dual(dual * 2).tangent.tolist() == [12.0, 16.0]


def test_a_tangent_laid_out_otherwise_is_copied(m):
    fwd = m.autograd.forward_ad
    with fwd.dual_level():
        primal = m.tensor([1.0, 2.0])
        strided = m.tensor([3.0, 0.0, 4.0])[::2]
        offset = m.tensor([0.0, 3.0, 4.0])[1:]
        assert fwd.unpack_dual(fwd.make_dual(primal, strided)).tangent is not strided
        assert fwd.unpack_dual(fwd.make_dual(primal, offset)).tangent is not offset
        transposed = m.ones(2, 3).t()
        assert fwd.unpack_dual(fwd.make_dual(m.zeros(2, 3).t(), transposed)).tangent is transposed
        computed = fwd.make_dual(primal, m.tensor([1.0, 1.0])) * 3
        assert fwd.unpack_dual(computed).tangent is fwd.unpack_dual(computed).tangent


def test_a_dual_tensor_prints_its_tangent(m):
    fwd = m.autograd.forward_ad
    with fwd.dual_level():
        dual = fwd.make_dual(m.tensor([1.0, 2.0]), m.tensor([3.0, 4.0]))
        assert repr(dual) == "tensor([1., 2.], tangent=tensor([3., 4.]))"
        assert repr(dual * 2) == "tensor([2., 4.], tangent=tensor([6., 8.]))"
        assert repr(fwd.make_dual(m.tensor(1.0), m.tensor(2.5))) == "tensor(1., tangent=2.5)"
        wide = fwd.make_dual(m.tensor([1.0, 2.0], dtype=m.float64), m.ones(2, dtype=m.float64))
        assert repr(wide) == (f"tensor([1., 2.], dtype={m.__name__}.float64,\n"
                              f"       tangent=tensor([1., 1.], dtype={m.__name__}.float64))")
        tracked = fwd.make_dual(m.tensor(1.0, requires_grad=True), m.tensor(2.5)) * 3
        assert repr(tracked) == "tensor(3., grad_fn=<MulBackward0>, tangent=7.5)"
    assert repr(dual) == "tensor([1., 2.])"                # outside its level the tangent is gone


def test_views_of_a_dual_that_requires_grad(m):
    """The dual is a view of its primal (ViewBackward0) and unpack_dual's primal a view of the dual (Identity),
    both carrying gradients back."""
    fwd = m.autograd.forward_ad
    x = m.tensor([1.0, 2.0], requires_grad=True)
    with fwd.dual_level():
        dual = fwd.make_dual(x, m.ones(2))
        assert repr(dual) == "tensor([1., 2.], grad_fn=<ViewBackward0>, tangent=tensor([1., 1.]))"
        primal = fwd.unpack_dual(dual * 2).primal
        assert repr(primal) == "tensor([2., 4.], grad_fn=<Identity>)"
        assert repr(fwd.unpack_dual(x)) == ("UnpackedDualTensor(primal=tensor([1., 2.], grad_fn=<Identity>), "
                                            "tangent=None)")
        primal.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_make_dual_outside_a_level_is_refused(m):
    with pytest.raises(RuntimeError) as raised:
        m.autograd.forward_ad.make_dual(m.tensor([1.0]), m.tensor([1.0]))
    assert str(raised.value) == ("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                                 "enter_dual_level() first.")


def test_make_dual_refuses_integer_primals_and_tangents(m):
    fwd = m.autograd.forward_ad
    with fwd.dual_level():
        with pytest.raises(ValueError) as raised:
            fwd.make_dual(m.tensor([1, 2]), m.tensor([1.0, 2.0]))
        assert str(raised.value) == f"Expected primal to be floating point or complex, but got: {m.__name__}.int64"
        with pytest.raises(ValueError) as raised:
            fwd.make_dual(m.tensor([1.0, 2.0]), m.tensor([1, 2]))
        assert str(raised.value) == f"Expected tangent to be floating point or complex, but got: {m.__name__}.int64"
