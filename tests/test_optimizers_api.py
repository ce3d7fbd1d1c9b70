"""torch.optim's user contract on autodiff tensors: construction, printing, errors, the seed
notebooks' optimizer cells, zero_grad, closures, hooks and state_dict round trips."""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
import optimizers
from optimizers import SGD, Adam, AdamW, Optimizer

GOLDEN = Path(__file__).parent / "golden" / "optimizers"
sys.path.insert(0, str(GOLDEN))

import optimizer_cases as oc  # noqa: E402

TORCH_TEXT = json.loads((GOLDEN / "torch_text.json").read_text())


def seed_tensors():
    return ad.tensor([2.0, 3.0], requires_grad=True), ad.tensor([6.0, 4.0], requires_grad=True)


def seed_loss(a, b):
    return (3 * a**3 - b**2).sum()


def some_params(cls="SGD"):
    shape = (2, 2) if cls == "Muon" else (2,)
    return [ad.zeros(shape, requires_grad=True)]


# ------------------------------------------------------------------------------ seed notebooks
def test_seed_sgd_cells_print_and_step_as_torch():
    for lr, expected_a, expected_b in [(0.1, [-1.6, -5.1], [7.2, 4.8]), (0.005, [1.82, 2.595], [6.06, 4.04])]:
        a, b = seed_tensors()
        optimizer = SGD([a, b], lr=lr)
        assert repr(optimizer) == (
            "SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n"
            "    foreach: None\n    fused: None\n" f"    lr: {lr}\n" "    maximize: False\n"
            "    momentum: 0\n    nesterov: False\n    weight_decay: 0\n)")
        seed_loss(a, b).backward()
        np.testing.assert_array_equal(a.grad.numpy(), [36.0, 81.0])
        optimizer.step()
        np.testing.assert_allclose(a.detach().numpy(), expected_a, rtol=1e-6)
        np.testing.assert_allclose(b.detach().numpy(), expected_b, rtol=1e-6)
        assert str(a) == {0.1: "tensor([-1.6000, -5.1000], requires_grad=True)",
                          0.005: "tensor([1.8200, 2.5950], requires_grad=True)"}[lr]
        assert a.requires_grad and a.is_leaf
        optimizer.zero_grad()
        assert a.grad is None and b.grad is None


def test_seed_adam_cells_two_steps_with_hand_computed_moments():
    a, b = seed_tensors()
    a0 = a.detach().numpy().copy()
    optimizer = Adam([a, b], lr=0.1)
    beta1, beta2, eps, lr = 0.9, 0.999, 1e-8, 0.1

    seed_loss(a, b).backward()
    g1 = a.grad.numpy().copy()
    optimizer.step()
    m1 = (1 - beta1) * g1
    v1 = (1 - beta2) * g1**2
    np.testing.assert_allclose(a.detach().numpy(), a0 - lr * (m1 / (1 - beta1)) / (np.sqrt(v1 / (1 - beta2)) + eps), rtol=1e-6)
    np.testing.assert_allclose(a.detach().numpy(), [1.9, 2.9], rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), [6.1, 4.1], rtol=1e-6)
    state = optimizer.state[a]
    np.testing.assert_allclose(state["exp_avg"].numpy(), m1, rtol=1e-6)
    np.testing.assert_allclose(state["exp_avg_sq"].numpy(), v1, rtol=1e-6)
    assert state["step"].dtype == ad.float32 and state["step"].shape == () and state["step"].item() == 1.0

    optimizer.zero_grad()
    assert a.grad is None
    loss = seed_loss(a, b)
    np.testing.assert_allclose(loss.item(), 39.7240, atol=1e-4)
    loss.backward()
    np.testing.assert_allclose(a.grad.numpy(), [32.49, 75.69], rtol=1e-5)
    a1, g2 = a.detach().numpy().copy(), a.grad.numpy().copy()
    optimizer.step()
    m2 = beta1 * m1 + (1 - beta1) * g2
    v2 = beta2 * v1 + (1 - beta2) * g2**2
    np.testing.assert_allclose(a.detach().numpy(), a1 - lr * (m2 / (1 - beta1**2)) / (np.sqrt(v2 / (1 - beta2**2)) + eps), rtol=1e-6)
    assert str(a) == "tensor([1.8004, 2.8002], requires_grad=True)"  # the seed's printout
    assert str(b) == "tensor([6.2000, 4.2001], requires_grad=True)"
    np.testing.assert_array_equal(np.round(a.detach().numpy(), 4), np.float32([1.8004, 2.8002]))
    np.testing.assert_array_equal(np.round(b.detach().numpy(), 4), np.float32([6.2, 4.2001]))
    np.testing.assert_allclose(state["exp_avg"].numpy(), m2, rtol=1e-6)
    np.testing.assert_allclose(state["exp_avg_sq"].numpy(), v2, rtol=1e-6)


