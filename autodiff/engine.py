"""Reverse mode: the backward pass over the recorded graph.

Nodes are visited in topological order found without recursion (a graph tens of thousands of ops deep is fine),
each node's incoming cotangents are summed before its rules run, broadcasting is undone here once for all ops,
and leaves accumulate into ``.grad`` as torch's AccumulateGrad does.
"""
from __future__ import annotations

import re

import numpy as np

from ._quiet import restore, silence
from .grad_mode import state
from .node import Node
from .tensor import Size, Tensor

__all__ = ["backward", "run_backward", "unbroadcast"]

_ndarray = np.ndarray

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they have "
          "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
          "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
          "if you need to access saved tensors after calling backward.")


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``, undoing numpy broadcasting (the one place this is done)."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    if isinstance(g, Tensor):
        from .ops.reductions import sum as _sum
        g = _sum(g, dim=axes, keepdim=False) if axes else g
        return g.reshape(shape)
    if axes:
        g = np.add.reduce(g, axis=axes)
    return g if g.shape == shape else np.reshape(g, shape)


def _key(t: Tensor):
    return t.grad_fn if t.grad_fn is not None else t


def _check_versions(node: Node) -> None:
    """torch's "modified by an inplace operation" check: has a tensor this node's VJPs read changed since?"""
    for i in node.op.reads(node.args):
        if i == -1:
            counter, saved, tensor = node.out_version, node.out_saved, None
        else:
            tensor = node.args[i]
            if type(tensor) is not Tensor:
                continue
            counter, saved = tensor._vc, node.versions[i]
        if counter[0] != saved:
            raise RuntimeError(_modified_message(tensor, node, counter[0], saved))


_ANOMALY_HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
                 "autodiff.autograd.set_detect_anomaly(True, check_nan=False).")
_ANOMALY_ON_HINT = ("Hint: the backtrace further above shows the operation that failed to compute its gradient. The "
                    "variable in question was changed in there or anywhere later. Good luck!")


def _modified_message(tensor, node, version, saved) -> str:
    """torch's wording: the tensor's type and shape, the node it is an output of (for a saved output, the node
    that saved it; for a saved input, the tensor's grad_fn now), and both versions."""
    from .dispatch import _type_name
    data = tensor._data if tensor is not None else node.ans
    producer = node if tensor is None else tensor.grad_fn
    which = f", which is output 0 of {_message_name(producer)}," if producer is not None else ""
    hint = _ANOMALY_ON_HINT if state.anomaly else _ANOMALY_HINT
    return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[autodiff.{_type_name(data.dtype)}Tensor {list(data.shape)}]{which} is at version {version}; "
            f"expected version {saved} instead. {hint}")


def _message_name(node) -> str:
    """How torch's saved-variable message names a node: ``Add`` for AddBackward0, CopySlices in full."""
    name = node.name()
    if name == "CopySlices":
        return "torch::autograd::CopySlices"
    return re.sub(r"Backward\d*$", "", name)


def _topological_counts(roots):
    """For every node reachable from ``roots``: how many edges point at it (iterative DFS)."""
    counts = {}
    stack = [r for r in roots if type(r) is Node]
    seen = set(stack) if len(stack) > 1 else ()
    while stack:
        node = stack.pop()
        for _, parent in node.edges:
            if type(parent) is not Node:
                continue
            if parent in counts:
                counts[parent] += 1
            else:
                counts[parent] = 1
                if parent not in seen:
                    stack.append(parent)
    return counts


def _run_hooks(hooks: dict, g):
    """A tensor's hooks, in registration order, on its total gradient; a hook returning a tensor replaces it."""
    for hook in list(hooks.values()):
        wrapped = g if isinstance(g, Tensor) else Tensor._from_array(np.asarray(g))
        out = hook(wrapped)
        if out is not None:
            g = out if isinstance(g, Tensor) else out._data
    return g


