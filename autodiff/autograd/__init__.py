"""torch.autograd's API: grad, backward, the functional transforms, forward mode and gradient checks."""
from __future__ import annotations

from ..engine import _prepare_roots, run_backward
from ..grad_mode import enable_grad, no_grad, set_grad_enabled
from ..tensor import Tensor
from . import forward_ad  # noqa: F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly

__all__ = ["grad", "backward", "forward_ad", "no_grad", "enable_grad", "set_grad_enabled", "detect_anomaly",
           "set_detect_anomaly"]


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
                from ..creation import zeros_like
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
            import numpy as np
            g = np.asarray(g)
            out.append(Tensor._from_array(g.copy() if g.base is not None or not g.flags.writeable else g))
    return tuple(out)


from . import functional  # noqa: E402  (after grad: the transforms are built on it)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402

__all__ += ["functional", "gradcheck", "gradgradcheck", "GradcheckError"]