def test_seed_cells_float32_within_an_ulp_or_two_of_torch():
    # torch's CPU kernels fuse a + alpha * b (one rounding); numpy rounds the product first.
    torch = pytest.importorskip("torch")
    for name, kwargs in [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.005)), ("Adam", dict(lr=0.1))]:
        a, b = seed_tensors()
        ta, tb = (torch.tensor([2.0, 3.0], requires_grad=True), torch.tensor([6.0, 4.0], requires_grad=True))
        ours, theirs = getattr(optimizers, name)([a, b], **kwargs), getattr(torch.optim, name)([ta, tb], **kwargs)
        for _ in range(2):
            ours.zero_grad(), theirs.zero_grad()
            seed_loss(a, b).backward()
            seed_loss(ta, tb).backward()
            ours.step(), theirs.step()
            np.testing.assert_allclose(a.detach().numpy(), ta.detach().numpy(), rtol=3e-7, atol=0)
            np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), rtol=3e-7, atol=0)


# ------------------------------------------------------------------------------ repr and errors
@pytest.mark.parametrize("index", range(len(oc.REPR_CASES)))
def test_repr_is_torchs(index):
    cls, kwargs = oc.REPR_CASES[index]
    assert repr(getattr(optimizers, cls)(some_params(cls), **kwargs)) == TORCH_TEXT["reprs"][index]


@pytest.mark.parametrize("index", range(len(oc.ERROR_CASES)))
def test_invalid_hyperparameters_fail_with_torchs_message(index):
    cls, kwargs = oc.ERROR_CASES[index]
    error_type, message = TORCH_TEXT["errors"][index]
    with pytest.raises(Exception) as raised:
        getattr(optimizers, cls)(some_params(cls), **kwargs)
    assert type(raised.value).__name__ == error_type
    assert str(raised.value) == message


TORCH_OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Rprop", "Adagrad",
                    "Adadelta", "ASGD", "Adafactor", "LBFGS", "Muon"]
BASE_METHODS = ["add_param_group", "zero_grad", "step", "state_dict", "load_state_dict", "register_step_pre_hook",
                "register_step_post_hook", "register_state_dict_pre_hook", "register_state_dict_post_hook",
                "register_load_state_dict_pre_hook", "register_load_state_dict_post_hook"]


def parameters(function):
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("name", TORCH_OPTIMIZERS)
def test_constructor_signature_is_torchs(name):
    """Names, order, keyword-only markers and defaults (not the annotations) as torch 2.13's."""
    torch = pytest.importorskip("torch")
    assert parameters(getattr(optimizers, name)) == parameters(getattr(torch.optim, name))
    assert parameters(getattr(optimizers, name).step) == parameters(getattr(torch.optim, name).step)


def test_base_class_methods_have_torchs_signatures():
    torch = pytest.importorskip("torch")
    for method in BASE_METHODS:
        assert parameters(getattr(Optimizer, method)) == parameters(getattr(torch.optim.Optimizer, method)), method


def test_muon_rejects_non_matrices_as_torch():
    with pytest.raises(ValueError, match=r"Muon only supports 2D parameters whereas we found a parameter with size: "):
        optimizers.Muon([ad.zeros(3, requires_grad=True)])


