"""Hyperparameters given as 0-d tensors (``lr=ad.tensor(0.05)``), one row per optimizer and
hyperparameter: what torch 2.13 accepts and what it refuses (with its message), written in the
table below and, when torch is importable, checked against torch itself, for every kernel path
(the default, ``foreach=False``, ``foreach=True``, ``fused=True``) and for float32 and float64
tensors. An accepted row runs 20 steps in float64 on the parity table's problem (LBFGS: 6 on
its Rosenbrock function; Muon against torch with its Newton-Schulz iteration in float64), and
every parameter and state tensor must equal torch's within 1e-6 relative (see ATOL) after every
step, and the printout must be torch's: torch does its scalar arithmetic with such a
hyperparameter in the tensor's dtype (``1 - beta2 ** t`` in float32), which differs from the
float run by up to 1e-4, so this checks that ours does the same. Without torch, an accepted row
is compared with our run on the same values given as floats.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

import autodiff as ad
import optimizers

GOLDEN = Path(__file__).parent / "golden" / "optimizers"
sys.path.insert(0, str(GOLDEN))

import optimizer_cases as oc  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

STEPS = 20
RTOL = 1e-6
# torch's float32 sqrt (in ``bias_correction2 ** 0.5``) is faithful, not correctly rounded: it
# differs from the correctly rounded square root ours takes by one unit in the last place (6e-8
# of the step) for about one value in seven. Near a parameter's zero crossing that is more than
# 1e-6 relative, hence an absolute tolerance for float32 tensors (6e-8 times 20 steps of ~0.05
# is 6e-8; measured at most 5e-9). float64 tensors: the parity table's 1e-12.
ATOL = {"float32": 1e-8, "float64": 1e-12}
# Without torch: a float32 tensor's scalar arithmetic is float32, so its run drifts from the
# float run by up to ~1e-4 relative over 20 steps (measured: 8e-5 for NAdam's betas); a float64
# tensor's is the float run's but for torch's x / t = reciprocal(t) * x and t ** 3 = t * t * t.
# (torch's multi-tensor ASGD computes eta with its float32 step count, so in float32 for float
# hyperparameters but in float64 for float64 tensors: that row drifts as a float32 one.)
FLOAT_RUN_RTOL = {"float32": 2e-3, "float64": 1e-9}


# ------------------------------------------------------------------------- torch's refusals
def foreach_addcdiv_message(third: str, count: int = 2) -> str:
    """torch's TypeError when its multi-tensor step sizes are tensors (for ``count`` tensors)."""
    tensors = ", ".join(["Tensor"] * count)
    listed = f"list of [{tensors}]"
    third_listed = listed if third == "list" else f"tuple of ({tensors}{',' if count == 1 else ''})"
    mismatch = f"(!{listed}!, !{listed}!, !{third_listed}!, !{listed}!)"
    return (f"_foreach_addcdiv_() received an invalid combination of arguments - got (list, list, "
            f"{third}, list), but expected one of:\n" + "".join(
                " * (tuple of Tensors self, tuple of Tensors tensor1, tuple of Tensors tensor2, "
                f"{overload})\n      didn't match because some of the arguments have invalid types: "
                f"{mismatch}\n"
                for overload in ["tuple of Scalars scalars", "Tensor scalars", "Number value = 1"]))


LR_FOREACH = ("init", "ValueError", "lr as a Tensor is not supported for capturable=False and foreach=True")
BETAS_FOREACH = ("init", "ValueError",
                 "betas[0] as a Tensor is not supported for capturable=False and foreach=True")
BETAS_MIXED = ("init", "ValueError", "betas must be either both floats or both Tensors")
PACKED_SCALAR = ("step", "RuntimeError", "Expected packed scalar Tensor to be of dimension 1. Got 0 instead.")
ADDCDIV_LISTS = ("step", "TypeError", foreach_addcdiv_message("list"))
ADDCDIV_TUPLE = ("step", "TypeError", foreach_addcdiv_message("tuple"))

