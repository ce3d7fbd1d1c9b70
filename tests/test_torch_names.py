"""The names torch code reaches for beyond the op table's rows, each test run on autodiff and on torch (when
importable) with the same assertions: devices and CUDA queries, legacy tensor types and ``Variable``,
``Tensor.type()``, sort/topk's named tuples, argmax/argmin, isclose/allclose, meshgrid's warning, ``normal``,
``linalg`` and the errors of each (their values and derivatives are rows of tests/op_cases.py)."""
from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import autodiff as ad


@pytest.fixture(params=["autodiff", "torch"])
def m(request):
    if request.param == "torch":
        return pytest.importorskip("torch")
    return ad


def lib(m):
    return m.__name__


def test_devices_are_the_cpu(m):
    cpu = m.device("cpu")
    assert repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu" and cpu.index is None
    x = m.zeros(2, device="cpu")
    assert x.device == cpu and x.device.type == "cpu" and not x.is_cuda
    assert m.device("cuda:1").type == "cuda" and m.device("cuda:1").index == 1 and str(m.device("cuda", 0)) == "cuda:0"
    assert m.cuda.is_available() is False and m.cuda.device_count() == 0
    assert x.to("cpu") is x and x.to(m.device("cpu"), m.float64).dtype == m.float64
    with pytest.raises(RuntimeError, match="device type at start of device string: tpu"):
        m.device("tpu")


@pytest.mark.parametrize("make", [lambda m: m.zeros(2, device="cuda"), lambda m: m.tensor([1.0], device="cuda"),
                                  lambda m: m.ones(2).to("cuda"), lambda m: m.ones(2).cuda()],
                         ids=["zeros", "tensor", "to", "cuda"])
def test_cuda_tensors_fail_as_torch_without_cuda(m, make):
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        make(m)


def test_set_default_device(m):
    m.set_default_device("cpu")
    assert m.zeros(1).device == m.device("cpu") and m.get_default_device() == m.device("cpu")
    m.set_default_device("cuda")     # accepted, as torch's: the next tensor is what fails
    try:
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            m.zeros(1)
    finally:
        m.set_default_device("cpu")
    assert m.zeros(1).device.type == "cpu"


def test_legacy_tensor_types_and_type(m):
    f = m.FloatTensor([1, 2])
    assert f.dtype == m.float32 and f.tolist() == [1.0, 2.0] and m.FloatTensor(2, 3).shape == (2, 3)
    d = m.DoubleTensor([[1.5]])
    assert d.dtype == m.float64 and isinstance(d, m.DoubleTensor) and not isinstance(d, m.FloatTensor)
    assert isinstance(d, m.Tensor) and m.LongTensor([1]).dtype == m.int64
    assert f.type() == f"{lib(m)}.FloatTensor" and d.type() == f"{lib(m)}.DoubleTensor"
    assert f.type(m.DoubleTensor).dtype == m.float64 and d.type("torch.FloatTensor").dtype == m.float32
    assert d.type(m.float32).dtype == m.float32


def test_variable_is_a_tensor_sharing_data(m):
    v = m.tensor([1.0, 2.0])
    x = m.autograd.Variable(v, requires_grad=True)
    assert x is not v and x.requires_grad and not v.requires_grad and isinstance(x, m.autograd.Variable)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    v[0] = 5.0                    # the same storage
    assert x[0].item() == 5.0


def test_sort_and_topk_return_named_tuples(m):
    x = m.tensor([[3.0, 1.0, 2.0], [0.5, 2.5, 1.5]], requires_grad=True)
    values, indices = m.sort(x, descending=True)
    assert values.tolist() == [[3.0, 2.0, 1.0], [2.5, 1.5, 0.5]] and indices.tolist() == [[0, 2, 1], [1, 2, 0]]
    result = x.sort(dim=0)
    assert result.values is result[0] and result.indices.dtype == m.int64
    assert repr(m.topk(x, 1)) == (
        f"{lib(m)}.return_types.topk(\nvalues=tensor([[3.0000],\n        [2.5000]], grad_fn=<TopkBackward0>),\n"
        "indices=tensor([[0],\n        [1]]))")
    assert m.topk(x, 2, largest=False).indices.tolist() == [[1, 2], [0, 2]]
    assert m.argsort(x[0]).tolist() == [1, 2, 0]
    assert type(m.sort(x)).__name__ == "sort" and type(m.topk(x, 1)).__name__ == "topk"