# ------------------------------------------------------------------------------ param groups
def test_params_as_tensors_dicts_and_named_pairs():
    w, b = ad.zeros(2, requires_grad=True), ad.zeros(3, requires_grad=True)
    opt = SGD([{"params": [w]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[0]["momentum"] == 0
    named = Adam([("weight", w), ("bias", b)])
    assert named.param_groups[0]["param_names"] == ["weight", "bias"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    with pytest.raises(ValueError, match="all optimizer params should be with/without names. Some param names are missing"):
        Adam([("weight", w), b])


def test_sets_single_tensors_and_bad_params_fail_as_torch():
    w = ad.zeros(2, requires_grad=True)
    with pytest.raises(TypeError) as raised:
        SGD(w)
    assert str(raised.value) == ("params argument given to the optimizer should be an iterable of "
                                 "Tensors or dicts, but got autodiff.FloatTensor")
    with pytest.raises(TypeError) as raised:
        SGD([{"params": {w}}])
    assert str(raised.value) == (
        "optimizer parameters need to be organized in ordered collections, but the ordering of "
        "tensors in sets will change between runs. Please use a list instead.")
    # torch turns a top-level set into a list before checking (only sets inside groups are caught)
    assert SGD({w}).param_groups[0]["params"] == [w]
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        SGD([])
    with pytest.raises(TypeError, match="^optimizer can only optimize Tensors, but one of the params is int$"):
        SGD([w, 3])
    with pytest.raises(ValueError, match="^can't optimize a non-leaf Tensor$"):
        SGD([w * 2])
    with pytest.raises(ValueError, match="^some parameters appear in more than one parameter group$"):
        SGD([{"params": [w]}, {"params": [w]}])
    with pytest.raises(TypeError, match="^param_group must be a dict, but got <class 'list'>$"):
        SGD([w]).add_param_group([w])
    with pytest.warns(UserWarning, match="optimizer contains a parameter group with duplicate parameters"):
        SGD([w, w])


def test_add_param_group_fills_defaults():
    w, b = ad.zeros(2, requires_grad=True), ad.zeros(2, requires_grad=True)
    opt = Adam([w], lr=0.1, betas=(0.8, 0.9))
    opt.add_param_group({"params": [b], "eps": 1e-3})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["betas"] == (0.8, 0.9)
    assert opt.param_groups[1]["eps"] == 1e-3


def test_required_hyperparameter_must_be_given():
    from optimizers.optimizer import required

    class Plain(Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, dict(lr=lr))

    with pytest.raises(ValueError, match="parameter group didn't specify a value of required optimization parameter lr"):
        Plain([ad.zeros(2, requires_grad=True)])


# ------------------------------------------------------------------------------ steps
def test_zero_grad_to_none_or_zeros():
    a, b = seed_tensors()
    opt = SGD([a, b], lr=0.1)
    seed_loss(a, b).backward()
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and np.all(a.grad.numpy() == 0)
    opt.zero_grad()
    assert a.grad is None


def test_parameters_without_gradient_are_skipped():
    a, b = seed_tensors()
    opt = Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert b.grad is None and b not in opt.state and list(b.detach().numpy()) == [6.0, 4.0]


def test_step_returns_closure_loss_and_runs_it_with_grad_enabled():
    a, b = seed_tensors()
    opt = SGD([a, b], lr=0.01)

    def closure():
        opt.zero_grad()
        assert ad.is_grad_enabled()
        loss = seed_loss(a, b)
        loss.backward()
        return loss

    with ad.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 53.0
    np.testing.assert_allclose(a.detach().numpy(), [2 - 0.36, 3 - 0.81], rtol=1e-6)
    assert opt.step() is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_counter_adds_one_in_its_own_dtype(dtype):
    """state['step'] += 1 as a 0-d float32 (float64) tensor: a float32 count stops at 2**24, as torch's does."""
    from optimizers.optimizer import advance_step

    for start in [0.0, 41.0, 2.0**24 - 1, 2.0**24, 2.0**53]:
        step = ad.Tensor._from_array(np.array(start, dtype))
        expected = np.array(start, dtype) + dtype(1)
        assert advance_step(step) == expected and step._data == expected
        assert step._data.dtype == dtype and step.shape == ()


def test_lr_may_be_a_one_element_tensor():
    a, b = seed_tensors()
    opt = SGD([a, b], lr=ad.tensor(0.1))
    seed_loss(a, b).backward()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [-1.6, -5.1], rtol=1e-6)
    with pytest.raises(ValueError, match="^Tensor lr must be 1-element$"):
        SGD([a], lr=ad.tensor([0.1, 0.2]))


TENSOR_HYPERPARAMETER_ERRORS = [  # torch 2.13's messages (checked against torch below when it is installed)
    ("Adam", lambda t: dict(lr=t(0.1), foreach=True),
     "lr as a Tensor is not supported for capturable=False and foreach=True"),
    ("AdamW", lambda t: dict(lr=t([0.1, 0.2])), "Tensor lr must be 1-element"),
    ("Adam", lambda t: dict(betas=(t(0.9), t(0.99)), foreach=True),
     "betas[0] as a Tensor is not supported for capturable=False and foreach=True"),
    ("Adam", lambda t: dict(betas=(t(0.9), 0.99)), "betas must be either both floats or both Tensors"),
]


@pytest.mark.parametrize("cls, kwargs, message", TENSOR_HYPERPARAMETER_ERRORS)
def test_tensor_hyperparameters_are_checked_as_torch(cls, kwargs, message):
    with pytest.raises(ValueError) as raised:
        getattr(optimizers, cls)(some_params(), **kwargs(ad.tensor))
    assert str(raised.value) == message
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as raised:
        getattr(torch.optim, cls)([torch.zeros(2, requires_grad=True)], **kwargs(torch.tensor))
    assert str(raised.value) == message


@pytest.mark.parametrize("cls, tensor_kwargs, float_kwargs, exact", [
    ("SGD", dict(lr=ad.tensor(0.1), momentum=0.9, weight_decay=ad.tensor(0.5)),
     dict(lr=0.1, momentum=0.9, weight_decay=0.5), True),
    ("Adam", dict(lr=ad.tensor(0.1), betas=(ad.tensor([0.8]), ad.tensor(0.9)), weight_decay=ad.tensor(0.5)),
     dict(lr=0.1, betas=(0.8, 0.9), weight_decay=0.5), False),
    ("AdamW", dict(betas=(ad.tensor(0.8), ad.tensor(0.9)), weight_decay=ad.tensor(0.5)),
     dict(betas=(0.8, 0.9), weight_decay=0.5), False),
])
def test_tensor_hyperparameters_step_as_their_values(cls, tensor_kwargs, float_kwargs, exact):
    """torch 2.13 takes a 0-d (for lr and Adam's betas, 1-element) tensor for these. SGD passes
    them on as numbers, so the steps are the float run's bit for bit; Adam computes its bias
    corrections and step size with them as float32 tensors, which can move the steps by ~1e-7
    (test_optimizers_tensor_hyperparameters.py checks every case against torch)."""
    runs = []
    for kwargs in (tensor_kwargs, float_kwargs):
        a, b = seed_tensors()
        opt = getattr(optimizers, cls)([a, b], **kwargs)
        for _ in range(3):
            opt.zero_grad()
            seed_loss(a, b).backward()
            opt.step()
        runs.append(np.concatenate([a.detach().numpy(), b.detach().numpy()]))
    if exact:
        np.testing.assert_array_equal(runs[0], runs[1])
    else:
        np.testing.assert_allclose(runs[0], runs[1], rtol=1e-6)
    if cls != "SGD":  # torch prints 1-element tensor betas as 0-d tensors
        printed = repr(getattr(optimizers, cls)(some_params(), **tensor_kwargs))
        assert "    betas: (tensor(0.8000), tensor(0.9000))\n" in printed


def test_capturable_fails_at_step_as_torch_on_cpu_and_differentiable_is_refused():
    a, b = seed_tensors()
    opt = Adam([a], capturable=True)
    seed_loss(a, b).backward()
    with pytest.raises(AssertionError, match=r"If capturable=True, params and state_steps must be on supported devices: \['cuda', 'xpu', 'hpu', 'privateuseone', 'xla'\]\."):
        opt.step()
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        SGD([a], differentiable=True).step()


def flagged(flag):
    return [name for name in TORCH_OPTIMIZERS if flag in inspect.signature(getattr(optimizers, name)).parameters]


def step_once(lib, cls, **kwargs):
    shape = (2, 3) if cls == "Muon" else (2,)
    p = lib.zeros(shape, requires_grad=True)
    opt = getattr(optimizers if lib is ad else lib.optim, cls)([p], **kwargs)
    p.grad = lib.ones(shape)
    opt.step()


@pytest.mark.parametrize("name", flagged("capturable"))
def test_capturable_raises_torchs_cpu_assertion_at_step(name):
    with pytest.raises(AssertionError, match=r"^If capturable=True, .* must be on supported devices: ") as ours:
        step_once(ad, name, capturable=True)
    step_once(ad, name, capturable=False)
    torch = pytest.importorskip("torch")
    with pytest.raises(AssertionError) as theirs:
        step_once(torch, name, capturable=True)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", flagged("differentiable"))
def test_differentiable_is_refused_at_step_not_ignored(name):
    with pytest.raises(NotImplementedError, match=r"^differentiable=True \(recording the optimizer step"):
        step_once(ad, name, differentiable=True)
    step_once(ad, name, differentiable=False)


def test_fused_and_foreach_give_the_same_numbers():
    results = []
    for flags in [{}, {"fused": True}, {"foreach": True}]:
        a, b = seed_tensors()
        opt = Adam([a, b], lr=0.1, **flags)
        for _ in range(3):
            opt.zero_grad()
            seed_loss(a, b).backward()
            opt.step()
        results.append(np.concatenate([a.detach().numpy(), b.detach().numpy()]))
    # fused=True may run the numba kernel (one rounding fewer here and there)
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)
    np.testing.assert_array_equal(results[0], results[2])


# ------------------------------------------------------------------------------ hooks
@pytest.fixture(params=["autodiff", "torch"])
def lib(request):
    """(tensor module, optimizer module): autodiff with optimizers, or torch with torch.optim."""
    if request.param == "torch":
        torch = pytest.importorskip("torch")
        return torch, torch.optim
    return ad, optimizers


def hooked_sgd(lib):
    m, optim = lib
    p = m.tensor([1.0, 2.0], requires_grad=True)
    p.grad = m.tensor([1.0, 1.0])
    return optim.SGD([p], lr=0.1)


def test_step_hooks_run_in_order_and_remove(lib):
    opt = hooked_sgd(lib)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt, args, kwargs)))
    post = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt, args, kwargs)))
    opt.step()
    assert calls == [("pre", True, (opt,), {}), ("post", True, (opt,), {})]
    pre.remove()
    post.remove()
    opt.step()
    assert len(calls) == 2