def run_backward(roots, root_grads, retain_graph, create_graph, capture=None, accumulate=True):
    """Propagate ``root_grads`` from ``roots`` back through the graph.

    ``capture``: tensors whose total gradient is returned (for ``autograd.grad``), in order; ``accumulate``:
    whether leaves accumulate into ``.grad`` (with ``capture`` and accumulate=True, i.e. ``backward(inputs=...)``,
    only the captured ones do).
    """
    grads = {}
    for r, g in zip(roots, root_grads):
        key = _key(r)
        grads[key] = grads[key] + g if key in grads else g
    counts = _topological_counts(list(grads))
    captured = {}
    capture_ids = None if capture is None else {id(_key(t)): t for t in capture}
    handed_out = set(id(g) for g in root_grads)
    ready = [k for k in grads if type(k) is Node and counts.get(k, 0) == 0]
    leaves = [k for k in grads if type(k) is Tensor]
    epoch = state.epoch
    owned = set()
    previous_mode = state.grad_enabled
    state.grad_enabled = create_graph
    # Rules may divide by values a later where() masks (torch never warns): silence numpy for the whole pass.
    quiet = silence()
    try:
        node = None
        check_nan = state.anomaly and state.anomaly_check_nan
        try:
            while ready:
                node = ready.pop()
                g = grads.pop(node)
                owned.discard(id(g))   # from here on g may be shared (a rule can pass it through)
                if node.hooks:
                    for hooks in node.hooks:
                        g = _run_hooks(hooks, g)
                if capture_ids is not None and id(node) in capture_ids:
                    captured[id(node)] = g
                if node.retained:
                    for t in node.retained:
                        _store_grad(t, g, create_graph, handed_out, accumulate=False)
                if node.freed:
                    raise RuntimeError(_FREED)
                if node.epoch != epoch:
                    _check_versions(node)
                op = node.op
                args = node.args
                kw = node.kw
                if create_graph:
                    if type(g) is not Tensor:
                        g = Tensor._from_array(np.asarray(g))
                    ans = Tensor._from_array(node.ans)
                    ans._grad_fn = node
                    ans._requires_grad = True
                    if node.ans_tangent is not None:
                        ans._tangent = (state.forward_token, node.ans_tangent)
                    rule_args = args
                else:
                    ans = node.ans
                    rule_args = [a._data if type(a) is Tensor else a for a in args]
                rules = op.vjps
                variadic = op.variadic
                for i, key in node.edges:
                    a = args[i]
                    gi = rules(i, g, ans, *rule_args, **kw) if variadic else rules[i](g, ans, *rule_args, **kw)
                    if gi is None:
                        continue
                    if check_nan and _has_nan(gi):
                        raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
                    data = a._data
                    if gi.shape != data.shape:
                        gi = unbroadcast(gi, data.shape)
                    if gi.dtype != data.dtype:
                        gi = gi.to(a.dtype) if type(gi) is Tensor else np.asarray(gi).astype(data.dtype)
                    parent = key if type(key) is Node else None
                    if key in grads:
                        grads[key] = _accumulate(grads[key], gi, owned, gi is not g)
                    else:
                        grads[key] = gi
                        if gi is not g and type(gi) is _ndarray and gi.base is None:
                            owned.add(id(gi))   # a fresh array of this pass: later contributions add in place
                        if parent is None:
                            leaves.append(key)
                    if parent is None:
                        continue
                    remaining = counts[parent] - 1
                    counts[parent] = remaining
                    if remaining == 0:
                        ready.append(parent)
                if not retain_graph and op.saves:
                    node.freed = True
        except Exception:
            if state.anomaly and node is not None:
                from .autograd.anomaly_mode import warn_failed
                warn_failed(node)
            raise
        for leaf in leaves:
            g = grads.pop(leaf, None)
            if g is None:
                continue
            if leaf._backward_hooks:
                g = _run_hooks(leaf._backward_hooks, g)
            if capture_ids is not None:
                if id(leaf) not in capture_ids:
                    continue
                captured[id(leaf)] = g
                if not accumulate:
                    continue
            if accumulate:
                _store_grad(leaf, g, create_graph, handed_out, accumulate=True)
    finally:
        state.grad_enabled = previous_mode
        restore(quiet)
    if capture is None:
        return None
    return [captured.get(id(_key(t))) for t in capture]


def _has_nan(g) -> bool:
    return bool(np.isnan(g._data if type(g) is Tensor else g).any())


def _accumulate(total, g, owned, new):
    """total + g, in place when ``total`` is an array this pass created (no one else holds it), or else when
    ``g`` is (``new``: a rule's result, not the cotangent passed on; a fresh array, not a view)."""
    if type(g) is _ndarray and g.shape == total.shape and g.dtype == total.dtype:
        if id(total) in owned:
            np.add(total, g, out=total)
            return total
        if new and g.base is None and type(total) is _ndarray:
            np.add(g, total, out=g)
            owned.add(id(g))
            return g
    out = total + g
    if type(out) is _ndarray:
        owned.add(id(out))
    return out


def _store_grad(t: Tensor, g, create_graph, handed_out, accumulate):
    if isinstance(g, Tensor):
        if not create_graph:
            g = g._data
    if create_graph:
        g = g if isinstance(g, Tensor) else Tensor._from_array(np.asarray(g))
        if accumulate and t._grad is not None:
            t._grad = t._grad + g
        else:
            t._grad = g
        return
    g = np.asarray(g)
    if accumulate and t._grad is not None:
        existing = t._grad
        if existing._requires_grad:
            t._grad = existing + Tensor._from_array(g)
        else:
            existing._data += g
            existing._bump_version()
        return
    if id(g) in handed_out or g.base is not None or not g.flags.writeable:
        g = g.copy()
    handed_out.add(id(g))
    t._grad = Tensor._from_array(g)


def backward(tensor: Tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    roots, grads = _prepare_roots([tensor], [gradient], create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not inputs:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    run_backward(roots, grads, retain_graph, create_graph, capture=inputs, accumulate=True)


def _prepare_roots(outputs, grad_outputs, create_graph):
    roots, grads = [], []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._data.dtype.kind != "f":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{out.dtype}")
            g = np.ones(out._data.shape, dtype=out._data.dtype)
        else:
            if not isinstance(g, Tensor):
                g = Tensor._from_array(np.asarray(g, dtype=out._data.dtype))
            if g._data.shape != out._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {_size(g._data.shape)} "
                                   f"and output[{i}] has a shape of {_size(out._data.shape)}.")
            g = g if create_graph else g._data
        roots.append(out)
        grads.append(g)
    return roots, grads


def _size(shape) -> str:
    return repr(Size(shape))
