"""autodiff.nn against torch.nn: each test runs on both libraries (``m`` is autodiff or torch, ``{lib}`` in a
message reads its name) with the same assertions: registration, traversal, modes, state dicts, hooks, reprs,
initialisation, the layers and losses, and the optimizers taking ``model.parameters()`` and
``model.named_parameters()``. Values and derivatives of nn.functional are rows of tests/op_cases.py; training
parity with torch is tests/test_nn_training.py."""
from __future__ import annotations

import collections
import copy
import math

import numpy as np
import pytest

import autodiff as ad
import optimizers


@pytest.fixture(params=["autodiff", "torch"])
def m(request):
    if request.param == "torch":
        return pytest.importorskip("torch")
    return ad


def optim(m):
    return m.optim if m.__name__ == "torch" else optimizers


def net(m):
    nn = m.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2, bias=False))
            self.scale = nn.Parameter(m.ones(2))
            self.register_buffer("count", m.zeros(1))
            self.register_buffer("scratch", m.zeros(1), persistent=False)
            self.act = nn.ReLU(inplace=True)

        def forward(self, x):
            return self.act(self.body(x) * self.scale)

    return Block()


def test_repr_is_torchs(m):
    nn = m.nn
    assert repr(net(m)) == (
        "Block(\n  (body): Sequential(\n    (0): Linear(in_features=3, out_features=4, bias=True)\n    (1): Tanh()\n"
        "    (2): Linear(in_features=4, out_features=2, bias=False)\n  )\n  (act): ReLU(inplace=True)\n)")
    layers = [nn.Sigmoid(), nn.Flatten(), nn.Dropout(0.25), nn.MSELoss(), nn.CrossEntropyLoss(),
              nn.BCEWithLogitsLoss(), nn.Softmax(dim=1), nn.Identity(), nn.ReLU()]
    assert [repr(layer) for layer in layers] == [
        "Sigmoid()", "Flatten(start_dim=1, end_dim=-1)", "Dropout(p=0.25, inplace=False)", "MSELoss()",
        "CrossEntropyLoss()", "BCEWithLogitsLoss()", "Softmax(dim=1)", "Identity()", "ReLU()"]
    assert repr(nn.Parameter(m.tensor([1.0, 2.0]))) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(nn.Parameter(m.tensor([1.0]), requires_grad=False)) == "Parameter containing:\ntensor([1.])"


def test_registration_and_traversal(m):
    model = net(m)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.2.weight"]
    assert [p.shape for p in model.parameters()] == [(2,), (4, 3), (4,), (2, 4)]
    assert [name for name, _ in model.named_children()] == ["body", "act"]
    assert [name for name, _ in model.named_modules()] == ["", "body", "body.0", "body.1", "body.2", "act"]
    assert len(list(model.modules())) == 6 and len(list(model.children())) == 2
    assert [name for name, _ in model.named_buffers()] == ["count", "scratch"]
    assert list(model.state_dict()) == ["scale", "count", "body.0.weight", "body.0.bias", "body.2.weight"]
    assert isinstance(model.scale, m.nn.Parameter) and isinstance(model.body[0].weight, m.nn.Parameter)
    assert not isinstance(model.count, m.nn.Parameter) and not isinstance(model.scale * 2, m.nn.Parameter)
    assert model.body[0].weight.requires_grad and not model.state_dict()["scale"].requires_grad
    assert model.state_dict(keep_vars=True)["scale"] is model.scale
    model.extra = m.nn.Linear(1, 1)
    model.register_parameter("gain", m.nn.Parameter(m.zeros(1)))
    del model.scale
    assert [name for name, _ in model.named_parameters()][:2] == ["gain", "body.0.weight"]
    assert "extra.weight" in model.state_dict()


def test_assignment_errors(m):
    model = net(m)
    with pytest.raises(TypeError) as raised:
        model.scale = m.ones(2)
    assert str(raised.value) == "cannot assign 'torch.FloatTensor' as parameter 'scale' (torch.nn.Parameter or None " \
                                "expected)"
    with pytest.raises(TypeError) as raised:
        model.body = 3
    assert str(raised.value) == "cannot assign 'int' as child module 'body' (torch.nn.Module or None expected)"
    with pytest.raises(KeyError) as raised:
        model.register_buffer("forward", m.ones(1))
    assert raised.value.args[0] == "attribute 'forward' already exists"
    with pytest.raises(KeyError) as raised:
        model.register_buffer("a.b", m.ones(1))
    assert raised.value.args[0] == 'buffer name can\'t contain "."'
    with pytest.raises(AttributeError) as raised:
        model.missing
    assert str(raised.value) == "'Block' object has no attribute 'missing'"