def test_step_hooks_receive_the_arguments_of_step(lib):
    """torch passes step's own positional arguments, the optimizer first, and its keyword arguments."""
    opt = hooked_sgd(lib)
    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", args, kwargs)))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", args, kwargs)))
    opt.step(None)
    opt.step(closure=None)
    type(opt).step(opt)
    assert seen == [("pre", (opt, None), {}), ("post", (opt, None), {}),
                    ("pre", (opt,), {"closure": None}), ("post", (opt,), {"closure": None}),
                    ("pre", (opt,), {}), ("post", (opt,), {})]


def test_pre_hook_may_replace_the_arguments(lib):
    m, _ = lib
    opt = hooked_sgd(lib)
    seen = []

    def closure():
        return m.tensor(7.0)

    opt.register_step_pre_hook(lambda o, args, kwargs: ((o,), {"closure": closure}))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append((args, kwargs)))
    assert opt.step().item() == 7.0
    assert seen == [((opt,), {"closure": closure})]
    opt.register_step_pre_hook(lambda o, args, kwargs: "nonsense")
    with pytest.raises(RuntimeError, match="must return None or a tuple of \\(new_args, new_kwargs\\), but got "
                                           "nonsense."):
        opt.step()


def test_global_hooks_and_handles_as_context_managers(lib):
    module = importlib.import_module(lib[1].__name__ + ".optimizer")   # torch.optim has no attribute optimizer
    opt = hooked_sgd(lib)
    seen = []
    post = module.register_optimizer_step_post_hook(lambda o, args, kwargs: seen.append(("post", args)))
    with module.register_optimizer_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", args))):
        with post:
            opt.step(None)
        opt.step()
    opt.step()
    assert seen == [("pre", (opt, None)), ("post", (opt, None)), ("pre", (opt,))]


