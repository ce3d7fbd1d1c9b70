"""The functional-API cases, written once for any module with torch's names (torch itself or autodiff).

``run_all(m)`` evaluates every (case, transform) pair with ``m.autograd.functional`` and returns
``{"case|transform": encoded result}``; ``run_errors(m)`` does the same for the calls that must fail, giving
``[type name, message]``. ``make_functional_golden.py`` stores torch's answers; the tests compare autodiff's.
"""
from __future__ import annotations

import numpy as np

# name: (function of the module, input arrays, whether inputs are passed as a tuple)
CASES = {
    "cube": (lambda m: lambda x: x ** 3, [[1.0, 2.0, -0.5]], False),
    "exp_reducer": (lambda m: lambda x: x.exp().sum(dim=1), [[[0.1, 0.2, 0.3], [0.4, -0.5, 0.6], [0.7, 0.8, -0.9]]],
                    False),
    "adder": (lambda m: lambda x, y: 2 * x + 3 * y, [[0.5, 1.5], [-1.0, 2.0]], True),
    "broadcast": (lambda m: lambda x, y: x * y.sin() + y ** 2, [[[1.0, 2.0, 3.0], [-1.0, 0.5, 0.25]], [0.3, -0.7, 1.1]],
                  True),
    "two_outputs": (lambda m: lambda x: (x ** 2, x.sum()), [[1.0, -2.0, 3.0]], False),
    "softmax": (lambda m: lambda x: m.log_softmax(x, dim=1) * m.tanh(x), [[[0.1, -0.4, 0.9], [1.2, 0.3, -0.8]]], False),
    "scalar_in": (lambda m: lambda x: (x.sin() * x, x ** 2), [[0.7]], False),
    # scalar outputs: these also get hessian, hvp, vhp and v=None
    "rosenbrock": (lambda m: lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum(),
                   [[1.0, -1.0, 2.0, 0.5]], False),
    "seed": (lambda m: lambda a, b: m.sum(3 * a ** 3 - b ** 2), [[2.0, 3.0], [6.0, 4.0]], True),
    "mlp": (lambda m: lambda w, x: (m.tanh(w @ x) ** 2).sum(), [[[0.5, -0.2, 0.1], [0.3, 0.8, -0.6]], [1.0, 0.5, -1.5]],
            True),
    "zero_dim": (lambda m: lambda x: x.exp() * x, [0.7], False),
    "unused_input": (lambda m: lambda x, y: (x ** 2).sum(), [[1.0, 2.0], [3.0, 4.0]], True),
}


def pattern(shape, offset=0.0):
    """A deterministic non-trivial vector of the given shape (the ``v`` of the products)."""
    n = int(np.prod(shape)) if shape else 1
    return (np.linspace(0.5, 1.5, n) * np.where(np.arange(n) % 2, -1.0, 1.0) + offset).reshape(shape)


def make_inputs(m, name, requires_grad=False):
    _, arrays, as_tuple = CASES[name]
    tensors = tuple(m.tensor(a, dtype=m.float64, requires_grad=requires_grad) for a in arrays)
    return tensors if as_tuple else tensors[0]


def _vectors_like(m, tensors, offset=0.0):
    if isinstance(tensors, tuple):
        return tuple(m.tensor(pattern(tuple(t.shape), offset + i), dtype=t.dtype) for i, t in enumerate(tensors))
    return m.tensor(pattern(tuple(tensors.shape), offset), dtype=tensors.dtype)


def _call(func, inputs):
    return func(*inputs) if isinstance(inputs, tuple) else func(inputs)


def is_scalar(m, name):
    func = CASES[name][0](m)
    out = _call(func, make_inputs(m, name))
    return not isinstance(out, tuple) and out.numel() == 1


def transforms(m, name):
    """{transform name: thunk} for one case: what is computed for it, by the module ``m``."""
    F = m.autograd.functional
    func = CASES[name][0](m)
    x = make_inputs(m, name)
    out = _call(func, x)
    v_out = _vectors_like(m, out)
    v_in = _vectors_like(m, x, offset=0.25)
    calls = {
        "vjp": lambda: F.vjp(func, x, v_out),
        "jvp": lambda: F.jvp(func, x, v_in),
        "jacobian": lambda: F.jacobian(func, x),
        "jacobian_forward": lambda: F.jacobian(func, x, vectorize=True, strategy="forward-mode"),
    }
    single_input = not isinstance(x, tuple) and x.numel() == 1
    if single_input:
        calls["jvp_v_none"] = lambda: F.jvp(func, x)
    if is_scalar(m, name):
        calls.update({
            "vjp_v_none": lambda: F.vjp(func, x),
            "hessian": lambda: F.hessian(func, x),
            "hessian_forward": lambda: F.hessian(func, x, vectorize=True, outer_jacobian_strategy="forward-mode"),
            "hvp": lambda: F.hvp(func, x, v_in),
            "vhp": lambda: F.vhp(func, x, v_in),
        })
    return calls


