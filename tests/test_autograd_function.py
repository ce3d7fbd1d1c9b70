"""Custom functions (``autograd.Function``): each test runs on autodiff and, when importable, on torch with the same
assertions and messages, so a test that passes on torch and fails on autodiff is a parity bug."""
from __future__ import annotations

import pytest

import autodiff as ad


@pytest.fixture(params=["autodiff", "torch"])
def m(request):
    if request.param == "torch":
        return pytest.importorskip("torch")
    return ad


def exp_function(m):
    """torch's docstring example of autograd.Function, unchanged."""
    Function = m.autograd.Function

    class Exp(Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

    return Exp


def product_and_sum(m, seen=None):
    """A new-style function (forward without ctx, setup_context) of two inputs and two outputs, with a jvp."""

    class ProductAndSum(m.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y, x + y

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, y = inputs
            ctx.save_for_backward(x, y)
            ctx.save_for_forward(x, y)
            if seen is not None:
                seen.append(ctx.needs_input_grad)

        @staticmethod
        def backward(ctx, grad_product, grad_sum):
            if seen is not None:
                seen.append((grad_product.tolist(), grad_sum.tolist()))
            x, y = ctx.saved_tensors
            return grad_product * y + grad_sum, grad_product * x + grad_sum

        @staticmethod
        def jvp(ctx, x_t, y_t):
            x, y = ctx.saved_for_forward
            return x_t * y + y_t * x, x_t + y_t

    return ProductAndSum


def test_the_docstring_example(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = exp_function(m).apply(x)
    assert repr(y) == "tensor([2.7183, 7.3891], grad_fn=<ExpBackward>)" and y.grad_fn.name() == "ExpBackward"
    y.sum().backward()
    assert x.grad.tolist() == pytest.approx([2.718281828, 7.389056099])


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_and_gradgradcheck_pass(m, fast_mode):
    x = m.tensor([0.3, -0.7], dtype=m.float64, requires_grad=True)
    y = m.tensor([1.3, 0.2], dtype=m.float64, requires_grad=True)
    assert m.autograd.gradcheck(exp_function(m).apply, (x,), fast_mode=fast_mode)
    assert m.autograd.gradgradcheck(exp_function(m).apply, (x,), fast_mode=fast_mode)
    pair = product_and_sum(m)
    assert m.autograd.gradcheck(pair.apply, (x, y), check_forward_ad=True, fast_mode=fast_mode)
    assert m.autograd.gradgradcheck(pair.apply, (x, y), fast_mode=fast_mode)


def test_new_style_with_two_outputs(m):
    seen = []
    pair = product_and_sum(m, seen)
    a, b = m.tensor([1.0, 2.0], requires_grad=True), m.tensor([3.0, 4.0])
    product, total = pair.apply(a, b)
    assert repr(total) == "tensor([4., 6.], grad_fn=<ProductAndSumBackward>)"
    product.sum().backward()                    # no gradient reaches the sum: zeros are passed for it
    assert a.grad.tolist() == [3.0, 4.0]
    a.grad = None
    product, total = pair.apply(a, b)
    (product.sum() + 2 * total.sum()).backward()
    assert a.grad.tolist() == [5.0, 6.0]
    assert seen == [(True, False), ([1.0, 1.0], [0.0, 0.0]), (True, False), ([1.0, 1.0], [2.0, 2.0])]


def test_jvp_in_forward_mode(m):
    fwd = m.autograd.forward_ad
    with fwd.dual_level():
        product, total = product_and_sum(m).apply(fwd.make_dual(m.tensor([1.0, 2.0]), m.ones(2)),
                                                  m.tensor([3.0, 4.0]))   # its tangent: zeros
        assert fwd.unpack_dual(product).tangent.tolist() == [3.0, 4.0]
        assert fwd.unpack_dual(total).tangent.tolist() == [1.0, 1.0]


def simple(m, forward, backward=None, name="Simple"):
    members = {"forward": staticmethod(forward)}
    if backward is not None:
        members["backward"] = staticmethod(backward)
    return type(name, (m.autograd.Function,), members)


@pytest.mark.parametrize("name, forward, backward, message", [
    ("Bad", lambda ctx, x, y: x * y, lambda ctx, g: g,
     "function BadBackward returned an incorrect number of gradients (expected 2, got 1)"),
    ("Extra", lambda ctx, x, y: x * y, lambda ctx, g: (g, g, g),
     "function ExtraBackward returned an incorrect number of gradients (expected 2, got 3)"),
    ("Shape", lambda ctx, x, y: x * y, lambda ctx, g: (g[:1], None),
     "Function ShapeBackward returned an invalid gradient at index 0 - got [1] but expected shape compatible with "
     "[2]"),
])
def test_a_wrong_backward_fails_as_torchs(m, name, forward, backward, message):
    func = simple(m, forward, backward, name)
    with pytest.raises(RuntimeError) as raised:
        func.apply(m.ones(2, requires_grad=True), m.ones(2)).sum().backward()
    assert str(raised.value) == message


def test_extra_none_gradients_are_allowed(m):
    x = m.ones(2, requires_grad=True)
    simple(m, lambda ctx, x: x * 2, lambda ctx, g: (g * 2, None)).apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_missing_backward_jvp_and_misuse(m):
    func = simple(m, lambda ctx, x: x * 2)
    with pytest.raises(NotImplementedError) as raised:
        func.apply(m.ones(2, requires_grad=True)).sum().backward()
    assert str(raised.value) == ("You must implement either the backward or vjp method for your custom "
                                 "autograd.Function to use it with backward mode AD.")
    fwd = m.autograd.forward_ad
    with fwd.dual_level(), pytest.raises(NotImplementedError) as raised:
        func.apply(fwd.make_dual(m.ones(2), m.ones(2)))
    assert str(raised.value) == ("You must implement the jvp function for custom autograd.Function to use it with "
                                 "forward mode AD.")
    with pytest.raises(RuntimeError, match="^Legacy autograd function with non-static forward method is deprecated"):
        exp_function(m)()(m.ones(1))
    with pytest.raises(TypeError) as raised:
        simple(m, lambda ctx, x: (ctx.save_for_backward(1), x * 1)[1], lambda ctx, g: g).apply(
            m.ones(1, requires_grad=True))
    assert str(raised.value) == "save_for_backward can only save variables, but argument 0 is of type int"


def test_once_differentiable_backward_records_no_graph(m):
    class Square(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @m.autograd.function.once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g

    x = m.ones(2, requires_grad=True)
    (g,) = m.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [2.0, 2.0] and not g.requires_grad


def test_non_differentiable_outputs_and_materialized_grads(m):
    seen = []

    def forward(ctx, x):
        values, index = x * 2, x.argmax()
        ctx.mark_non_differentiable(index)
        return values, index

    def backward(ctx, g_values, g_index):
        seen.append((g_values.tolist(), g_index.tolist()))
        return g_values * 2

    values, index = simple(m, forward, backward).apply(m.ones(2, requires_grad=True))
    assert not index.requires_grad and index.grad_fn is None and values.requires_grad
    values.sum().backward()

    def lazy(ctx, x):
        ctx.set_materialize_grads(False)
        return x * 2, x * 3

    lazy_func = simple(m, lazy, lambda ctx, a, b: seen.append((a.tolist(), b)) or a * 2)
    first, _ = lazy_func.apply(m.ones(2, requires_grad=True))
    first.sum().backward()
    assert seen == [([1.0, 1.0], 0), ([1.0, 1.0], None)]


def test_mark_dirty_and_returned_inputs(m):
    def double_in_place(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x

    dirty = simple(m, double_in_place, lambda ctx, g: g * 2, "Dirty")
    x = m.ones(2, requires_grad=True)
    y = x * 1
    z = dirty.apply(y)
    assert z is y and y._version == 2 and repr(z) == "tensor([2., 2.], grad_fn=<DirtyBackward>)"
    z.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError) as raised:
        dirty.apply(m.ones(2, requires_grad=True))
    assert str(raised.value) == "a leaf Variable that requires grad has been used in an in-place operation."
    identity = simple(m, lambda ctx, x: x, lambda ctx, g: g, "Identity")
    x = m.ones(2, requires_grad=True)
    out = identity.apply(x)
    assert out is not x and repr(out) == "tensor([1., 1.], grad_fn=<IdentityBackward>)"


def test_without_grad_nothing_is_recorded_and_context_attributes_carry(m):
    assert exp_function(m).apply(m.ones(2)).grad_fn is None
    with m.no_grad():
        assert exp_function(m).apply(m.ones(2, requires_grad=True)).grad_fn is None

    def forward(ctx, x, k=2.0):
        ctx.k = k
        return x * k

    x = m.ones(2, requires_grad=True)
    simple(m, forward, lambda ctx, g: (g * ctx.k, None)).apply(x, 3.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_a_saved_tensor_changed_in_place_fails_the_backward(m):
    x = m.ones(2, requires_grad=True)
    y = x * 1
    z = exp_function(m).apply(y)
    z.sum().backward(retain_graph=True)            # the saved output, unchanged: fine
    saved_input = simple(m, lambda ctx, t: (ctx.save_for_backward(t), t * 2)[1],
                         lambda ctx, g: g * ctx.saved_tensors[0], "Saves")
    out = saved_input.apply(y)
    y.add_(1)
    with pytest.raises(RuntimeError) as raised:
        out.sum().backward()
    assert str(raised.value).startswith(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{m.__name__}.FloatTensor [2]], which is output 0 of Add, is at version 1; expected version 0 instead.")

    def double_and_save(ctx, t):
        t.mul_(2)
        ctx.mark_dirty(t)
        ctx.save_for_backward(t)
        return t

    w = x * 1
    simple(m, double_and_save, lambda ctx, g: g * 2, "DirtySaved").apply(w).sum().backward()
