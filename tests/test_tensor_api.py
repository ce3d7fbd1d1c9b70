"""The Tensor API and backward semantics (requires_grad, backward, grad modes, in-place ops and views, indexing,
creation), each test run on autodiff and (when importable) on torch.

Every test takes the library as ``m`` and asserts the same behaviour and messages on both (``{lib}`` in a message
reads ``torch`` or ``autodiff``), so a test that passes on torch and fails on autodiff is a parity bug.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff as ad


@pytest.fixture(params=["autodiff", "torch"])
def m(request):
    if request.param == "torch":
        return pytest.importorskip("torch")
    return ad


def message(m, text):
    return text.format(lib=m.__name__)


def vec(m, values=(1.0, 2.0), requires_grad=True):
    return m.tensor(list(values), requires_grad=requires_grad)


# -- requires_grad ------------------------------------------------------------------------------------------------

def test_requires_grad_defaults_and_propagation(m):
    a, b = vec(m, requires_grad=False), vec(m)
    assert not a.requires_grad and b.requires_grad
    assert not (a * 2).requires_grad
    assert (a * b).requires_grad and (a + b).grad_fn is not None
    assert (a * 2).grad_fn is None
    b.requires_grad_(False)
    assert not (a * b).requires_grad
    a.requires_grad = True
    assert (a * b).requires_grad


def test_only_floating_tensors_require_grad(m):
    with pytest.raises(RuntimeError) as raised:
        m.tensor([1, 2], requires_grad=True)
    assert str(raised.value) == "Only Tensors of floating point and complex dtype can require gradients"
    x = m.tensor([1, 2])
    with pytest.raises(RuntimeError) as raised:
        x.requires_grad = True
    assert str(raised.value) == "only Tensors of floating point and complex dtype can require gradients"


def test_requires_grad_flag_of_a_non_leaf_is_fixed(m):
    y = vec(m) * 2
    with pytest.raises(RuntimeError) as raised:
        y.requires_grad = False
    assert str(raised.value).startswith("you can only change requires_grad flags of leaf variables. If you want to "
                                        "use a computed variable in a subgraph that doesn't require differentiation "
                                        "use var_no_grad = var.detach().")


def test_setting_requires_grad_true_on_a_non_leaf_raises(m):
    y = vec(m) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables."):
        y.requires_grad = True


def test_is_leaf_and_grad_fn(m):
    x = vec(m)
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and repr(y.grad_fn).startswith("<MulBackward0 object at 0x")
    assert vec(m, requires_grad=False).is_leaf
    assert (vec(m, requires_grad=False) * 2).is_leaf     # results of ops without grad are leaves too
    assert y.detach().is_leaf


# -- backward ---------------------------------------------------------------------------------------------------

def test_gradients_accumulate_across_backward_calls(m):
    x = vec(m)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    assert x.grad.tolist() == [2 * 1 + 3, 2 * 2 + 3]
    x.grad.zero_()
    x.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    x.grad = None
    (x * 4).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_second_backward_through_a_freed_graph_raises(m):
    x = vec(m)
    y = x.sin().sum()
    y.backward()
    with pytest.raises(RuntimeError) as raised:
        y.backward()
    assert str(raised.value) == (
        "Trying to backward through the graph a second time (or directly access saved tensors after they have "
        "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
        "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
        "if you need to access saved tensors after calling backward.")


def test_retain_graph_allows_a_second_backward(m):
    x = vec(m)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_backward_of_a_tensor_without_grad(m):
    with pytest.raises(RuntimeError) as raised:
        vec(m, requires_grad=False).sum().backward()
    assert str(raised.value) == "element 0 of tensors does not require grad and does not have a grad_fn"
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        (vec(m) > 0).sum().backward()


def test_backward_of_a_non_scalar_needs_a_gradient(m):
    x = vec(m)
    y = x * x
    with pytest.raises(RuntimeError) as raised:
        y.backward()
    assert str(raised.value) == "grad can be implicitly created only for scalar outputs"
    y.backward(gradient=m.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 40.0]


def test_gradient_of_the_wrong_shape_names_both_shapes(m):
    x = vec(m)
    with pytest.raises(RuntimeError) as raised:
        (x * 2).backward(m.tensor([1.0, 2.0, 3.0]))
    assert str(raised.value) == message(m, "Mismatch in shape: grad_output[0] has a shape of {lib}.Size([3]) and "
                                           "output[0] has a shape of {lib}.Size([2]).")


def test_backward_inputs_accumulate_only_into_those(m):
    x, y = vec(m), vec(m, (3.0, 4.0))
    (x * y).sum().backward(inputs=[x])
    assert x.grad.tolist() == [3.0, 4.0] and y.grad is None
    with pytest.raises(RuntimeError, match="`inputs` argument to `backward\\(\\)` cannot be empty."):
        (x * y).sum().backward(inputs=[])


def test_non_leaf_grad_is_none_with_a_warning(m):
    x = vec(m)
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match="The .grad attribute of a Tensor that is not a leaf Tensor is being "
                                         "accessed. Its .grad attribute won't be populated during "
                                         "autograd.backward()."):
        assert y.grad is None


def test_retain_grad_fills_a_non_leaf_grad(m):
    x = vec(m)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad.tolist() == [4.0, 8.0]
    assert y.retains_grad and not x.retains_grad
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        vec(m, requires_grad=False).retain_grad()


def test_grad_can_be_assigned_a_tensor_of_the_same_shape(m):
    x = vec(m)
    x.grad = m.tensor([5.0, 6.0])
    x.sum().backward()
    assert x.grad.tolist() == [6.0, 7.0]


def test_grad_assignment_of_the_wrong_size_raises_torchs_message(m):
    x = vec(m)
    with pytest.raises(RuntimeError) as raised:
        x.grad = m.tensor([1.0, 2.0, 3.0])
    assert str(raised.value) == ("attempting to assign a gradient of size '[3]' to a tensor of size '[2]'. Please "
                                 "ensure that the gradient and the tensor are the same size")


def test_autograd_grad_returns_without_accumulating(m):
    x = vec(m)
    (g,) = m.autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.tolist() == [3.0, 12.0] and x.grad is None
    (h,) = m.autograd.grad(g.sum(), x)
    assert h.tolist() == [6.0, 12.0]
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require grad"):
        m.autograd.grad((x * 2).sum(), [vec(m, requires_grad=False)])


def test_autograd_grad_of_an_unused_input(m):
    x, z = vec(m), vec(m)
    assert m.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError) as raised:
        m.autograd.grad((x * 2).sum(), [x, z])
    assert str(raised.value) == ("The differentiated Tensor at index 1 appears to not have been used in the graph. "
                                 "Set allow_unused=True if this is the desired behavior.")


def test_a_graph_20000_ops_deep_backpropagates(m):
    x = m.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
        y = y - 0.0001 * x
    y.backward()
    # dy/dx by the recurrence d' = 1.0001 d - 0.0001, starting from d = 1
    expected = 1.0
    for _ in range(10_000):
        expected = np.float32(expected * 1.0001 - 0.0001)
    assert x.grad.item() == pytest.approx(float(expected), rel=1e-3)


def test_reading_grad_of_a_non_leaf_warns_as_torch(m):
    y = vec(m) * 2
    y.sum().backward()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None
    text = str(caught[0].message).split(" (Triggered internally at")[0]    # torch adds its C++ source line
    assert caught[0].category is UserWarning and text == (
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
        "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
        "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
        "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information.")


# -- grad mode -----------------------------------------------------------------------------------------------------

def test_no_grad_as_context_manager_and_decorator(m):
    x = vec(m)
    with m.no_grad():
        assert not m.is_grad_enabled()
        y = x * 2
    assert m.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @m.no_grad()
    def doubled(t):
        return t * 2

    assert not doubled(x).requires_grad
    assert m.is_grad_enabled()


def test_enable_grad_inside_no_grad(m):
    x = vec(m)
    with m.no_grad():
        with m.enable_grad():
            assert (x * 2).requires_grad

        @m.enable_grad()
        def doubled(t):
            return t * 2

        assert doubled(x).requires_grad
        assert not (x * 2).requires_grad


def test_set_grad_enabled_as_function_context_and_decorator(m):
    x = vec(m)
    try:
        m.set_grad_enabled(False)
        assert not m.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        m.set_grad_enabled(True)
    with m.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert m.is_grad_enabled()

    @m.set_grad_enabled(False)
    def doubled(t):
        return t * 2

    assert m.is_grad_enabled()
    assert not doubled(x).requires_grad


def test_grad_mode_is_restored_after_an_exception(m):
    with pytest.raises(ValueError):
        with m.no_grad():
            raise ValueError
    assert m.is_grad_enabled()


# -- in-place operations -----------------------------------------------------------------------------------------

def test_in_place_on_a_leaf_that_requires_grad_raises(m):
    x = vec(m)
    for op in (lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.zero_(), lambda t: t.clamp_(0, 1)):
        with pytest.raises(RuntimeError) as raised:
            op(x)
        assert str(raised.value) == "a leaf Variable that requires grad is being used in an in-place operation."


def test_in_place_on_a_leaf_under_no_grad(m):
    x = vec(m)
    with m.no_grad():
        x.sub_(0.5 * m.tensor([1.0, 1.0]))
        x.mul_(2)
    assert x.tolist() == [1.0, 3.0] and x.is_leaf and x.requires_grad


def test_in_place_ops_bump_the_version_counter(m):
    x = vec(m, requires_grad=False)
    assert x._version == 0
    x.add_(1)
    x.mul_(2)
    assert x._version == 2


def test_modifying_a_saved_tensor_fails_the_backward(m):
    x = vec(m)
    a = x * 2
    b = a.sin()
    a.add_(1)
    with pytest.raises(RuntimeError) as raised:
        b.sum().backward()
    assert str(raised.value).startswith(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        + message(m, "[{lib}.FloatTensor [2]], which is "))


@pytest.mark.parametrize("program, names", [
    ("a = x * 2; b = a.sin(); a.add_(1); out = b", "which is output 0 of Add, is at version 1"),
    ("a = x.exp(); a.mul_(2); out = a", "which is output 0 of Exp, is at version 1"),
    ("z = ad_or_torch.tensor([1., 2.]); c = x * z; z.add_(1); out = c", "is at version 1"),
])
def test_modified_saved_tensor_message_names_the_version_as_torch(m, program, names):
    scope = {"x": vec(m), "ad_or_torch": m}
    exec(program, scope)
    with pytest.raises(RuntimeError) as raised:
        scope["out"].sum().backward()
    expected = message(m, "one of the variables needed for gradient computation has been modified by an inplace "
                          "operation: [{lib}.FloatTensor [2]]")
    assert str(raised.value).startswith(f"{expected}{', ' if names.startswith('which') else ' '}{names}; "
                                        "expected version 0 instead.")


def test_modifying_a_tensor_no_rule_reads_is_fine(m):
    x = vec(m)
    a = x * 2
    b = a + 1          # add's VJP reads neither input
    a.mul_(3)
    b.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_in_place_op_reading_itself_fails_the_backward(m):
    """``y.mul_(y)``: the saved ``other`` is ``y`` itself, modified by the op that saved it."""
    y = vec(m) * 1
    y.mul_(y)
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation has been "
                                           "modified by an inplace operation"):
        y.sum().backward()


def test_modified_saved_tensor_message_in_full(m):
    """The whole message, word for word: versions counted from an earlier change, and the hint."""
    x = vec(m)
    a = x * 2
    a.add_(1)
    b = a.sin()          # saves a at version 1
    a.mul_(3)
    with pytest.raises(RuntimeError) as raised:
        b.sum().backward()
    assert str(raised.value) == message(
        m, "one of the variables needed for gradient computation has been modified by an inplace operation: "
           "[{lib}.FloatTensor [2]], which is output 0 of Mul, is at version 2; expected version 1 instead. Hint: "
           "enable anomaly detection to find the operation that failed to compute its gradient, with "
           "{lib}.autograd.set_detect_anomaly(True, check_nan=False).")


def test_anomaly_mode_shows_the_forward_call_and_finds_nans(m):
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        detector = m.autograd.detect_anomaly()
    x = vec(m)
    with detector:
        assert m.is_anomaly_enabled() and m.is_anomaly_check_nan_enabled()
        a = x * 2
        b = a.sin()
        a.add_(1)
        with pytest.warns(UserWarning, match="(?s)Error detected in SinBackward0. Traceback of forward call that "
                                             "caused the error:\n.*b = a.sin"):
            with pytest.raises(RuntimeError, match="Hint: the backtrace further above shows the operation that "
                                                   "failed to compute its gradient. The variable in question was "
                                                   "changed in there or anywhere later. Good luck!$"):
                b.sum().backward()
        z = m.tensor([0.0, 1.0], requires_grad=True)
        with pytest.warns(UserWarning, match="Error detected in SqrtBackward0"):
            with pytest.raises(RuntimeError, match="^Function 'SqrtBackward0' returned nan values in its 0th "
                                                   "output.$"):
                (z.sqrt() * 0).sum().backward()
    assert not m.is_anomaly_enabled()
    with m.autograd.set_detect_anomaly(True, check_nan=False):
        assert m.is_anomaly_enabled() and not m.is_anomaly_check_nan_enabled()
        z = m.tensor([0.0, 1.0], requires_grad=True)
        (z.sqrt() * 0).sum().backward()      # nan, but not checked
    assert not m.is_anomaly_enabled() and m.is_anomaly_check_nan_enabled()


def test_in_place_op_reading_itself_in_forward_mode(m):
    """``y.add_(y)`` doubles the tangent (y.mul_(y) is left out: torch's tangent reads the updated primal)."""
    fwd = m.autograd.forward_ad
    with fwd.dual_level():
        y = fwd.make_dual(m.tensor([1.0, 2.0]), m.tensor([1.0, 3.0])) * 1
        y.add_(y)
        primal, tangent = fwd.unpack_dual(y)
    assert primal.tolist() == [2.0, 4.0] and tangent.tolist() == [2.0, 6.0]


def test_in_place_on_a_non_leaf_is_recorded(m):
    x = vec(m)
    y = x * 1
    y.mul_(x)
    y.add_(x, alpha=2)
    assert repr(y.grad_fn).startswith("<AddBackward0")
    y.sum().backward()
    assert x.grad.tolist() == [2 * 1 + 2, 2 * 2 + 2]


def test_augmented_assignment_is_in_place(m):
    x = vec(m, requires_grad=False)
    same = x
    x += 1
    x *= 2
    assert same is x and x.tolist() == [4.0, 6.0]


def test_detach_shares_storage_and_its_changes_are_seen(m):
    x = vec(m)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    d.add_(1)
    assert x.tolist() == [2.0, 3.0]


def test_detach_in_place_cuts_a_non_leaf_from_its_graph(m):
    y = vec(m) * 2
    y.detach_()
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None


def test_clone_is_recorded_and_copies(m):
    x = vec(m)
    c = x.clone()
    assert repr(c.grad_fn).startswith("<CloneBackward0")
    with m.no_grad():
        c.add_(10)
    assert x.tolist() == [1.0, 2.0]
    (c * c).sum().backward()
    assert x.grad.tolist() == [22.0, 24.0]


# -- indexing ------------------------------------------------------------------------------------------------------

def test_repeated_integer_indices_accumulate(m):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    x.grad = None
    x[m.tensor([2, 2])].sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 2.0]