def _inputs_and_v(m, name):
    x = make_inputs(m, name, requires_grad=True)
    return x, tuple(x) if isinstance(x, tuple) else (x,)


def _grads_of_sum(m, result, wrt):
    """Gradients of the sum of all entries of ``result`` (nested tuples) w.r.t. ``wrt`` (zeros where unused)."""
    flat = []

    def collect(r):
        if isinstance(r, tuple):
            for item in r:
                collect(item)
        else:
            flat.append(r.sum())
    collect(result)
    total = flat[0]
    for t in flat[1:]:
        total = total + t
    return m.autograd.grad(total, wrt, materialize_grads=True)


def second_order(m):
    """Derivatives of create_graph=True results: {name: thunk}, for the cases where they are defined."""
    F = m.autograd.functional
    calls = {}
    for name in ("cube", "broadcast", "softmax", "two_outputs"):
        func = CASES[name][0](m)

        def jac(func=func, name=name):
            x, wrt = _inputs_and_v(m, name)
            return _grads_of_sum(m, F.jacobian(func, x, create_graph=True), wrt)

        def vjp_x_and_v(func=func, name=name):
            x, wrt = _inputs_and_v(m, name)
            v = _vectors_like(m, _call(func, x))
            v = tuple(t.requires_grad_() for t in v) if isinstance(v, tuple) else v.requires_grad_()
            _, product = F.vjp(func, x, v, create_graph=True)
            return _grads_of_sum(m, product, wrt + (v if isinstance(v, tuple) else (v,)))

        def jvp_v(func=func, name=name):
            x, _ = _inputs_and_v(m, name)
            v = _vectors_like(m, x, 0.25)
            v = tuple(t.requires_grad_() for t in v) if isinstance(v, tuple) else v.requires_grad_()
            _, product = F.jvp(func, x, v, create_graph=True)
            return _grads_of_sum(m, product, v if isinstance(v, tuple) else (v,))

        def jvp_x(func=func, name=name):
            x, wrt = _inputs_and_v(m, name)
            _, product = F.jvp(func, x, _vectors_like(m, x, 0.25), create_graph=True)
            return _grads_of_sum(m, product, wrt)

        calls.update({f"{name}|jacobian": jac, f"{name}|vjp": vjp_x_and_v, f"{name}|jvp_v": jvp_v,
                      f"{name}|jvp_x": jvp_x})
    for name in ("rosenbrock", "seed", "mlp", "zero_dim"):
        func = CASES[name][0](m)

        def hess(func=func, name=name):
            x, wrt = _inputs_and_v(m, name)
            return _grads_of_sum(m, F.hessian(func, x, create_graph=True), wrt)

        def vhp_x_and_v(func=func, name=name):
            x, wrt = _inputs_and_v(m, name)
            v = _vectors_like(m, x, 0.25)
            v = tuple(t.requires_grad_() for t in v) if isinstance(v, tuple) else v.requires_grad_()
            _, product = F.vhp(func, x, v, create_graph=True)
            return _grads_of_sum(m, product, wrt + (v if isinstance(v, tuple) else (v,)))

        def hvp_v(func=func, name=name):
            x, _ = _inputs_and_v(m, name)
            v = _vectors_like(m, x, 0.25)
            v = tuple(t.requires_grad_() for t in v) if isinstance(v, tuple) else v.requires_grad_()
            _, product = F.hvp(func, x, v, create_graph=True)
            return _grads_of_sum(m, product, v if isinstance(v, tuple) else (v,))

        def hvp_x(func=func, name=name):
            x, wrt = _inputs_and_v(m, name)
            _, product = F.hvp(func, x, _vectors_like(m, x, 0.25), create_graph=True)
            return _grads_of_sum(m, product, wrt)

        calls.update({f"{name}|hessian": hess, f"{name}|vhp": vhp_x_and_v, f"{name}|hvp_v": hvp_v,
                      f"{name}|hvp_x": hvp_x})
    return calls