# ------------------------------------------------------------------------------ state_dict
ROUND_TRIP_CASES = [c for c in oc.CASES] + [
    ("muon", "Muon", dict(lr=0.02)),
    ("lion", "Lion", dict(lr=0.01, weight_decay=0.1)),
    ("adabelief", "AdaBelief", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("adabelief-decoupled", "AdaBelief", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
]


def drive(opt, params, steps, maximize=False):
    for _ in range(steps):
        for p in params:
            p.grad = ad.Tensor._from_array(oc.gradient(p._data, maximize))
        opt.step()


@pytest.mark.parametrize("case", ROUND_TRIP_CASES, ids=[c[0] for c in ROUND_TRIP_CASES])
def test_state_dict_round_trip_continues_bit_identically(case):
    name, cls, kwargs, groups = oc.unpack(case)
    shapes = oc.MUON_SHAPES if cls == "Muon" else oc.SHAPES
    maximize = kwargs.get("maximize", False)

    def fresh():
        params = [ad.tensor(v, dtype=ad.float64, requires_grad=True) for v in oc.start_values(shapes)]
        return params, getattr(optimizers, cls)(oc.param_spec(params, groups), **kwargs)

    params, opt = fresh()
    drive(opt, params, 10, maximize)
    saved = copy.deepcopy(opt.state_dict())
    saved_values = [p._data.copy() for p in params]
    drive(opt, params, 10, maximize)

    resumed_params, resumed = fresh()
    for p, values in zip(resumed_params, saved_values):
        p._data[...] = values
    resumed.load_state_dict(saved)
    drive(resumed, resumed_params, 10, maximize)
    for p, q in zip(params, resumed_params):
        np.testing.assert_array_equal(p._data, q._data)
    for p, q in zip(params, resumed_params):
        assert opt.state[p].keys() == resumed.state[q].keys()
        for key in opt.state[p]:
            np.testing.assert_array_equal(opt.state[p][key]._data, resumed.state[q][key]._data)


def test_state_dict_layout_is_torchs():
    a, b = seed_tensors()
    opt = Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, amsgrad=True)
    seed_loss(a, b).backward()
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sorted(sd["state"]) == [0, 1]
    assert list(sd["state"][0]) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert isinstance(sd["state"][1]["exp_avg"], ad.Tensor)


def test_load_state_dict_validates_group_layout_and_casts():
    a, b = seed_tensors()
    opt = Adam([a, b], lr=0.1)
    seed_loss(a, b).backward()
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="^loaded state dict has a different number of parameter groups$"):
        Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="loaded state dict contains a parameter group that doesn't match the size of optimizer's group"):
        Adam([a]).load_state_dict(sd)
    c = ad.tensor([0.0, 0.0], dtype=ad.float64, requires_grad=True)
    d = ad.tensor([0.0, 0.0], dtype=ad.float64, requires_grad=True)
    other = Adam([c, d])
    other.load_state_dict(sd)
    assert other.state[c]["exp_avg"].dtype == ad.float64  # buffers take the parameter's dtype
    assert other.state[c]["step"].dtype == ad.float32  # except step, as in torch
    assert other.param_groups[0]["lr"] == 0.1
    assert other.state[c]["exp_avg"] is not opt.state[a]["exp_avg"]


