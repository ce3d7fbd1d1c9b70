"""Reverse mode: the backward pass over the recorded graph.

Nodes run in the reverse of the order they were recorded (each node has a sequence number, and every consumer of
a node was recorded after it), taken from a heap of the nodes that have received a cotangent: so all of a node's
cotangents are summed before its rules run, with no separate pass to count dependencies and no recursion (a
graph tens of thousands of ops deep is fine), broadcasting is undone here once for all ops,
and leaves accumulate into ``.grad`` as torch's AccumulateGrad does.
"""
from __future__ import annotations

import heapq

import numpy as np

from ._quiet import restore, silence
from .anomaly import warn_failed
from .creation import zeros_like
from .grad_mode import state
from .node import POST_HOOKS, Node, sequence
from .tensor import Size, Tensor, post_accumulate_grad_hooks
from .inplace import check_versions
from .views import unbroadcast

__all__ = ["backward", "grad", "tensor_backward", "run_backward"]

_ndarray = np.ndarray
_IN_PLACE = 4096     # arrays above this many elements are summed in place where the pass owns them

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they have "
          "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
          "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
          "if you need to access saved tensors after calling backward.")


def _key(t: Tensor):
    node = t.grad_fn
    return t if node is None else node


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
    backward_pass = _Pass(roots, root_grads, retain_graph, create_graph, capture)
    previous_mode = state.grad_enabled
    state.grad_enabled = create_graph
    # Rules may divide by values a later where() masks (torch never warns): silence numpy for the whole pass.
    quiet = silence()
    try:
        backward_pass.run_nodes()
        backward_pass.finish_leaves(accumulate)
    finally:
        state.grad_enabled = previous_mode
        restore(quiet)
    if capture is None:
        return None
    return [backward_pass.captured.get(id(_key(t))) for t in capture]