# Paths: "default" (foreach=None: on CPU, torch's single-tensor kernel), "foreach=False",
# "foreach=True", "fused=True". A row's refusals name the paths that refuse; "all" is every one.


class Row(NamedTuple):
    optimizer: str
    hyperparameter: str  # a name, or "betas[0]" for one element of a tuple (the other a float)
    value: object  # the float value (a tuple's floats for tuple hyperparameters); an int for counts
    kwargs: dict  # the other options, chosen so that the hyperparameter takes part
    refused: dict = {}  # path -> (phase, exception type, torch's message)


def adam_family(name, *extra, refused=None):
    refused = refused or {}
    rows = [Row(name, "lr", 0.05, {}, refused.get("lr", {})),
            Row(name, "betas", (0.8, 0.99), dict(lr=0.05), refused.get("betas", {})),
            Row(name, "betas[0]", (0.8, 0.99), dict(lr=0.05), refused.get("betas[0]", {})),
            Row(name, "betas[1]", (0.8, 0.99), dict(lr=0.05), refused.get("betas[1]", {})),
            Row(name, "eps", 1e-3, dict(lr=0.05)),
            Row(name, "weight_decay", 0.1, dict(lr=0.05))]
    return rows + [Row(name, hyper, value, dict(lr=0.05), refused.get(hyper, {})) for hyper, value in extra]


ADAM_REFUSALS = {"lr": {"foreach=True": LR_FOREACH}, "betas": {"foreach=True": BETAS_FOREACH},
                 "betas[0]": {"all": BETAS_MIXED}, "betas[1]": {"all": BETAS_MIXED}}