def test_adam_state_loads_into_adamw_as_decoupled():
    a, b = seed_tensors()
    opt = Adam([a, b], lr=0.1)
    w = AdamW([a, b])
    w.load_state_dict(opt.state_dict())
    assert w.param_groups[0]["decoupled_weight_decay"] is True


def test_state_dict_hooks():
    a, b = seed_tensors()
    opt = SGD([a, b], lr=0.1)
    order = []
    opt.register_state_dict_pre_hook(lambda o: order.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(lambda o, sd: order.append("load-pre"))
    opt.register_load_state_dict_post_hook(lambda o: order.append("load-post"))
    sd = opt.state_dict()
    assert sd["extra"] == 1
    opt.load_state_dict(sd)
    assert order == ["pre", "load-pre", "load-post"]


# ------------------------------------------------------------------------------ LBFGS
def lbfgs_problem(**kwargs):
    params = [ad.tensor(v, dtype=ad.float64, requires_grad=True) for v in oc.ROSENBROCK_START]
    opt = optimizers.LBFGS(params, **kwargs)

    def closure():
        value, grad = oc.rosenbrock(np.concatenate([p._data for p in params]))
        for p, g in zip(params, np.split(grad, [3])):
            p.grad = ad.Tensor._from_array(g.copy())
        return ad.tensor(value, dtype=ad.float64)

    return params, opt, closure


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_dict_round_trip_continues_bit_identically(line_search_fn):
    kwargs = dict(lr=0.5, max_iter=4, history_size=3, line_search_fn=line_search_fn)
    params, opt, closure = lbfgs_problem(**kwargs)
    for _ in range(3):
        opt.step(closure)
    saved, saved_values = copy.deepcopy(opt.state_dict()), [p._data.copy() for p in params]
    for _ in range(3):
        opt.step(closure)
    resumed_params, resumed, resumed_closure = lbfgs_problem(**kwargs)
    for p, values in zip(resumed_params, saved_values):
        p._data[...] = values
    resumed.load_state_dict(saved)
    for _ in range(3):
        resumed.step(resumed_closure)
    for p, q in zip(params, resumed_params):
        np.testing.assert_array_equal(p._data, q._data)
    for key in ("n_iter", "func_evals", "t", "H_diag", "prev_loss"):
        assert resumed.state[resumed_params[0]][key] == opt.state[params[0]][key]


def test_lbfgs_returns_the_first_loss_and_checks_its_options():
    params, opt, closure = lbfgs_problem()
    first = closure().item()
    assert opt.step(closure).item() == first
    with pytest.raises(ValueError, match=r"^LBFGS doesn't support per-parameter options \(parameter groups\)$"):
        optimizers.LBFGS([{"params": params[:1]}, {"params": params[1:]}])
    _, opt, closure = lbfgs_problem(line_search_fn="backtracking")
    with pytest.raises(RuntimeError, match="^only 'strong_wolfe' is supported$"):
        opt.step(closure)


def test_lbfgs_stops_at_once_on_a_stationary_point():
    x = ad.tensor([1.0, 1.0], dtype=ad.float64, requires_grad=True)
    opt = optimizers.LBFGS([x])

    def closure():
        x.grad = ad.zeros(2, dtype=ad.float64)
        return ad.tensor(0.0)

    opt.step(closure)
    assert opt.state[x]["func_evals"] == 1 and opt.state[x]["n_iter"] == 0


TORCH_NAMED = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Rprop", "Adagrad",
               "Adadelta", "ASGD", "Adafactor", "Muon", "LBFGS"]


