"""The graph's nodes (``autograd.graph.Node``: name, next_functions, metadata, hooks), post-accumulate-grad hooks
and inference mode, each test run on autodiff and, when importable, on torch with the same assertions."""
from __future__ import annotations

import pytest

import autodiff as ad


@pytest.fixture(params=["autodiff", "torch"])
def m(request):
    if request.param == "torch":
        return pytest.importorskip("torch")
    return ad


def test_node_name_next_functions_and_metadata(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    node = y.grad_fn
    assert isinstance(node, m.autograd.graph.Node)
    assert node.name() == "SumBackward0" and node.next_functions[0][0].name() == "MulBackward0"
    assert node.metadata == {}
    node.metadata["note"] = 1
    assert y.grad_fn.metadata == {"note": 1}


def test_node_hooks_see_and_replace_gradients(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    calls = []
    post = y.grad_fn.register_hook(lambda gi, go: calls.append(("post", [g.tolist() for g in gi],
                                                                  [g.tolist() for g in go])))
    pre = y.grad_fn.register_prehook(lambda go: calls.append(("pre", [g.tolist() for g in go])))
    y.backward(retain_graph=True)
    assert calls == [("pre", [1.0]), ("post", [[1.0, 1.0]], [1.0])] and x.grad.tolist() == [2.0, 2.0]
    post.remove()
    pre.remove()
    y.backward(retain_graph=True)
    assert len(calls) == 2 and x.grad.tolist() == [4.0, 4.0]
    x.grad = None
    y.grad_fn.register_prehook(lambda go: (go[0] * 10,))
    y.backward(retain_graph=True)
    assert x.grad.tolist() == [20.0, 20.0]
    x.grad = None
    z = x * m.tensor([3.0, 3.0])
    z.grad_fn.register_hook(lambda gi, go: (gi[0] + 1, gi[1]))     # gi[1] is None: no gradient wanted
    z.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_post_accumulate_grad_hook(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    m.autograd.grad((x * 3).sum(), x)          # accumulates nothing: no call
    assert seen == [[3.0, 3.0], [6.0, 6.0]]
    handle.remove()
    (x * 3).sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError) as raised:
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    assert str(raised.value) == "post accumulate grad hooks cannot be registered on non-leaf tensors"
    with pytest.raises(RuntimeError) as raised:
        m.ones(2).register_post_accumulate_grad_hook(lambda t: None)
    assert str(raised.value) == "cannot register a hook on a tensor that doesn't require gradient"


def test_inference_mode(m):
    x = m.ones(2, requires_grad=True)
    with m.inference_mode():
        assert not (x * 2).requires_grad and m.is_inference_mode_enabled() and not m.is_grad_enabled()
    assert not m.is_inference_mode_enabled() and m.is_grad_enabled()
    with m.inference_mode(False):
        assert (x * 2).requires_grad and not m.is_inference_mode_enabled()

    @m.inference_mode()
    def called(t):
        return t * 2, m.is_grad_enabled()

    @m.inference_mode
    def bare(t):
        return t * 2

    assert called(x)[1] is False and not called(x)[0].requires_grad and not bare(x).requires_grad
    assert m.autograd.inference_mode is m.inference_mode