ROWS = [
    Row("SGD", "lr", 0.05, dict(momentum=0.9)),
    Row("SGD", "momentum", 0.9, dict(lr=0.05)),
    Row("SGD", "momentum", 0.9, dict(lr=0.05, nesterov=True)),
    Row("SGD", "dampening", 0.3, dict(lr=0.05, momentum=0.9)),
    Row("SGD", "weight_decay", 0.1, dict(lr=0.05, momentum=0.5)),
    *adam_family("Adam", refused=ADAM_REFUSALS),
    Row("Adam", "weight_decay", 0.1, dict(lr=0.05, decoupled_weight_decay=True)),
    Row("Adam", "betas", (0.3, 0.9), dict(lr=0.05, amsgrad=True), ADAM_REFUSALS["betas"]),
    *adam_family("AdamW", refused=ADAM_REFUSALS),
    *adam_family("Adamax", refused={"betas": {"foreach=True": ADDCDIV_LISTS},
                                    "betas[0]": {"foreach=True": ADDCDIV_LISTS}}),
    *adam_family("NAdam", ("momentum_decay", 0.05),
                 refused={"betas": {"foreach=True": PACKED_SCALAR}, "betas[1]": {"foreach=True": PACKED_SCALAR},
                          "betas[0]": {"foreach=True": ADDCDIV_TUPLE},
                          "momentum_decay": {"foreach=True": ADDCDIV_TUPLE}}),
    Row("NAdam", "lr", 0.05, dict(weight_decay=0.1, decoupled_weight_decay=True)),
    *adam_family("RAdam", refused={"betas": {"foreach=True": PACKED_SCALAR},
                                   "betas[1]": {"foreach=True": PACKED_SCALAR}}),
    Row("RAdam", "lr", 0.05, dict(weight_decay=0.1, decoupled_weight_decay=True)),
    Row("RMSprop", "lr", 0.01, {}),
    Row("RMSprop", "alpha", 0.3, dict(lr=0.01)),
    Row("RMSprop", "alpha", 0.9, dict(lr=0.01, centered=True)),
    Row("RMSprop", "eps", 1e-3, dict(lr=0.01)),
    Row("RMSprop", "weight_decay", 0.1, dict(lr=0.01)),
    Row("RMSprop", "momentum", 0.9, dict(lr=0.01)),
    Row("RMSprop", "momentum", 0.5, dict(lr=0.01, centered=True)),
    Row("Rprop", "lr", 0.05, {}),
    Row("Rprop", "etas", (0.3, 1.5), dict(lr=0.05)),
    Row("Rprop", "etas[0]", (0.3, 1.5), dict(lr=0.05)),
    Row("Rprop", "etas[1]", (0.3, 1.5), dict(lr=0.05)),
    Row("Rprop", "step_sizes", (1e-3, 0.1), dict(lr=0.05)),
    Row("Rprop", "step_sizes[0]", (1e-2, 50.0), dict(lr=0.05)),
    Row("Rprop", "step_sizes[1]", (1e-6, 0.1), dict(lr=0.05)),
    Row("Adagrad", "lr", 0.1, {}),
    Row("Adagrad", "lr_decay", 0.05, dict(lr=0.1)),
    Row("Adagrad", "weight_decay", 0.1, dict(lr=0.1)),
    Row("Adagrad", "initial_accumulator_value", 0.5, dict(lr=0.1)),
    Row("Adagrad", "eps", 1e-3, dict(lr=0.1)),
    Row("Adadelta", "lr", 0.5, {}),
    Row("Adadelta", "rho", 0.3, dict(lr=0.5)),
    Row("Adadelta", "eps", 1e-4, dict(lr=0.5)),
    Row("Adadelta", "weight_decay", 0.1, dict(lr=0.5)),
    Row("ASGD", "lr", 0.05, dict(t0=5)),
    Row("ASGD", "lambd", 1e-2, dict(lr=0.05, t0=5)),
    Row("ASGD", "alpha", 0.5, dict(lr=0.05, t0=5)),
    Row("ASGD", "t0", 5.0, dict(lr=0.05)),
    Row("ASGD", "weight_decay", 0.1, dict(lr=0.05, t0=5)),
    Row("Adafactor", "lr", 0.05, {}),
    Row("Adafactor", "beta2_decay", -0.5, dict(lr=0.05)),
    Row("Adafactor", "eps", (1e-3, 1e-2), dict(lr=0.05)),
    Row("Adafactor", "eps[0]", (1e-3, 1e-2), dict(lr=0.05)),
    Row("Adafactor", "eps[1]", (None, 2.0), dict(lr=0.05)),
    Row("Adafactor", "d", 1.5, dict(lr=0.05)),
    Row("Adafactor", "weight_decay", 0.1, dict(lr=0.05)),
    Row("Muon", "lr", 0.02, {}),
    Row("Muon", "lr", 0.02, dict(adjust_lr_fn="match_rms_adamw")),
    Row("Muon", "weight_decay", 0.05, dict(lr=0.02)),
    Row("Muon", "momentum", 0.9, dict(lr=0.02)),
    Row("Muon", "momentum", 0.3, dict(lr=0.02, nesterov=False)),
    Row("Muon", "eps", 1e-5, dict(lr=0.02)),
    Row("Muon", "ns_coefficients", (2.0, -1.5, 0.5), dict(lr=0.02)),
    Row("Muon", "ns_coefficients[1]", (3.4445, -4.775, 2.0315), dict(lr=0.02)),
    Row("Muon", "ns_steps", 3, dict(lr=0.02)),
    *[Row("LBFGS", hyper, value, dict(line_search_fn=search, **({} if hyper == "max_iter" else dict(max_iter=5))))
      for search in [None, "strong_wolfe"]
      for hyper, value in [("lr", 0.5), ("max_iter", 5), ("max_eval", 6), ("tolerance_grad", 1e-5),
                           ("tolerance_change", 1e-7), ("history_size", 3)]],
    # Beyond torch: accepted as torch's Adam accepts them
    Row("Lion", "lr", 1e-3, {}),
    Row("Lion", "betas", (0.8, 0.9), dict(lr=1e-3)),
    Row("Lion", "betas[0]", (0.3, 0.99), dict(lr=1e-3)),
    Row("Lion", "weight_decay", 0.5, dict(lr=1e-3)),
    *adam_family("AdaBelief"),
    Row("AdaBelief", "weight_decay", 0.1, dict(lr=0.05, decoupled_weight_decay=True)),
]
BEYOND_TORCH = {"Lion", "AdaBelief"}