def test_indexing_forms_and_their_gradients(m):
    x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x[1].tolist() == [4.0, 5.0, 6.0]
    assert x[:, 1:].tolist() == [[2.0, 3.0], [5.0, 6.0]]
    assert x[None].shape == (1, 2, 3)
    assert x[..., -1].tolist() == [3.0, 6.0]
    assert x[x > 2.5].tolist() == [3.0, 4.0, 5.0, 6.0]
    (x[0, ::2] * 10).sum().backward()
    assert x.grad.tolist() == [[10.0, 0.0, 10.0], [0.0, 0.0, 0.0]]
    with pytest.raises(IndexError) as raised:
        x[0.5]
    assert str(raised.value) == ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                                 "are valid indices (got float)")


# -- Python protocol and conversions ----------------------------------------------------------------------------------

def test_bool_len_and_iteration(m):
    x = m.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(x) == 3
    assert [row.tolist() for row in x] == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert bool(m.tensor([0.5])) and not bool(m.tensor(0.0))
    assert bool(x.sum() > 0)
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(m.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(m.tensor(1.0))


def test_item_tolist_and_numpy(m):
    x = vec(m, (1.5, 2.5))
    assert x.sum().item() == 4.0 and type(x.sum().item()) is float
    assert type(m.tensor([3]).item()) is int and type(m.tensor(True).item()) is bool
    assert x.tolist() == [1.5, 2.5] and m.tensor(2.0).tolist() == 2.0
    with pytest.raises(RuntimeError) as raised:
        x.numpy()
    assert str(raised.value) == ("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                                 "instead.")
    array = x.detach().numpy()
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    array[0] = 7.0                       # shares memory, as torch's numpy() does
    assert x.tolist()[0] == 7.0
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        x.item()


def test_numpy_force_is_a_writable_view_of_the_storage(m):
    """The public way to a tensor's raw array (what optimizers write parameters through): shared, writable."""
    x = vec(m, (1.5, 2.5))
    array = x.numpy(force=True)
    assert isinstance(array, np.ndarray) and array.flags.writeable
    array[0] = 7.0
    assert x.tolist() == [7.0, 2.5] and x.requires_grad and x.grad_fn is None
    view = x[1:]
    view.numpy(force=True)[0] = -1.0     # a view's array is the view's region of the same storage
    assert x.tolist() == [7.0, -1.0]
    grad = (x * x).sum()
    grad.backward()
    x.grad.numpy()[:] = 0.0              # the .grad tensor's array is its storage too
    assert x.grad.tolist() == [0.0, 0.0]


def test_shape_dtype_and_ndim(m):
    x = m.zeros(2, 3)
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3
    assert x.ndim == 2 and x.dim() == 2 and x.numel() == 6
    assert repr(x.shape) == message(m, "{lib}.Size([2, 3])")
    assert x.dtype == m.float32 and m.tensor([1]).dtype == m.int64 and m.tensor([True]).dtype == m.bool
    assert m.tensor([1.0], dtype=m.float64).dtype == m.float64
    assert x.T.shape == (3, 2)


# -- random numbers ------------------------------------------------------------------------------------------------

def test_manual_seed_makes_random_tensors_reproducible(m):
    m.manual_seed(1234)
    first = (m.rand(3).tolist(), m.randn(2, 2).tolist(), m.randint(0, 10, (4,)).tolist())
    m.manual_seed(1234)
    again = (m.rand(3).tolist(), m.randn(2, 2).tolist(), m.randint(0, 10, (4,)).tolist())
    assert first == again
    assert m.initial_seed() == 1234
    m.manual_seed(4321)
    assert m.rand(3).tolist() != first[0]
    assert m.randn(5).dtype == m.float32 and m.rand(2, dtype=m.float64).dtype == m.float64
    assert all(0.0 <= v < 1.0 for v in m.rand(100).tolist())


# -- creation ------------------------------------------------------------------------------------------------------

CREATION = {
    "arange(5)": lambda m: m.arange(5),
    "arange(0, 1, 0.1)": lambda m: m.arange(0, 1, 0.1),
    "arange(1, 2.5, 0.5)": lambda m: m.arange(1, 2.5, 0.5),
    "arange(-1, -10, -3)": lambda m: m.arange(-1, -10, -3),
    "arange float64": lambda m: m.arange(0, 1, 0.1, dtype=m.float64),
    "linspace(0, 1, 7)": lambda m: m.linspace(0, 1, 7),
    "linspace(-3.3, 11.1, 13)": lambda m: m.linspace(-3.3, 11.1, 13),
    "linspace 1000": lambda m: m.linspace(-1.7, 2.9, 1000),
    "linspace float64": lambda m: m.linspace(5, -3, 17, dtype=m.float64),
    "linspace int64": lambda m: m.linspace(-7, 7, 9, dtype=m.int64),
    "linspace one step": lambda m: m.linspace(1, 2, 1),
    "eye(3)": lambda m: m.eye(3),
    "eye(2, 3)": lambda m: m.eye(2, 3, dtype=m.float64),
    "full int": lambda m: m.full((2, 2), 3),
    "full float": lambda m: m.full((2,), 1.5),
    "full bool": lambda m: m.full((2,), True),
    "zeros_like int": lambda m: m.zeros_like(m.tensor([1, 2])),
    "ones_like dtype": lambda m: m.ones_like(m.tensor([1.0, 2.0]), dtype=m.float64),
    "full_like int": lambda m: m.full_like(m.tensor([1, 2]), 2.7),
    "zeros tuple": lambda m: m.zeros((2, 3)),
    "ones list": lambda m: m.ones([2]),
    "zeros empty": lambda m: m.zeros(0, 3),
    "tensor of tensors": lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)]),
    "tensor of float64 array": lambda m: m.tensor(np.array([1.0, 2.0])),
    "tensor of int32 array": lambda m: m.tensor(np.array([1, 2], dtype=np.int32)),
    "tensor of mixed numbers": lambda m: m.tensor([1, 2.5]),
    "tensor of bool and int": lambda m: m.tensor([True, 2]),
    "tensor of nothing": lambda m: m.tensor([]),
    "tensor float to int64": lambda m: m.tensor([1.7, -2.7], dtype=m.int64),
    "tensor of a tuple": lambda m: m.tensor((1.0, 2.0)),
    "Tensor(list)": lambda m: m.Tensor([1, 2]),
}