class _Pass:
    """One backward pass: the cotangents waiting at each node or leaf, and the heap of the nodes holding one,
    latest recorded first (by then every consumer of a node has run)."""

    def __init__(self, roots, root_grads, retain_graph, create_graph, capture):
        grads = self.grads = {}
        for r, g in zip(roots, root_grads):
            key = _key(r)
            grads[key] = grads[key] + g if key in grads else g
        self.ready = [(-k.seq, k) for k in grads if type(k) is Node]
        heapq.heapify(self.ready)
        self.leaves = [k for k in grads if type(k) is Tensor]
        self.captured = {}
        self.capture_ids = None if capture is None else {id(_key(t)): t for t in capture}
        self.handed_out = {id(g) for g in root_grads}      # arrays the caller holds: never stored as .grad
        self.owned = set()                                 # ids of arrays this pass made: summed into in place
        self.retain_graph = retain_graph
        self.create_graph = create_graph
        self.epoch = state.epoch
        self.check_nan = state.anomaly and state.anomaly_check_nan

    def run_nodes(self):
        ready, grads, owned, epoch = self.ready, self.grads, self.owned, self.epoch
        plain = self.capture_ids is None
        node = None
        try:
            while ready:
                node = heapq.heappop(ready)[1]
                g = grads.pop(node)
                if owned:
                    owned.discard(id(g))   # from here on g may be shared (a rule can pass it through)
                if not plain or node.hooks or node.retained or node.freed or node.epoch != epoch:
                    g = self.arrive(node, g)
                self.propagate(node, g)
                if not self.retain_graph and node.op.saves:
                    node.freed = True
        except Exception:
            if state.anomaly and node is not None:
                warn_failed(node)
            raise

    def arrive(self, node, g):
        """The node's total cotangent ``g``, through its tensors' hooks, given to whoever asked for it, once the
        node is checked to be runnable."""
        if node.hooks:
            for hooks in node.hooks:
                g = _run_hooks(hooks, g)
        if self.capture_ids is not None and id(node) in self.capture_ids:
            self.captured[id(node)] = g
        if node.retained:
            for t in node.retained:
                _store_grad(t, g, self.create_graph, self.handed_out, accumulate=False)
        if node.freed:
            raise RuntimeError(_FREED)
        if node.epoch != self.epoch:
            check_versions(node)
        return g

    def propagate(self, node, g, hooked=False):
        """Run the node's VJPs and send each input's cotangent on, summed back to the input's shape and dtype."""
        if _HOOKED_NODES and not hooked and node in POST_HOOKS:
            return self.propagate_hooked(node, g)
        op, args, kw = node.op, node.args, node.kw
        # the arrays recorded with the node, unless the clock says an input may have changed since
        inputs = node.arrays if node.epoch == self.epoch else [a._data if type(a) is Tensor else a for a in args]
        if self.create_graph:
            g, ans = _recorded(node, g)
            rule_args = args
            first_new = next(sequence) if op.grad_names is not None else None   # nodes made from here on: the rules'
        else:
            ans = node.ans
            rule_args = inputs
            first_new = None
        rules, variadic, check_nan = op.vjps, op.variadic, self.check_nan
        grads, owned = self.grads, self.owned
        for i, key in node.edges:
            if variadic:
                gi = rules(i, g, ans, *rule_args, **kw)
            elif kw:
                gi = rules[i](g, ans, *rule_args, **kw)
            else:
                gi = rules[i](g, ans, *rule_args)
            if gi is None:
                continue
            if first_new is not None:
                _name_gradient(op, i, node, gi, first_new)
            if check_nan and _has_nan(gi):
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
            data = inputs[i]
            if gi.shape != data.shape:
                gi = unbroadcast(gi, data.shape)
            if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                gi = gi.to(args[i].dtype) if type(gi) is Tensor else np.asarray(gi).astype(data.dtype)
            if key in grads:
                grads[key] = _accumulate(grads[key], gi, owned, gi is not g)
            else:
                grads[key] = gi
                if type(gi) is _ndarray and gi.size > _IN_PLACE and gi is not g and gi.base is None:
                    owned.add(id(gi))   # a fresh array of this pass: later contributions add in place
                if type(key) is Node:
                    heapq.heappush(self.ready, (-key.seq, key))
                else:
                    self.leaves.append(key)

    def propagate_hooked(self, node, g):
        """``propagate`` for a node with post hooks (``Node.register_hook``): its cotangents are all computed, given
        to the hooks as ``grad_inputs`` (one per tensor input) with ``grad_outputs``, and what they return goes
        on. (The common path, ``propagate``, sends each cotangent as it is computed.)"""
        capture, self.grads = self.grads, {}
        ready, leaves = self.ready, self.leaves
        self.ready, self.leaves = [], []
        try:
            self.propagate(node, g, hooked=True)
            computed = {id(key): gi for key, gi in self.grads.items()}
        finally:
            self.grads, self.ready, self.leaves = capture, ready, leaves
        tensor_args = [i for i, a in enumerate(node.args) if type(a) is Tensor]
        keys = dict(node.edges)
        grad_inputs = tuple(_as_tensor(computed.get(id(keys[i]))) if i in keys else None for i in tensor_args)
        for hook in list(POST_HOOKS[node].values()):
            result = hook(grad_inputs, (_as_tensor(g),))
            if result is not None:
                grad_inputs = tuple(result)
        for i, gi in zip(tensor_args, grad_inputs):
            if gi is not None and i in keys:
                self.send(keys[i], gi if self.create_graph else gi._data)

    def send(self, key, gi):
        """One cotangent on to its node (queued the first time) or leaf, added to what it already has."""
        grads = self.grads
        if key in grads:
            grads[key] = grads[key] + gi
        else:
            grads[key] = gi
            if type(key) is Node:
                heapq.heappush(self.ready, (-key.seq, key))
            else:
                self.leaves.append(key)

    def finish_leaves(self, accumulate):
        """Each leaf's total, through its hooks: captured, and (``accumulate``) added into its ``.grad``."""
        for leaf in self.leaves:
            g = self.grads.pop(leaf, None)
            if g is None:
                continue
            if leaf._backward_hooks:
                g = _run_hooks(leaf._backward_hooks, g)
            if self.capture_ids is not None:
                if id(leaf) not in self.capture_ids:
                    continue
                self.captured[id(leaf)] = g
            if accumulate:
                _store_grad(leaf, g, self.create_graph, self.handed_out, accumulate=True)
                hooks = post_accumulate_grad_hooks(leaf)
                if hooks:
                    for hook in list(hooks.values()):
                        hook(leaf)