def paths(name):
    parameters = inspect.signature(getattr(optimizers, name)).parameters
    found = ["default"]
    if "foreach" in parameters:
        found += ["foreach=False", "foreach=True"]
    if "fused" in parameters:
        found.append("fused=True")
    return found


def row_id(row):
    options = ",".join(f"{k}={v}" for k, v in row.kwargs.items() if k not in ("lr", "max_iter"))
    return f"{row.optimizer}-{row.hyperparameter}" + (f"[{options}]" if options else "")


CASES = [pytest.param(row, dtype, path, id=f"{row_id(row)}-{dtype}-{path}")
         for row in ROWS for dtype in ("float32", "float64") for path in paths(row.optimizer)]


def expected_outcome(row, path):
    return row.refused.get(path) or row.refused.get("all") or ("ok",)


# ------------------------------------------------------------------------------- the runners
def split(hyperparameter):
    name, _, index = hyperparameter.partition("[")
    return name, (int(index[:-1]) if index else None)


def hyperparameter_kwargs(row, make_tensor):
    """``{name: value}`` with the row's value made a tensor by ``make_tensor`` (all of a tuple's
    numbers, or only the indexed one)."""
    name, index = split(row.hyperparameter)
    if isinstance(row.value, tuple):
        value = tuple(v if v is None or (index is not None and i != index) else make_tensor(v)
                      for i, v in enumerate(row.value))
    else:
        value = make_tensor(row.value)
    return {name: value}


def path_kwargs(path):
    return {} if path == "default" else {path.split("=")[0]: path.endswith("True")}


def tensor_maker(lib, dtype):
    float_dtype = getattr(lib, dtype)

    def make(v):
        return lib.tensor(v) if isinstance(v, int) else lib.tensor(v, dtype=float_dtype)
    return make


def as_float(dtype):
    """The value a tensor of ``dtype`` holds, as a float (an int stays an int)."""
    return lambda v: v if isinstance(v, int) else float(np.dtype(dtype).type(v))


def run(lib, row, kwargs):
    """``("ok", trajectories, printout)``, or ``(phase, exception type name, message)`` for a
    refusal at construction (``"init"``) or at a step (``"step"``)."""
    ours = lib is ad
    if row.optimizer == "LBFGS":
        params = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in oc.ROSENBROCK_START]
    else:
        shapes = oc.MUON_SHAPES if row.optimizer == "Muon" else oc.SHAPES
        params = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in oc.start_values(shapes)]
    try:
        opt = getattr(optimizers if ours else lib.optim, row.optimizer)(params, **kwargs)
    except Exception as error:  # noqa: BLE001 - the outcome is what is compared
        return ("init", type(error).__name__, str(error))
    try:
        if row.optimizer == "LBFGS":
            trajectories = lbfgs_steps(lib, params, opt)
        elif row.optimizer == "Muon" and not ours:  # the same algorithm at our precision
            original = lib.Tensor.bfloat16
            lib.Tensor.bfloat16 = lambda self, *args, **kw: self.clone()
            try:
                trajectories = steps(lib, params, opt)
            finally:
                lib.Tensor.bfloat16 = original
        else:
            trajectories = steps(lib, params, opt)
    except Exception as error:  # noqa: BLE001
        return ("step", type(error).__name__, str(error))
    return ("ok", trajectories, repr(opt))


def values(lib, tensor):
    return tensor._data.copy() if lib is ad else tensor.detach().numpy().copy()


def steps(lib, params, opt):
    """STEPS steps on the parity table's problem, recording every parameter and state tensor."""
    store: dict = {}
    for step in range(STEPS):
        for p in params:
            grad = oc.gradient(values(lib, p))
            p.grad = ad.Tensor._from_array(grad) if lib is ad else lib.from_numpy(grad)
        opt.step()
        oc.record(store, step, [values(lib, p) for p in params],
                  [{k: values(lib, v) for k, v in opt.state[p].items()} for p in params])
    return {k: np.stack(v) for k, v in store.items()}