@pytest.mark.parametrize("name", sorted(CREATION))
def test_creation_matches_torch_bit_for_bit(name):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = CREATION[name](ad), CREATION[name](torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_creation_values(m):
    assert m.arange(5).tolist() == [0, 1, 2, 3, 4] and m.arange(5).dtype == m.int64
    assert m.arange(1, 2.5, 0.5).tolist() == [1.0, 1.5, 2.0] and m.arange(0.0, 3).dtype == m.float32
    assert m.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert m.linspace(0, 1, 7).tolist()[4] == np.float32(0.6666666269302368)      # torch's fused rounding
    assert m.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert m.full((2,), 3).dtype == m.int64 and m.full((2,), 3.0).dtype == m.float32
    assert m.zeros_like(m.tensor([1, 2])).dtype == m.int64
    assert m.full_like(m.tensor([1.0, 2.0]), 7).tolist() == [7.0, 7.0]
    assert m.ones(2, 3, requires_grad=True).requires_grad
    assert m.randint(3, (4,)).shape == (4,) and m.rand(size=(2, 3)).shape == (2, 3)


# -- assignment and in-place changes through indexing ---------------------------------------------------------------

def test_item_assignment_is_recorded_as_copy_slices(m):
    z = m.zeros(3)
    z[0] = 1.0
    z[1:] = m.tensor([2.0, 3.0])
    assert z.tolist() == [1.0, 2.0, 3.0]
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = m.tensor(5.0, requires_grad=True)
    y = x * 1
    y[0:2] = v
    assert repr(y.grad_fn).startswith("<CopySlices")
    (y * m.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 3.0] and v.grad.item() == 3.0


def test_item_assignment_shapes_as_torch(m):
    y = m.zeros(2, 3)
    y[0] = m.ones(1, 1, 3)          # leading 1s of the value are dropped
    y[1, 1:] = m.tensor(2.0)
    assert y.tolist() == [[1.0, 1.0, 1.0], [0.0, 2.0, 2.0]]
    with pytest.raises(RuntimeError) as raised:
        y[:, 0] = m.ones(2, 1)
    assert str(raised.value) == message(m, "expand({lib}.FloatTensor{{[2, 1]}}, size=[2]): the number of sizes "
                                           "provided (1) must be greater or equal to the number of dimensions in "
                                           "the tensor (2)")
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[[2, 0]] = m.tensor([5.0, 6.0])
    assert repr(y.grad_fn).startswith("<IndexPutBackward0") and y.tolist() == [6.0, 2.0, 5.0]


def test_in_place_on_an_indexed_view_writes_through(m):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[0].mul_(2)
    assert y.tolist() == [2.0, 2.0, 3.0]
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 1.0, 1.0]