def test_train_eval_and_zero_grad(m):
    model = net(m)
    assert model.training and model.body[1].training
    assert model.eval() is model and not model.body[1].training and not model.act.training
    model.train()
    assert model.body[2].training
    model(m.ones(5, 3)).sum().backward()
    assert model.body[0].weight.grad is not None
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model(m.ones(5, 3)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(p.grad.abs().sum().item() == 0 for p in model.parameters())


def test_state_dict_round_trip_and_strict_loading(m):
    lib = m.__name__
    source, target = net(m), net(m)
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert all(np.array_equal(a.detach().numpy(), b.detach().numpy())
               for a, b in zip(source.parameters(), target.parameters()))
    state = source.state_dict()
    del state["count"]
    state["stray"] = m.zeros(1)
    with pytest.raises(RuntimeError) as raised:
        target.load_state_dict(state)
    assert str(raised.value) == ('Error(s) in loading state_dict for Block:\n\tMissing key(s) in state_dict: '
                                 '"count". \n\tUnexpected key(s) in state_dict: "stray". ')
    keys = target.load_state_dict(state, strict=False)
    assert keys.missing_keys == ["count"] and keys.unexpected_keys == ["stray"]
    state = source.state_dict()
    state["body.0.weight"] = m.zeros(3, 3)
    with pytest.raises(RuntimeError) as raised:
        target.load_state_dict(state)
    assert str(raised.value) == (f"Error(s) in loading state_dict for Block:\n\tsize mismatch for body.0.weight: "
                                 f"copying a param with shape {lib}.Size([3, 3]) from checkpoint, the shape in current "
                                 f"model is {lib}.Size([4, 3]).")


def test_forward_hooks(m):
    model = m.nn.Linear(2, 2)
    calls = []
    pre = model.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    post = model.register_forward_hook(lambda mod, args, out: calls.append(args[0].sum().item()) or out + 1)
    out = model(m.ones(1, 2))
    assert calls == [0.0] and np.allclose(out.detach().numpy(), model.bias.detach().numpy() + 1)
    pre.remove()
    post.remove()
    assert np.allclose(model(m.zeros(1, 2)).detach().numpy(), model.bias.detach().numpy()) and calls == [0.0]
    order = []
    model.register_forward_hook(lambda *a: order.append("second"))
    model.register_forward_hook(lambda *a: order.append("first"), prepend=True)
    model(m.zeros(1, 2))
    assert order == ["first", "second"]


def test_sequential(m):
    nn = m.nn
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seq.append(nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and isinstance(seq[1:], nn.Sequential)
    assert [type(layer).__name__ for layer in seq] == ["Linear", "ReLU", "Linear"]
    assert len(seq[1:]) == 2 and seq(m.ones(4, 2)).shape == (4, 1)
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]


def test_linear_initialisation_and_forward(m):
    m.manual_seed(0)
    layer = m.nn.Linear(50, 40)
    bound = 1 / math.sqrt(50)          # kaiming_uniform_(a=sqrt(5)) and the bias both give 1/sqrt(fan_in)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01
    x = m.ones(3, 50)
    assert np.allclose(layer(x).detach().numpy(), x.numpy() @ w.T + b, atol=1e-5)
    assert layer(m.ones(50)).shape == (40,)
    assert m.nn.Linear(2, 3, dtype=m.float64).weight.dtype == m.float64


def test_init_functions(m):
    init = m.nn.init
    m.manual_seed(1)
    w = m.empty(300, 200)
    assert init.xavier_uniform_(w) is w and np.abs(w.numpy()).max() <= math.sqrt(6 / 500)
    assert abs(init.xavier_normal_(w, gain=2.0).numpy().std() - 2 * math.sqrt(2 / 500)) < 0.003
    assert abs(init.kaiming_normal_(w, nonlinearity="relu").numpy().std() - math.sqrt(2 / 200)) < 0.003
    assert np.abs(init.kaiming_uniform_(w, mode="fan_out").numpy()).max() <= 1.0001 * math.sqrt(6 / 300)
    assert abs(init.normal_(w, 3.0, 0.5).numpy().mean() - 3.0) < 0.01
    assert init.uniform_(w, -1.0, -0.5).numpy().max() < -0.5
    assert init.constant_(w, 0.25).numpy().max() == 0.25 and init.zeros_(w).numpy().max() == 0.0
    assert init.ones_(w).numpy().min() == 1.0
    assert [init.calculate_gain(n) for n in ("linear", "tanh", "relu", "sigmoid")] == [1, 5 / 3, math.sqrt(2), 1]
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2 dim"):
        init.xavier_uniform_(m.empty(3))
    p = m.nn.Parameter(m.zeros(2, 2))
    init.normal_(p)                    # under no_grad: a parameter is filled in place without an error
    assert p.is_leaf and p.grad_fn is None


def test_dropout(m):
    nn = m.nn
    m.manual_seed(0)
    layer = nn.Dropout(0.3)
    out = layer(m.ones(10000)).numpy()
    assert abs((out == 0).mean() - 0.3) < 0.02 and np.allclose(out[out != 0], 1 / 0.7)
    assert layer.eval()(m.ones(3)).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    assert m.nn.functional.dropout(m.ones(4), 1.0).tolist() == [0.0] * 4


def test_loss_modules_match_the_functions(m):
    nn, F = m.nn, m.nn.functional
    m.manual_seed(0)
    x, y = m.randn(4, 3), m.randn(4, 3)
    labels = m.tensor([0, 2, 1, 2])
    assert nn.MSELoss(reduction="sum")(x, y).item() == F.mse_loss(x, y, reduction="sum").item()
    assert nn.CrossEntropyLoss(label_smoothing=0.1)(x, labels).item() == F.cross_entropy(x, labels,
                                                                                         label_smoothing=0.1).item()
    assert nn.BCEWithLogitsLoss(pos_weight=m.ones(3) * 2)(x, y.sigmoid()).item() == \
        F.binary_cross_entropy_with_logits(x, y.sigmoid(), pos_weight=m.ones(3) * 2).item()
    assert list(nn.BCEWithLogitsLoss(pos_weight=m.ones(3)).state_dict()) == ["pos_weight"]
    with pytest.raises(ValueError, match="Target size .* must be the same as input size"):
        F.binary_cross_entropy_with_logits(x, y[0])
    with pytest.raises(ValueError, match="mean2 is not a valid value for reduction"):
        F.mse_loss(x, y, reduction="mean2")


def test_module_dtype_and_device(m):
    layer = m.nn.Linear(2, 2)
    assert layer.to(m.float64) is layer and layer.weight.dtype == m.float64 and isinstance(layer.weight,
                                                                                         m.nn.Parameter)
    assert layer.float().bias.dtype == m.float32 and layer.to("cpu") is layer


OPTIMIZERS = sorted(name for name in dir(optimizers) if name[0].isupper() and name != "Optimizer"
                    and isinstance(getattr(optimizers, name), type))


@pytest.mark.parametrize("which", ["parameters", "named_parameters"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_takes_a_models_parameters(m, name, which):
    if not hasattr(optim(m), name):
        pytest.skip(f"torch.optim has no {name}")
    m.manual_seed(0)
    model = m.nn.Linear(3, 2, bias=name != "Muon")            # Muon takes matrices only
    before = model.weight.detach().clone()
    options = {} if name in ("Adafactor", "LBFGS", "Muon") else {"lr": 0.1}
    opt = getattr(optim(m), name)(getattr(model, which)(), **options)
    params = opt.param_groups[0]["params"]
    assert len(params) == len(list(model.parameters())) and params[0] is model.weight
    if which == "named_parameters":
        expected = [n for n, _ in model.named_parameters()]
        assert opt.param_groups[0]["param_names"] == expected
        assert opt.state_dict()["param_groups"][0]["param_names"] == expected

    def closure():
        opt.zero_grad()
        loss = model(m.ones(2, 3)).pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert not np.array_equal(before.numpy(), model.weight.detach().numpy())


def test_common_idioms(m):
    """deepcopy of a model, counting parameters, a hand-written update under no_grad, an OrderedDict Sequential."""
    nn = m.nn
    model = nn.Sequential(collections.OrderedDict(fc1=nn.Linear(3, 4), act=nn.ReLU(), fc2=nn.Linear(4, 2)))
    clone = copy.deepcopy(model)
    assert isinstance(clone.fc1.weight, nn.Parameter) and clone.fc1.weight is not model.fc1.weight
    assert clone.fc1.weight.tolist() == model.fc1.weight.tolist() and clone[2] is clone.fc2
    assert sum(p.numel() for p in model.parameters()) == 26
    model(m.ones(5, 3)).sum().backward()
    with m.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    assert model.fc1.weight.is_leaf and model.fc1.weight.grad_fn is None and model.fc1.weight.requires_grad
    assert clone.fc1.weight.tolist() != model.fc1.weight.tolist()
    assert list(model.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert repr(model).startswith("Sequential(\n  (fc1): Linear(in_features=3, out_features=4, bias=True)")


def test_functional_activations(m):
    F = m.nn.functional
    x = m.tensor([-1.0, 2.0])
    assert F.relu(x).tolist() == [0.0, 2.0] and x.tolist() == [-1.0, 2.0]
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]
    assert F.sigmoid(m.zeros(1)).item() == 0.5 and F.tanh(m.zeros(1)).item() == 0.0
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        assert F.softmax(m.zeros(2, 2)).tolist() == [[0.5, 0.5], [0.5, 0.5]]