@pytest.mark.parametrize("name", TORCH_NAMED)
def test_loading_a_state_dict_without_an_option_restores_what_torch_restores(name):
    """A state dict saved without a group option (an older version's) loads as torch's does: the
    options torch's ``__setstate__`` fills in come back with its defaults, the others stay out."""
    torch = pytest.importorskip("torch")
    ours_cls, torch_cls = getattr(optimizers, name), getattr(torch.optim, name)
    ours = ours_cls([ad.zeros(2, 2, requires_grad=True)])
    theirs = torch_cls([torch.zeros(2, 2, requires_grad=True)])
    for key in theirs.state_dict()["param_groups"][0]:
        if key == "params":
            continue
        ours_saved, theirs_saved = ours.state_dict(), theirs.state_dict()
        del ours_saved["param_groups"][0][key], theirs_saved["param_groups"][0][key]
        ours.load_state_dict(ours_saved)
        theirs.load_state_dict(theirs_saved)
        ours_group, theirs_group = ours.param_groups[0], theirs.param_groups[0]
        assert (key in ours_group) == (key in theirs_group), key
        if key in theirs_group:
            assert ours_group[key] == theirs_group[key], key
        ours_group.setdefault(key, theirs_group.get(key, ours.defaults.get(key)))
        theirs_group.setdefault(key, theirs.defaults[key])


def test_adamw_loads_an_adam_state_dict_as_adamw():
    w = ad.zeros(2, requires_grad=True)
    adamw = optimizers.AdamW([w])
    adamw.load_state_dict(Adam([ad.zeros(2, requires_grad=True)]).state_dict())
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True


@pytest.mark.parametrize("name", [n for n in TORCH_NAMED if n != "LBFGS"] + ["Lion", "AdaBelief"])
def test_a_step_writes_the_parameters_and_state_in_their_own_memory(name):
    """The kernels reach tensors through Tensor.numpy(force=True): the arrays they update are the
    tensors' storage, so a step changes the parameter in place (an array taken before sees it)."""
    w = ad.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    before = w.numpy(force=True)
    start = before.copy()
    opt = getattr(optimizers, name)([w], lr=0.1)
    for _ in range(2):
        w.grad = ad.tensor([[0.3, -0.2], [0.1, 0.4]])
        opt.step()
    assert w.numpy(force=True) is before and not np.array_equal(before, start)
    for value in opt.state[w].values():
        if isinstance(value, ad.Tensor) and value.dim():
            assert not np.shares_memory(value.numpy(), before)