def error_calls(m):
    """{name: thunk} of calls that must raise, each as in torch."""
    F = m.autograd.functional
    x = m.tensor([1.0, 2.0, 3.0], dtype=m.float64)
    y = m.tensor([4.0, 5.0], dtype=m.float64)
    cube = CASES["cube"][0](m)
    two = CASES["two_outputs"][0](m)
    total = lambda a: (a ** 3).sum()  # noqa: E731
    uses_first = lambda a, b: (a ** 2).sum()  # noqa: E731
    linear = lambda a: (2 * a).sum()  # noqa: E731
    constant = lambda a: m.ones(3, dtype=m.float64)  # noqa: E731
    return {
        "vjp_inputs_float": lambda: F.vjp(cube, 3.0, x),
        "vjp_inputs_tuple_int": lambda: F.vjp(uses_first, (x, 3), x),
        "vjp_outputs_not_tensor": lambda: F.vjp(lambda a: 1.0, x, x),
        "vjp_v_none_vector": lambda: F.vjp(cube, x),
        "vjp_v_size": lambda: F.vjp(cube, x, y),
        "vjp_v_tuple_length": lambda: F.vjp(two, x, (x,)),
        "vjp_v_single_expected": lambda: F.vjp(cube, x, (x, x)),
        "vjp_v_entry_size": lambda: F.vjp(two, x, (x, x)),
        "vjp_v_not_tensor": lambda: F.vjp(cube, x, [1.0, 2.0, 3.0]),
        "vjp_strict_constant": lambda: F.vjp(constant, x, x, strict=True),
        "vjp_strict_unused": lambda: F.vjp(uses_first, (x, y), strict=True),
        "vjp_strict_create_graph_linear": lambda: F.vjp(lambda a: 2 * a, x, x, create_graph=True, strict=True),
        "jvp_v_none_vector": lambda: F.jvp(cube, x),
        "jvp_v_size": lambda: F.jvp(cube, x, y),
        "jvp_v_tuple_length": lambda: F.jvp(uses_first, (x, y), (x,)),
        "jvp_v_entry_size": lambda: F.jvp(uses_first, (x, y), (x, x)),
        "jvp_strict_constant": lambda: F.jvp(constant, x, x, strict=True),
        "jvp_strict_unused": lambda: F.jvp(uses_first, (x, y), (x, y), strict=True),
        "jacobian_strategy": lambda: F.jacobian(cube, x, strategy="fwd"),
        "jacobian_strict_unused": lambda: F.jacobian(uses_first, (x, y), strict=True),
        "jacobian_strict_constant": lambda: F.jacobian(constant, x, strict=True),
        "jacobian_strict_vectorize": lambda: F.jacobian(cube, x, strict=True, vectorize=True),
        "jacobian_forward_strict": lambda: F.jacobian(cube, x, strict=True, vectorize=True, strategy="forward-mode"),
        "jacobian_forward_create_graph": lambda: F.jacobian(cube, x, create_graph=True, vectorize=True,
                                                            strategy="forward-mode"),
        "jacobian_strict_create_graph_linear": lambda: F.jacobian(lambda a: 2 * a, x, create_graph=True, strict=True),
        "hessian_strategy": lambda: F.hessian(total, x, outer_jacobian_strategy="fwd"),
        "hessian_vector_output": lambda: F.hessian(cube, x),
        "hessian_tuple_output": lambda: F.hessian(lambda a: (a.sum(),), x),
        "hessian_strict_linear": lambda: F.hessian(linear, x, strict=True),
        "hessian_inputs_list": lambda: F.hessian(total, [x]),
        "hvp_vector_output": lambda: F.hvp(cube, x, x),
        "hvp_tuple_output": lambda: F.hvp(lambda a: (a.sum(),), x, x),
        "hvp_v_none": lambda: F.hvp(total, x),
        "hvp_strict_linear": lambda: F.hvp(linear, x, x, strict=True),
        "hvp_strict_unused": lambda: F.hvp(uses_first, (x, y), (x, y), strict=True),
        "vhp_vector_output": lambda: F.vhp(cube, x, x),
        "vhp_tuple_output": lambda: F.vhp(lambda a: (a.sum(),), x, x),
        "vhp_v_none": lambda: F.vhp(total, x),
        "vhp_v_size": lambda: F.vhp(total, x, y),
        "vhp_strict_linear": lambda: F.vhp(linear, x, x, strict=True),
        "vhp_strict_unused": lambda: F.vhp(uses_first, (x, y), (x, y), strict=True),
    }


def encode(value):
    """JSON-able form of a tensor or a nested tuple of tensors."""
    if isinstance(value, (tuple, list)):
        return {type(value).__name__: [encode(v) for v in value]}
    array = np.asarray(value.detach().numpy(), dtype=np.float64)
    return {"shape": list(array.shape), "values": array.reshape(-1).tolist(), "dtype": str(value.dtype).split(".")[-1]}


def run_all(m):
    results = {}
    for name in CASES:
        for transform, thunk in transforms(m, name).items():
            results[f"{name}|{transform}"] = encode(thunk())
    for key, thunk in second_order(m).items():
        results[f"second_order|{key}"] = encode(thunk())
    return results


def run_errors(m, module_name):
    errors = {}
    for key, thunk in error_calls(m).items():
        try:
            thunk()
        except Exception as e:   # noqa: BLE001 - recording whatever the reference raises
            errors[key] = [type(e).__name__, str(e).replace(f"{module_name}.", "autodiff.")]
        else:
            errors[key] = None
    return errors


PUBLIC = {"functional": ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"], "autograd": ["gradcheck", "gradgradcheck"]}


def signatures(m):
    """[name, kind, default] of every parameter of the public functions (what torch's users may pass)."""
    import inspect
    out = {}
    for where, names in PUBLIC.items():
        module = m.autograd.functional if where == "functional" else m.autograd
        for name in names:
            params = inspect.signature(getattr(module, name)).parameters.values()
            out[name] = [[p.name, p.kind.name, repr(p.default)] for p in params]
    return out