# -- views: basic indexing, reshape, transpose, expand ... share the base's storage and version counter -------------

def _names(node):
    return [None if fn is None else type(fn).__name__ if not hasattr(fn, "name") else repr(fn).split()[0][1:]
            for fn, _ in node.next_functions]


def test_views_share_the_base_and_its_version_counter(m):
    y = vec(m, (1.0, 2.0, 3.0, 4.0)) * 1
    views = [y[1], y[1:3], y[None], y[...], y.reshape(2, 2), y.reshape(2, 2).t(), y.unsqueeze(0), y.expand(2, 4),
             y.reshape(2, 2)[1][0]]
    assert all(v._base is y for v in views)
    assert y.reshape(2, 2).t().reshape(4)._base is None        # reshape had to copy: no view
    assert y[[0, 1]]._base is None and y[y > 2]._base is None    # advanced indexing copies
    y.add_(1)
    assert [v._version for v in views] == [1] * len(views) and y[1].item() == 3.0


def test_in_place_on_a_view_rebases_the_base_and_the_view(m):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = m.tensor(2.0, requires_grad=True)
    y = x * 1
    v = y[0]
    w_view = y[1:]
    assert repr(v.grad_fn).startswith("<SelectBackward0")
    v.mul_(w)
    assert repr(y.grad_fn).startswith("<CopySlices") and repr(v.grad_fn).startswith("<AsStridedBackward0")
    assert v.grad_fn.next_functions[0][0] is y.grad_fn
    assert [repr(fn).split()[0] for fn, _ in y.grad_fn.next_functions] == ["<MulBackward0", "<AccumulateGrad"]
    assert repr(w_view.grad_fn).startswith("<AsStridedBackward0")    # regenerated: y changed
    (y * m.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [2.0, 10.0, 100.0] and w.grad.item() == 1.0


def test_views_of_views_and_of_transposes_write_through(m):
    x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x * 1
    y[1:][0, 1:].sin_()
    y.t()[0].mul_(3)
    y.reshape(3, 2)[2].zero_()
    y.sum().backward()
    expected = [[3.0, 1.0, 1.0], [3.0, float(np.cos(np.float32(5.0))), float(np.cos(np.float32(6.0)))]]
    expected[1][1], expected[1][2] = 0.0, 0.0      # zeroed by the reshape view's [2]: y[1, 1:]
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    assert y.tolist()[0] == [3.0, 2.0, 3.0] and y.tolist()[1][1:] == [0.0, 0.0]


def test_base_changed_after_a_view_was_saved_fails_the_backward(m):
    x = vec(m)
    y = x * 1
    s = y[0].sin()
    y.mul_(2)
    with pytest.raises(RuntimeError) as raised:
        s.backward()
    assert str(raised.value).startswith(message(
        m, "one of the variables needed for gradient computation has been modified by an inplace operation: "
           "[{lib}.FloatTensor []], which is output 0 of AsStrided, is at version 1; expected version 0 instead."))


def test_view_changed_after_the_base_was_saved_fails_the_backward(m):
    x = vec(m)
    y = x * 1
    s = y.sin()
    y[0].mul_(2)
    with pytest.raises(RuntimeError) as raised:
        s.sum().backward()
    assert str(raised.value).startswith(message(
        m, "one of the variables needed for gradient computation has been modified by an inplace operation: "
           "[{lib}.FloatTensor [2]], which is output 0 of torch::autograd::CopySlices, is at version 1; expected "
           "version 0 instead."))


def test_a_view_read_by_its_own_in_place_op_fails_the_backward(m):
    y = vec(m, (1.0, 2.0, 3.0)) * 1
    y[0:2].mul_(y[0:2])        # the saved operand shares y's version counter
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    y = vec(m, (1.0, 2.0, 3.0)) * 1
    y[0:2].add_(y[0:2])        # add reads neither: fine
    y.sum().backward()


def test_in_place_with_a_partly_overlapping_operand_is_refused(m):
    z = m.zeros(4)
    z[0:2].copy_(z[2:4])       # disjoint: fine
    for change in (lambda: z[0:2].add_(z[1:3]), lambda: z.add_(z[0])):
        with pytest.raises(RuntimeError) as raised:
            change()
        assert str(raised.value) == ("unsupported operation: some elements of the input tensor and the written-to "
                                     "tensor refer to a single memory location. Please clone() the tensor before "
                                     "performing the operation.")


def test_in_place_on_a_view_of_a_base_that_does_not_require_grad(m):
    z = m.zeros(3)
    w = m.tensor(2.0, requires_grad=True)
    first, second = z[0:2], z[1]
    first.add_(w)
    assert z.requires_grad and repr(z.grad_fn).startswith("<CopySlices")
    assert second.requires_grad and repr(second.grad_fn).startswith("<AsStridedBackward0")
    (z.sum() + second).backward()
    assert w.grad.item() == 3.0


def test_in_place_errors_on_views(m):
    x = vec(m)
    with pytest.raises(RuntimeError) as raised:
        x[0].mul_(2)
    assert str(raised.value) == "a view of a leaf Variable that requires grad is being used in an in-place operation."
    with pytest.raises(RuntimeError) as raised:
        x[0] = 1.0
    assert str(raised.value) == "a view of a leaf Variable that requires grad is being used in an in-place operation."
    y = x * 1
    with m.no_grad():
        quiet = y[0]
    with pytest.raises(RuntimeError) as raised:
        quiet.mul_(2)
    assert str(raised.value).startswith("A view was created in no_grad mode and is being modified inplace with grad "
                                        "mode enabled. Given that this use case is ambiguous and error-prone, it is "
                                        "forbidden.")
    with pytest.raises(RuntimeError) as raised:
        y.expand(2, 2).add_(1)
    assert str(raised.value) == ("unsupported operation: more than one element of the written-to tensor refers to a "
                                 "single memory location. Please clone() the tensor before performing the operation.")
    with pytest.raises(RuntimeError, match="^Can't detach views in-place. Use detach\\(\\) instead."):
        y[0].detach_()


def test_a_leaf_changed_through_a_view_under_no_grad(m):
    x = vec(m)
    v = x[0]
    with m.no_grad():
        v.mul_(3)
    assert x.tolist() == [3.0, 2.0] and x.is_leaf
    assert repr(v.grad_fn).startswith("<AsStridedBackward0")
    (v * 2).backward()
    assert x.grad.tolist() == [2.0, 0.0]


def test_an_expanded_view_saved_before_its_base_changed(m):
    x = vec(m)
    w = m.tensor(2.0, requires_grad=True)
    y = x * 1
    s = (y.expand(2, 2) * w).sum()
    y.mul_(2)
    with pytest.raises(RuntimeError) as raised:
        s.backward()
    assert message(m, "[{lib}.FloatTensor [2, 2]], which is output 0 of AsStrided, is at version 1") in str(raised.value)


def test_a_retained_gradient_follows_the_in_place_change(m):
    x = vec(m)
    y = x * 1
    y.retain_grad()
    y.mul_(2)
    (y * 3).sum().backward()
    assert y.grad.tolist() == [3.0, 3.0]
    y = x * 1
    v = y[0]
    v.retain_grad()
    y.mul_(2)
    y[1].retain_grad()
    (v * 3).sum().backward()
    assert v.grad.item() == 3.0


def test_double_backward_through_an_in_place_op_on_a_view(m):
    x = vec(m)
    w = m.tensor(2.0, requires_grad=True)
    y = x * 1
    y[0].mul_(w)
    (g,) = m.autograd.grad((y ** 2).sum(), w, create_graph=True)
    assert g.item() == 4.0
    assert m.autograd.grad(g, x)[0].tolist() == [8.0, 0.0]


def test_forward_mode_through_an_in_place_op_on_a_view(m):
    fwd = m.autograd.forward_ad
    with fwd.dual_level():
        x = fwd.make_dual(m.tensor([1.0, 2.0, 3.0]), m.tensor([1.0, 1.0, 1.0]))
        y = x * 1
        sibling = y[1:]
        y[0:2].mul_(y[1:3] * 1)
        assert fwd.unpack_dual(y).tangent.tolist() == [3.0, 5.0, 1.0]
        assert fwd.unpack_dual(sibling).tangent.tolist() == [5.0, 1.0]


def test_gradients_of_a_large_sum_own_their_memory(m):
    """A large sum's backward hands on a broadcast 1 that autodiff does not multiply through: the gradients must
    still be arrays of their own, and the forward values untouched."""
    n = 5000
    x = m.linspace(-3.0, 3.0, n, dtype=m.float64, requires_grad=True)
    w = m.ones(n, dtype=m.float64, requires_grad=True)
    y = x * 1
    s = x.sin()
    (y * w + s * x + x ** 2).sum().backward()
    values = y.detach().numpy().copy()
    assert np.array_equal(w.grad.numpy(), values)
    expected = 1 + np.cos(values) * values + s.detach().numpy() + 2 * values
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
    with m.no_grad():
        y.add_(1)
        s.zero_()
    assert np.array_equal(w.grad.numpy(), values)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_no_grad_as_a_bare_decorator(m):
    @m.no_grad
    def doubled(t):
        return t * 2

    assert not doubled(vec(m)).requires_grad and m.is_grad_enabled()


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")   # torch's leak advisory
def test_backward_with_create_graph_gives_differentiable_grads(m):
    x = vec(m)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.tolist() == [3.0, 12.0]
    (g,) = m.autograd.grad(x.grad.sum(), x)
    assert g.tolist() == [6.0, 12.0]


def test_a_tensor_used_twice_gets_both_contributions(m):
    x = vec(m)
    y = x * 3
    (y * y + y).sum().backward()
    assert x.grad.tolist() == [2 * 9 * 1 + 3, 2 * 9 * 2 + 3]


def test_gradient_of_a_broadcast_input_is_summed_to_its_shape(m):
    x = m.tensor([[1.0], [2.0]], requires_grad=True)
    b = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * b).sum().backward()
    assert x.grad.tolist() == [[6.0], [6.0]] and b.grad.tolist() == [3.0, 3.0, 3.0]


