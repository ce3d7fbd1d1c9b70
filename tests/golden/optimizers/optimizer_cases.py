"""The optimizer parity table and the two runners (ours, torch's) that fill it.

Every row runs STEPS steps in float64 on the same nonconvex problem: parameters W (2x3) and b (3,)
from a fixed random start, gradient ``cos(3p) + p/2 + p^3/10`` of each parameter's current value
(the gradient of ``sum(sin(3p)/3 + p^2/4 + p^4/40)``). A run records every parameter and every
state tensor after every step, as ``{"param0": (STEPS, 2, 3), "state0.exp_avg": ..., ...}``.
``make_optimizer_golden.py`` stores torch's records; the tests compare ours with them.
"""

from __future__ import annotations

import numpy as np

STEPS = 40
SHAPES = [(2, 3), (3,)]

# (row id, class name, constructor kwargs[, per-group overrides: one dict per parameter])
CASES = [
    ("sgd", "SGD", dict(lr=0.05)),
    ("sgd-momentum", "SGD", dict(lr=0.05, momentum=0.9)),
    ("sgd-dampening", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("sgd-nesterov", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("sgd-weight_decay", "SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("sgd-maximize", "SGD", dict(lr=0.01, momentum=0.9, maximize=True)),
    ("sgd-groups", "SGD", dict(lr=0.05, momentum=0.9), [dict(lr=0.02), dict(momentum=0.5)]),
    ("sgd-foreach", "SGD", dict(lr=0.05, momentum=0.9, foreach=True)),
    ("sgd-fused", "SGD", dict(lr=0.05, momentum=0.9, fused=True)),
    ("adam", "Adam", dict(lr=0.05)),
    ("adam-amsgrad", "Adam", dict(lr=0.05, amsgrad=True)),
    ("adam-weight_decay", "Adam", dict(lr=0.05, weight_decay=0.1)),
    ("adam-decoupled", "Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("adam-maximize", "Adam", dict(lr=0.01, maximize=True, amsgrad=True)),
    ("adam-betas-eps", "Adam", dict(lr=0.05, betas=(0.3, 0.9), eps=1e-3)),
    ("adam-foreach", "Adam", dict(lr=0.05, foreach=True)),
    ("adam-fused", "Adam", dict(lr=0.05, fused=True)),
    ("adam-groups", "Adam", dict(lr=0.05), [dict(lr=0.01, amsgrad=True), dict(weight_decay=0.2)]),
    ("adamw", "AdamW", dict(lr=0.05)),
    ("adamw-amsgrad", "AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("adamw-maximize", "AdamW", dict(lr=0.01, maximize=True)),
    ("adamax", "Adamax", dict(lr=0.05)),
    ("adamax-weight_decay", "Adamax", dict(lr=0.05, weight_decay=0.1, betas=(0.8, 0.99))),
    ("adamax-maximize", "Adamax", dict(lr=0.01, maximize=True)),
    ("nadam", "NAdam", dict(lr=0.05)),
    ("nadam-momentum_decay", "NAdam", dict(lr=0.05, momentum_decay=0.05)),
    ("nadam-weight_decay", "NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("nadam-decoupled", "NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("nadam-maximize", "NAdam", dict(lr=0.01, maximize=True)),
    ("radam", "RAdam", dict(lr=0.05)),
    ("radam-weight_decay", "RAdam", dict(lr=0.05, weight_decay=0.1)),
    ("radam-decoupled", "RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("radam-maximize", "RAdam", dict(lr=0.01, maximize=True, betas=(0.9, 0.9))),
    ("rmsprop", "RMSprop", dict(lr=0.01)),
    ("rmsprop-alpha", "RMSprop", dict(lr=0.01, alpha=0.9)),
    ("rmsprop-centered", "RMSprop", dict(lr=0.01, centered=True)),
    ("rmsprop-momentum", "RMSprop", dict(lr=0.01, momentum=0.9)),
    ("rmsprop-centered-momentum", "RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("rmsprop-maximize", "RMSprop", dict(lr=0.005, maximize=True)),
    ("rprop", "Rprop", dict(lr=0.01)),
    ("rprop-etas", "Rprop", dict(lr=0.05, etas=(0.3, 1.5))),
    ("rprop-step_sizes", "Rprop", dict(lr=0.05, step_sizes=(1e-3, 0.1))),
    ("rprop-maximize", "Rprop", dict(lr=0.01, maximize=True)),
    ("adagrad", "Adagrad", dict(lr=0.1)),
    ("adagrad-lr_decay", "Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("adagrad-initial_accumulator", "Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("adagrad-weight_decay", "Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("adagrad-maximize", "Adagrad", dict(lr=0.02, maximize=True)),
    ("adagrad-fused", "Adagrad", dict(lr=0.1, fused=True)),
    ("adadelta", "Adadelta", dict(lr=1.0)),
    ("adadelta-rho", "Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4)),
    ("adadelta-weight_decay", "Adadelta", dict(lr=1.0, weight_decay=0.1)),
    ("adadelta-maximize", "Adadelta", dict(lr=0.2, maximize=True)),
    ("asgd", "ASGD", dict(lr=0.05)),
    ("asgd-t0", "ASGD", dict(lr=0.05, t0=10, lambd=1e-2, alpha=0.5)),
    ("asgd-weight_decay", "ASGD", dict(lr=0.05, t0=5, weight_decay=0.1)),
    ("asgd-maximize", "ASGD", dict(lr=0.01, t0=5, maximize=True)),
    ("adafactor", "Adafactor", dict(lr=0.05)),
    ("adafactor-beta2_decay", "Adafactor", dict(lr=0.05, beta2_decay=-0.5)),
    ("adafactor-d-eps", "Adafactor", dict(lr=0.05, d=2.0, eps=(1e-20, 1e-2))),
    ("adafactor-weight_decay", "Adafactor", dict(lr=0.05, weight_decay=0.1)),
    ("adafactor-maximize", "Adafactor", dict(lr=0.01, maximize=True)),
]


def start_values(shapes=SHAPES) -> list[np.ndarray]:
    rng = np.random.default_rng(20240611)
    return [rng.standard_normal(shape) for shape in shapes]


def gradient(p: np.ndarray, maximize: bool = False) -> np.ndarray:
    """The problem's gradient; a ``maximize`` row gets the gradient of ``-f`` so it ascends ``-f``."""
    g = np.cos(3 * p) + 0.5 * p + 0.1 * p**3
    return np.asarray(-g if maximize else g)


def param_spec(params, groups):
    """The ``params`` argument: a plain list, or one group dict per parameter."""
    if groups is None:
        return list(params)
    return [dict(params=[p], **g) for p, g in zip(params, groups)]


def unpack(case):
    name, cls, kwargs, *rest = case
    return name, cls, kwargs, (rest[0] if rest else None)


def record(store, step, params, states):
    for i, values in enumerate(params):
        store.setdefault(f"param{i}", []).append(values)
    for i, state in enumerate(states):
        for key, values in state.items():
            store.setdefault(f"state{i}.{key}", []).append(values)


def run_ours(case, steps=STEPS, shapes=SHAPES):
    import autodiff as ad
    import optimizers

    _, cls, kwargs, groups = unpack(case)
    params = [ad.tensor(v, dtype=ad.float64, requires_grad=True) for v in start_values(shapes)]
    opt = getattr(optimizers, cls)(param_spec(params, groups), **kwargs)
    store: dict = {}
    for step in range(steps):
        for p in params:
            p.grad = ad.Tensor._from_array(gradient(p._data, kwargs.get("maximize", False)))
        opt.step()
        record(store, step, [p._data.copy() for p in params],
               [{k: v._data.copy() for k, v in opt.state[p].items()} for p in params])
    return {k: np.stack(v) for k, v in store.items()}, opt


def run_torch(case, steps=STEPS, shapes=SHAPES):
    import torch

    _, cls, kwargs, groups = unpack(case)
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in start_values(shapes)]
    opt = getattr(torch.optim, cls)(param_spec(params, groups), **kwargs)
    store: dict = {}
    for step in range(steps):
        for p in params:
            p.grad = torch.from_numpy(gradient(p.detach().numpy(), kwargs.get("maximize", False)))
        opt.step()
        record(store, step, [p.detach().numpy().copy() for p in params],
               [{k: v.detach().numpy().copy() for k, v in opt.state[p].items()} for p in params])
    return {k: np.stack(v) for k, v in store.items()}, opt


# ------------------------------------------------------------------------------------ L-BFGS
LBFGS_STEPS = 8
LBFGS_CASES = [
    ("lbfgs", dict(lr=0.1, max_iter=5)),
    ("lbfgs-history", dict(lr=0.5, max_iter=4, history_size=3)),
    ("lbfgs-strong_wolfe", dict(line_search_fn="strong_wolfe", max_iter=5)),
    ("lbfgs-strong_wolfe-tolerances", dict(line_search_fn="strong_wolfe", max_iter=20,
                                           history_size=5, tolerance_grad=1e-5, tolerance_change=1e-7)),
]
ROSENBROCK_START = [np.array([-1.2, 1.0, -0.5]), np.array([0.8, 1.5])]
# float32 rows, 5 steps from the classic start (-1.5, 2) with lr=1: torch's 0-d tensors (t, gtd, ys, ro, H_diag)
# compute in float32 there and its parameter updates are fused multiply-adds; ours follow bit for bit. (One
# caveat for the strong-Wolfe row: its cubic step takes a float32 square root, which torch's vectorized CPU
# kernel approximates (with AVX-512 about one root in six is one ulp from the correctly rounded one numpy
# gives); the roots of this row happen to agree.)
LBFGS_FLOAT32_START = [np.array([-1.5, 2.0])]
LBFGS_FLOAT32_STEPS = 5
LBFGS_FLOAT32_CASES = [
    ("lbfgs-float32", dict(lr=1)),
    ("lbfgs-float32-strong_wolfe", dict(lr=1, line_search_fn="strong_wolfe")),
]


def rosenbrock(x: np.ndarray):
    """The n-dimensional Rosenbrock function and its gradient."""
    head, tail = x[:-1], x[1:]
    value = np.sum(100.0 * (tail - head**2) ** 2 + (1.0 - head) ** 2)
    grad = np.zeros_like(x)
    grad[:-1] = -400.0 * head * (tail - head**2) - 2.0 * (1.0 - head)
    grad[1:] += 200.0 * (tail - head**2)
    return value, grad


def _values(tensor) -> np.ndarray:
    """A copy of an autodiff or torch tensor's values (torch updates prev_flat_grad in place)."""
    return np.array(getattr(tensor, "_data", None) if hasattr(tensor, "_data") else tensor.numpy())


def _lbfgs_run(params, opt, get, set_grads, make_loss, steps, start=ROSENBROCK_START):
    """Each evaluation computes Rosenbrock in float64 and hands its value and gradient over in the parameters'
    dtype, the same numbers to both libraries, so only the optimizers' arithmetic can differ."""
    sizes = [v.size for v in start]
    dtype = get(params[0]).dtype

    def closure():
        value, grad = rosenbrock(np.concatenate([get(p) for p in params]).astype(np.float64))
        set_grads([g.astype(dtype) for g in np.split(grad, np.cumsum(sizes)[:-1])])
        return make_loss(value)

    store: dict = {}
    for _ in range(steps):
        opt.step(closure)
        state = opt.state[params[0]]
        record(store, 0, [get(p).copy() for p in params], [{
            "d": _values(state["d"]),
            "prev_flat_grad": _values(state["prev_flat_grad"]),
            "func_evals": np.array(state["func_evals"]), "n_iter": np.array(state["n_iter"]),
            "t": np.array(float(state["t"])), "prev_loss": np.array(float(state["prev_loss"])),
            "H_diag": np.array(float(state["H_diag"])), "ro": _float_list(state["ro"], history=100),
        }])
    return {k: np.stack(v) for k, v in store.items()}


def _float_list(values, history):
    """A list of 0-d tensors as a fixed-length float64 row (NaN beyond its end)."""
    row = np.full(history, np.nan)
    row[:len(values)] = [float(v) for v in values]
    return row


def run_lbfgs_ours(kwargs, steps=LBFGS_STEPS, dtype="float64", start=ROSENBROCK_START):
    import autodiff as ad
    import optimizers

    params = [ad.tensor(v, dtype=getattr(ad, dtype), requires_grad=True) for v in start]
    opt = optimizers.LBFGS(params, **kwargs)

    def set_grads(grads):
        for p, g in zip(params, grads):
            p.grad = ad.Tensor._from_array(g.copy())

    return _lbfgs_run(params, opt, lambda p: p._data, set_grads,
                      lambda v: ad.tensor(v, dtype=getattr(ad, dtype)), steps, start)


def run_lbfgs_torch(kwargs, steps=LBFGS_STEPS, dtype="float64", start=ROSENBROCK_START):
    import torch

    params = [torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True) for v in start]
    opt = torch.optim.LBFGS(params, **kwargs)

    def set_grads(grads):
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g.copy())

    return _lbfgs_run(params, opt, lambda p: p.detach().numpy(), set_grads,
                      lambda v: torch.tensor(v, dtype=getattr(torch, dtype)), steps, start)


# -------------------------------------------------------------------------------------- Muon
# Muon takes matrices only: a wide one and a tall one (which Newton-Schulz handles transposed).
MUON_SHAPES = [(2, 3), (4, 2)]
MUON_CASES = [
    ("muon", "Muon", dict(lr=0.02)),
    ("muon-no-nesterov", "Muon", dict(lr=0.02, nesterov=False, momentum=0.9)),
    ("muon-match_rms_adamw", "Muon", dict(lr=0.02, adjust_lr_fn="match_rms_adamw", weight_decay=0.0)),
    ("muon-ns", "Muon", dict(lr=0.02, ns_steps=3, ns_coefficients=(2.0, -1.5, 0.5), eps=1e-5)),
]


def run_torch_float64_newton_schulz(case, steps=STEPS, shapes=MUON_SHAPES):
    """torch's Muon with its Newton-Schulz iteration kept in float64 instead of bfloat16: the
    same algorithm at our precision, so ours must match it as tightly as the other rows."""
    import torch

    original = torch.Tensor.bfloat16
    torch.Tensor.bfloat16 = lambda self, *args, **kwargs: self.clone()
    try:
        return run_torch(case, steps, shapes)
    finally:
        torch.Tensor.bfloat16 = original


# ------------------------------------------------------------------------- printing and errors
# Constructions whose printout (repr) must equal torch's.
REPR_CASES = [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.005)), ("Adam", dict(lr=0.1)), ("AdamW", {}),
    ("Adamax", {}), ("NAdam", {}), ("RAdam", {}), ("RMSprop", {}), ("Rprop", {}), ("Adagrad", {}),
    ("Adadelta", {}), ("ASGD", {}), ("Adafactor", {}), ("LBFGS", {}), ("Muon", {}),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4, fused=True)),
    ("Adam", dict(betas=(0.8, 0.9), amsgrad=True, foreach=True)),
    ("LBFGS", dict(line_search_fn="strong_wolfe", history_size=10)),
]

# Constructions torch rejects: the same exception type and message are expected.
ERROR_CASES = [
    ("SGD", dict(lr=-0.1)), ("SGD", dict(momentum=-1)), ("SGD", dict(weight_decay=-1)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(momentum=0.9, dampening=0.1, nesterov=True)),
    ("SGD", dict(fused=True, differentiable=True)), ("SGD", dict(fused=True, foreach=True)),
    ("Adam", dict(lr=-1.0)), ("Adam", dict(eps=-1.0)), ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-0.5)),
    ("Adam", dict(betas=(0, 0.999))), ("Adam", dict(fused=True, foreach=True)),
    ("Adam", dict(fused=True, differentiable=True)), ("AdamW", dict(lr=-0.01)),
    ("Adamax", dict(betas=(0.9, 1.5))), ("NAdam", dict(momentum_decay=-1.0)),
    ("RAdam", dict(eps=-1e-3)), ("RMSprop", dict(alpha=-0.5)), ("RMSprop", dict(momentum=-0.5)),
    ("RMSprop", dict(eps=-1.0)), ("Rprop", dict(etas=(1.5, 1.2))), ("Rprop", dict(etas=(0.5, 0.9))),
    ("Adagrad", dict(lr_decay=-1.0)), ("Adagrad", dict(initial_accumulator_value=-1.0)),
    ("Adagrad", dict(eps=-1.0)), ("Adagrad", dict(fused=True, foreach=True)),
    ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(weight_decay=-1.0)),
    ("ASGD", dict(lr=-1.0)), ("ASGD", dict(weight_decay=-1.0)),
    ("Adafactor", dict(lr=-1.0)), ("Adafactor", dict(beta2_decay=0.5)),
    ("Adafactor", dict(eps=(-1.0, 1e-3))), ("Adafactor", dict(eps=(None, -1.0))),
    ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-1.0)),
    ("LBFGS", dict(lr=-1.0)), ("Muon", dict(lr=-1.0)), ("Muon", dict(momentum=-1.0)),
    ("Muon", dict(weight_decay=-1.0)), ("Muon", dict(adjust_lr_fn="sqrt")),
]


# ------------------------------------------------------------- other shapes: a 3-D tensor, a scalar
# Adafactor factors a 3-D tensor's last two dimensions; every optimizer must take 0-d parameters.
OTHER_SHAPES = [(2, 2, 3), ()]
OTHER_SHAPE_CASES = [
    ("shapes-adafactor", "Adafactor", dict(lr=0.05, weight_decay=0.1)),
    ("shapes-adam", "Adam", dict(lr=0.05, amsgrad=True)),
    ("shapes-rprop", "Rprop", dict(lr=0.05)),
    ("shapes-rmsprop", "RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("shapes-asgd", "ASGD", dict(lr=0.05, t0=3)),
]