def test_argmax_argmin(m):
    x = m.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    assert m.argmax(x).item() == 3 and x.argmin().item() == 4
    assert m.argmax(x, 1).tolist() == [1, 0] and x.argmin(dim=0, keepdim=True).tolist() == [[0, 1, 0]]
    assert m.argmax(x, dim=1).dtype == m.int64 and m.argmax(x, keepdim=True).shape == (1, 1)


def test_isclose_allclose(m):
    a = m.tensor([1.0, float("inf"), float("nan"), 1.0])
    b = m.tensor([1.0 + 1e-7, float("inf"), float("nan"), 1.1])
    assert m.isclose(a, b).tolist() == [True, True, False, False]
    assert m.isclose(a, b, equal_nan=True, rtol=0.2).tolist() == [True, True, True, True]
    assert m.allclose(a[:1], b[:1]) is True and a.allclose(b) is False
    assert m.allclose(m.ones(3), m.ones(1))


def test_meshgrid(m):
    x, y = m.tensor([1.0, 2.0, 3.0]), m.tensor([4.0, 5.0])
    with pytest.warns(UserWarning, match="in an upcoming release, it will be required to pass the indexing"):
        gx, gy = m.meshgrid(x, y)
    assert gx.shape == (3, 2) and gy.tolist() == [[4.0, 5.0]] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xy = m.meshgrid(x, y, indexing="xy")
        assert [g.shape for g in xy] == [(2, 3), (2, 3)] and xy[0].tolist() == [[1.0, 2.0, 3.0]] * 2
        assert [g.shape for g in m.meshgrid([x, y, x], indexing="ij")] == [(3, 2, 3)] * 3


def test_normal_draws_and_seeds(m):
    m.manual_seed(3)
    a = m.normal(m.zeros(2000), 2.0)
    m.manual_seed(3)
    assert m.equal(a, m.normal(m.zeros(2000), 2.0)) if hasattr(m, "equal") else a.tolist() == \
        m.normal(m.zeros(2000), 2.0).tolist()
    assert abs(a.std().item() - 2.0) < 0.15 and abs(a.mean().item()) < 0.15
    b = m.normal(3.0, 0.5, size=(4, 5))
    assert b.shape == (4, 5) and b.dtype == m.float32
    c = m.normal(m.zeros(3, dtype=m.float64), m.ones(2, 1, dtype=m.float64))
    assert c.shape == (2, 3) and c.dtype == m.float64
    w = m.empty(500)
    w.normal_(1.0, 0.1)
    w.uniform_(-2.0, -1.0)
    assert w.min().item() >= -2.0 and w.max().item() < -1.0


def test_linalg(m):
    A = m.tensor([[2.0, 1.0], [1.0, 3.0]])
    assert np.allclose(m.linalg.eigvalsh(A).tolist(), sorted(np.linalg.eigvalsh(np.array(A.tolist()))))
    assert abs(m.linalg.norm(A).item() - 15 ** 0.5) < 1e-6
    assert m.linalg.norm(A, ord=1).item() == 4.0 and m.linalg.norm(A, ord=float("inf"), keepdim=True).shape == (1, 1)
    assert m.linalg.vector_norm(A, ord=1, dim=0).tolist() == [3.0, 4.0]
    assert m.linalg.norm(A, dim=1).shape == (2,) and abs(m.linalg.norm(A, "fro").item() - 15 ** 0.5) < 1e-6
    pair = m.linalg.eigh(m.tensor([[2.0, 0.0], [0.0, 1.0]]))
    assert repr(pair) == (f"{m.__name__}.return_types.linalg_eigh(\neigenvalues=tensor([1., 2.]),\n"
                          "eigenvectors=tensor([[0., 1.],\n        [1., 0.]]))")
    values, vectors = m.linalg.eigh(A)
    assert np.allclose(((vectors * values) @ vectors.T).tolist(), A.tolist(), atol=1e-6)   # V diag(values) V^T