def test_comparing_with_a_non_number_falls_back_to_identity(m):
    x = vec(m)
    assert (x == "a") is False and (x != None) is True   # noqa: E711


def test_logical_operators_on_bool_tensors(m):
    x = m.tensor([-1.0, 0.5, 2.0])
    assert ((x > 0) & (x < 1)).tolist() == [False, True, False]
    assert ((x < 0) | (x > 1)).tolist() == [True, False, True]
    assert (~(x > 0)).tolist() == [True, False, False]
    assert m.logical_and(x > 0, x < 1).tolist() == [False, True, False]


def test_graph_walk_through_next_functions_ends_at_accumulate_grad(m):
    x = vec(m)
    node = (x * 2).sum().grad_fn
    names = []
    while node is not None:
        names.append(type(node).__name__ if m is not ad else node.name())
        node = node.next_functions[0][0] if node.next_functions else None
    assert names[:2] == ["SumBackward0", "MulBackward0"] and names[-1].endswith("AccumulateGrad")


# -- tensor hooks ----------------------------------------------------------------------------------------------------

def test_hook_on_the_tensor_the_backward_starts_at(m):
    v = vec(m, (1.0, 2.0, 3.0))
    v.register_hook(lambda g: g * 2)
    v.backward(m.tensor([1.0, 2.0, 3.0]))
    assert v.grad.tolist() == [2.0, 4.0, 6.0]
    w = vec(m, (1.0, 2.0, 3.0))
    w.register_hook(lambda g: g * 2)
    (g,) = m.autograd.grad(w, w, m.tensor([1.0, 2.0, 3.0]))
    assert g.tolist() == [2.0, 4.0, 6.0]
    y = vec(m, (1.0, 2.0, 3.0)) * 1          # a non-leaf root
    y.register_hook(lambda g: g * 2)
    (g,) = m.autograd.grad(y, y, m.tensor([1.0, 2.0, 3.0]))
    assert g.tolist() == [2.0, 4.0, 6.0]