def lbfgs_steps(lib, params, opt):
    if lib is ad:
        def set_grads(grads):
            for p, g in zip(params, grads):
                p.grad = ad.Tensor._from_array(g.copy())
    else:
        def set_grads(grads):
            for p, g in zip(params, grads):
                p.grad = lib.from_numpy(g.copy())
    return oc._lbfgs_run(params, opt, lambda p: values(lib, p), set_grads,
                         lambda v: lib.tensor(v, dtype=lib.float64), 6)


def assert_same_trajectories(ours, reference, rtol=RTOL, atol=ATOL["float64"]):
    assert sorted(ours) == sorted(reference), "state keys differ"
    for key, expected in reference.items():
        got = ours[key]
        assert got.dtype == expected.dtype and got.shape == expected.shape, key
        for step in range(expected.shape[0]):
            np.testing.assert_allclose(got[step], expected[step], rtol=rtol, atol=atol,
                                       err_msg=f"{key} after step {step + 1}")


# --------------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("row, dtype, path", CASES)
def test_tensor_hyperparameter(row, dtype, path):
    kwargs = dict(row.kwargs, **path_kwargs(path))
    ours = run(ad, row, dict(kwargs, **hyperparameter_kwargs(row, tensor_maker(ad, dtype))))
    expected = expected_outcome(row, path)
    assert ours[:1] == expected[:1] and (ours[0] == "ok" or ours == expected), ours[:3]
    if torch is not None and row.optimizer not in BEYOND_TORCH:
        theirs = run(torch, row, dict(kwargs, **hyperparameter_kwargs(row, tensor_maker(torch, dtype))))
        assert theirs[:1] == expected[:1] and (theirs[0] == "ok" or theirs == expected), \
            f"torch gives {theirs[:3]}, the table says {expected}"
        if ours[0] == "ok":
            assert_same_trajectories(ours[1], theirs[1], atol=ATOL[dtype])
            # the printout: tensor hyperparameters print as torch prints them
            assert ours[2] == theirs[2].replace("torch.", "autodiff.")
    elif ours[0] == "ok":
        floats = run(ad, row, dict(kwargs, **hyperparameter_kwargs(row, as_float(dtype))))
        drift = "float32" if row.optimizer == "ASGD" and path == "foreach=True" else dtype
        assert_same_trajectories(ours[1], floats[1], rtol=FLOAT_RUN_RTOL[drift], atol=1e-9)


def test_the_table_covers_every_optimizer_and_numeric_hyperparameter():
    covered = {(row.optimizer, split(row.hyperparameter)[0]) for row in ROWS}
    numeric = set()
    for name in optimizers.__all__:
        if name == "Optimizer":
            continue
        for parameter in inspect.signature(getattr(optimizers, name)).parameters.values():
            default = parameter.default
            if (isinstance(default, (int, float, tuple)) and not isinstance(default, bool)
                    or parameter.name == "max_eval"):
                numeric.add((name, parameter.name))
    assert len(numeric) == 71 and numeric == covered, numeric ^ covered