ERRORS = [
    ("bmm 2-D", lambda m: m.bmm(m.ones(2, 2), m.ones(2, 2)), RuntimeError, "batch1 must be a 3D tensor"),
    ("bmm sizes", lambda m: m.bmm(m.ones(1, 2, 2), m.ones(1, 3, 2)), RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [1, 2] but got: [1, 3]."),
    ("repeat", lambda m: m.ones(2, 2).repeat(2), RuntimeError,
     "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"),
    ("topk", lambda m: m.topk(m.ones(2), 3), RuntimeError, "selected index k out of range"),
    ("isclose dtypes", lambda m: m.isclose(m.ones(2), m.ones(2, dtype=m.float64)), RuntimeError,
     "Float did not match Double"),
    ("eigvalsh 1-D", lambda m: m.linalg.eigvalsh(m.ones(3)), RuntimeError,
     "linalg.eigh: The input tensor A must have at least 2 dimensions."),
    ("eigvalsh non-square", lambda m: m.linalg.eigvalsh(m.ones(2, 3)), RuntimeError,
     "linalg.eigh: A must be batches of square matrices, but they are 2 by 3 matrices"),
    ("matrix_norm 1-D", lambda m: m.linalg.matrix_norm(m.ones(3)), RuntimeError,
     "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."),
    ("norm 3-D with ord", lambda m: m.linalg.norm(m.ones(2, 2, 2), ord=1), RuntimeError,
     "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got 3D."),
    ("matrix_norm ord 3", lambda m: m.linalg.matrix_norm(m.ones(2, 2), ord=3), RuntimeError,
     "linalg.matrix_norm: Order 3 not supported."),
    ("normal std < 0", lambda m: m.normal(m.zeros(2), -1.0), RuntimeError,
     "normal expects std >= 0.0, but found std -1"),
    ("normal stds < 0", lambda m: m.normal(m.zeros(2), m.tensor([1.0, -1.0])), RuntimeError,
     "normal expects all elements of std >= 0.0"),
    ("normal shapes", lambda m: m.normal(m.zeros(2), m.ones(3)), RuntimeError,
     "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"),
    ("Variable of a list", lambda m: m.autograd.Variable([1.0]), TypeError,
     "Variable data has to be a tensor, but got list"),
]


@pytest.mark.parametrize("label, expression, error, text", ERRORS, ids=[row[0] for row in ERRORS])
def test_errors_are_torchs(m, label, expression, error, text):
    with pytest.raises(error) as raised:
        expression(m)
    assert str(raised.value).split("\n")[0] == text


def test_max_and_min_over_a_dim_return_torchs_named_pairs(m):
    x = m.tensor([[1.0, 4.0], [3.0, 2.0]])
    pair = m.max(x, 1)
    assert repr(pair) == f"{m.__name__}.return_types.max(\nvalues=tensor([4., 3.]),\nindices=tensor([1, 0]))"
    assert type(m.min(x, dim=0)).__name__ == "min" and m.min(x, 0).values.tolist() == [1.0, 2.0]
    values, indices = x.max(dim=0, keepdim=True)
    assert values.tolist() == [[3.0, 4.0]] and indices.tolist() == [[1, 0]]
    assert pickle.loads(pickle.dumps(pair)).indices.tolist() == [1, 0]
    assert isinstance(pair, tuple) and len(pair) == 2 and pair[0] is pair.values