@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "non-leaf"])
def test_hook_runs_once_on_the_summed_gradient(m, leaf):
    x = vec(m)
    hooked = x if leaf else x * 1
    calls = []
    hooked.register_hook(lambda g: calls.append(g.tolist()) or g + 1)
    (hooked * 2 + hooked * 3).sum().backward()
    assert calls == [[5.0, 5.0]]
    assert x.grad.tolist() == [6.0, 6.0]


def test_hooks_chain_replace_the_gradient_and_remove(m):
    x = vec(m, (1.0, 2.0, 3.0))
    y = x * 2
    y.register_hook(lambda g: g * 10)
    handle = x.register_hook(lambda g: g + 1)
    (y * y).sum().backward()
    assert x.grad.tolist() == [81.0, 161.0, 241.0]      # (2y * 10) * 2 + 1
    x.grad = None
    handle.remove()
    (x * 2 * (x * 2)).sum().backward()
    assert x.grad.tolist() == [8.0, 16.0, 24.0]
    observed = []
    x.register_hook(lambda g: observed.append(g.tolist()))   # returning None keeps the gradient
    x.grad = None
    x.sum().backward()
    assert observed == [[1.0, 1.0, 1.0]] and x.grad.tolist() == [1.0, 1.0, 1.0]


def test_hook_sees_what_retain_grad_stores_and_stays_with_the_old_version(m):
    x = vec(m)
    y = x * 1
    y.retain_grad()
    y.register_hook(lambda g: g * 3)
    (y * 1).sum().backward()
    assert y.grad.tolist() == [3.0, 3.0] and x.grad.tolist() == [3.0, 3.0]
    x = vec(m)
    y = x * 1
    y.register_hook(lambda g: g * 10)
    y.mul_(3)                     # the hook belongs to y before the change: it sees d/d(old y)
    y.sum().backward()
    assert x.grad.tolist() == [30.0, 30.0]