def _recorded(node, g):
    """Under create_graph the rules run on tensors: the cotangent and the node's output as tensors (the output
    with its node, so that rules reading it are differentiated through it, and its tangent in forward mode)."""
    if type(g) is not Tensor:
        g = Tensor._from_array(np.asarray(g))
    ans = Tensor._from_array(node.ans)
    ans._grad_fn = node
    ans._requires_grad = True
    if node.ans_tangent is not None:
        ans._tangent = (state.forward_token, node.ans_tangent)
    return g, ans


def _name_gradient(op, i, node, gi, first_new):
    """Give the node that a rule's recorded result ends in torch's name for it (``TanhBackwardBackward0`` where
    autodiff's rule ends in a product), if the rule made that node (not a cotangent passed through)."""
    grad_fn = gi._grad_fn if type(gi) is Tensor else None
    if grad_fn is not None and type(grad_fn) is Node and grad_fn.seq > first_new:
        name = op.grad_name(i, node)
        if name is not None:
            grad_fn.name_override = name


_HOOKED_NODES = POST_HOOKS.data     # the weak dictionary's own dict: its truth is a C-level check, per node


def _as_tensor(g):
    return g if g is None or type(g) is Tensor else Tensor._from_array(np.asarray(g))


def _has_nan(g) -> bool:
    return bool(np.isnan(g._data if type(g) is Tensor else g).any())


def _accumulate(total, g, owned, new):
    """total + g, in place when ``total`` is an array this pass created (no one else holds it), or else when
    ``g`` is (``new``: a rule's result, not the cotangent passed on; a fresh array, not a view). Small arrays
    are simply added: in place saves nothing there but the bookkeeping."""
    if type(g) is _ndarray and g.size > _IN_PLACE and g.shape == total.shape and g.dtype == total.dtype:
        if id(total) in owned:
            np.add(total, g, out=total)
            return total
        if new and g.base is None and type(total) is _ndarray:
            np.add(g, total, out=g)
            owned.add(id(g))
            return g
    out = total + g
    if type(out) is _ndarray and out.size > _IN_PLACE:
        owned.add(id(out))
    return out


def _store_grad(t: Tensor, g, create_graph, handed_out, accumulate):
    if not create_graph and type(g) is _ndarray and accumulate and t._grad is not None \
            and not t._grad._requires_grad:
        existing = t._grad          # the common case (an optimizer's loop): add into the existing .grad
        existing._data += g
        existing._bump_version()
        return
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


def tensor_backward(tensor: Tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """``tensor.backward(...)``: accumulate the gradient of ``tensor`` w.r.t. the graph leaves into ``.grad``."""
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
            g = np.empty(out._data.shape, dtype=out._data.dtype)   # np.ones, without its Python wrapper
            g.fill(1)
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


# -- the API (autodiff.autograd.backward and .grad) ----------------------------------------------------------

def _as_list(x):
    if x is None:
        return None
    return [x] if isinstance(x, Tensor) else list(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` (w.r.t. the graph leaves) into ``.grad``."""
    tensors = _as_list(tensors)
    grad_tensors = _as_list(grad_tensors) or [None] * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs")
    roots, grads = _prepare_roots(tensors, grad_tensors, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(roots, grads, retain_graph, create_graph, capture=_as_list(inputs), accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` w.r.t. ``inputs``, returned (not accumulated into ``.grad``)."""
    outputs = _as_list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = _as_list(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grad_outputs = _as_list(grad_outputs) or [None] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad_outputs must have the same length as outputs: got {len(grad_outputs)} and "
                           f"{len(outputs)}")
    roots, grads = _prepare_roots(outputs, grad_outputs, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(roots, grads, retain_graph, create_graph, capture=inputs, accumulate=False)
    out = []
    for index, (t, g) in enumerate(zip(inputs, results)):
        if g is None:
            if materialize_grads:
                out.append(zeros_like(t))
                continue
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {index} appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the desired behavior.")
            out.append(None)
            continue
        if isinstance(g, Tensor):
            out.append(g)
        else:
            g = np.asarray(g)
            out.append(Tensor._from_array(g.copy() if g.base is not None or not g.flags.writeable else g))
    return tuple(out)