def test_float_tensor_arithmetic_is_torchs():
    """The scalar arithmetic a tensor hyperparameter takes part in, against torch's 0-d tensors:
    the dtype of each result and its value, bit for bit."""
    from optimizers._functional._scalars import TensorScalar, tensor_scalar

    rng = np.random.default_rng(0)
    for x32, x64, y in zip(rng.uniform(0.05, 1.5, 300).astype(np.float32), rng.uniform(0.05, 2, 300),
                           rng.uniform(0.05, 2, 300)):
        y = float(y)
        s, s64 = tensor_scalar(np.array(x32)), tensor_scalar(np.array(x64))
        results = {"t + y": s + y, "y - t": y - s, "t * y": s * y, "t / y": s / y, "y / t": y / s,
                   "t ** 2": s**2.0, "t ** 3": s**3, "t ** 7": s**7.0, "t ** -2": s**-2.0,
                   "t ** -0.5": s**-0.5, "0.96 ** t": 0.96**s, "t * t64 + t": s * s64 + s,
                   "y / (t * t64)": y / (s * s64), "-t": -s, "t64 ** 3": s64**3, "y / t64": y / s64}
        assert all(isinstance(r, TensorScalar) for r in results.values())
        if torch is None:
            continue
        t, t64 = torch.tensor(x32), torch.tensor(x64, dtype=torch.float64)
        reference = {"t + y": t + y, "y - t": y - t, "t * y": t * y, "t / y": t / y, "y / t": y / t,
                     "t ** 2": t**2.0, "t ** 3": t**3, "t ** 7": t**7.0, "t ** -2": t**-2.0,
                     "t ** -0.5": t**-0.5, "0.96 ** t": 0.96**t, "t * t64 + t": t * t64 + t,
                     "y / (t * t64)": y / (t * t64), "-t": -t, "t64 ** 3": t64**3, "y / t64": y / t64}
        for key, expected in reference.items():
            got = results[key]
            assert np.dtype(got.numpy_type).name == str(expected.dtype).removeprefix("torch."), key
            assert float(got) == expected.item(), (key, x32, x64, y)


# ------------------------------------------------------------------- 1-element tensors, printing
@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=[0.05], momentum=0.9)), ("Adam", dict(lr=[0.05])), ("RMSprop", dict(lr=[0.01])),
    ("Adam", dict(lr=0.05, betas=([0.8], [0.99]))), ("AdamW", dict(lr=0.05, betas=([0.8], 0.99)))])
def test_one_element_lr_and_adam_betas_are_read_as_torch_squeezes_them(name, kwargs):
    def with_tensors(lib):
        def make(v):
            return lib.tensor(v) if isinstance(v, list) else v
        return {k: tuple(map(make, v)) if isinstance(v, tuple) else make(v) for k, v in kwargs.items()}

    ours = run(ad, Row(name, "", None, {}), with_tensors(ad))
    if "betas" in kwargs and not isinstance(kwargs["betas"][1], list):
        assert ours == BETAS_MIXED
    else:
        assert ours[0] == "ok"
    if torch is not None:
        theirs = run(torch, Row(name, "", None, {}), with_tensors(torch))
        assert theirs[0] == ours[0]
        if ours[0] == "ok":
            assert_same_trajectories(ours[1], theirs[1], atol=ATOL["float32"])
            assert ours[2] == theirs[2]
        else:
            assert theirs == ours


def test_other_one_element_tensors_are_refused_at_step():
    """torch's kernels take a 1-element tensor for the other hyperparameters only where its
    broadcasting happens to work (SGD's momentum yes, its weight_decay no: ``add(): argument
    'alpha' must be Number, not Tensor``); these take a number or a 0-d tensor."""
    p = ad.zeros(2, requires_grad=True)
    opt = optimizers.SGD([p], lr=0.1, weight_decay=ad.tensor([0.1]))
    p.grad = ad.ones(2)
    with pytest.raises(TypeError, match=r"^weight_decay must be a number or a 0-dim tensor, but got a "
                                        r"tensor of shape \(1,\)$"):
        opt.step()
    with pytest.raises(TypeError, match=r"^betas\[0\] must be a number or a 0-dim tensor"):
        p.grad = ad.ones(2)
        optimizers.Adamax([p], betas=(ad.tensor([0.9]), 0.99)).step()


def test_a_tensor_lr_changed_in_place_is_read_at_every_step():
    """torch reads a tensor lr when it steps, so a schedule may update it in place."""
    p = ad.tensor([1.0, 2.0], requires_grad=True)
    lr = ad.tensor(0.5)
    opt = optimizers.SGD([p], lr=lr)
    p.grad = ad.ones(2)
    opt.step()
    lr.fill_(0.25)
    p.grad = ad.ones(2)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.25, 1.25])