def test_hook_under_create_graph_receives_a_differentiable_gradient(m):
    x = vec(m, (1.0, 2.0))
    y = x * x
    y.register_hook(lambda g: g * x)
    (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
    assert g.tolist() == [2.0, 8.0]                # 2x * x
    g.sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]           # d(2x^2)/dx


def test_register_hook_on_a_tensor_without_grad_raises(m):
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        m.tensor([1.0]).register_hook(lambda g: g)


def test_lerp_in_place_records_torchs_node_for_each_weight(m):
    start = vec(m) * 1
    start.lerp_(m.tensor([3.0, 4.0]), m.tensor([0.5, 0.5]))
    assert start.grad_fn.name() == "LerpBackward1"
    start = vec(m) * 1
    start.lerp_(m.tensor([3.0, 4.0]), 0.5)
    assert start.grad_fn.name() == "LerpBackward0"


def test_a_shared_intermediate_gets_every_path_before_its_rules_run(m):
    x = vec(m, (0.5, 1.5))
    y = x.sin()                      # consumed by a long path and a short one, and by a second root
    z = y
    for _ in range(30):
        z = z * 1.1 + y
    m.autograd.backward([z.sum(), (y * 3).sum()])
    expected = vec(m, (0.5, 1.5)).detach()
    s = 0.0
    for _ in range(30):
        s = s * 1.1 + 1.0
    assert np.allclose(x.grad.numpy(), (1.1 ** 30 + s + 3) * np.cos(expected.numpy()), rtol=1e-5)
