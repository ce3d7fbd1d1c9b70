"""torch's checks and refusals, with torch's messages: learning rates, kernel flags, and the
multi-tensor (foreach) paths' failures on tensor scalars."""

from __future__ import annotations

import numpy as np

import autodiff as ad

from ._hyperparameters import to_scalar

__all__ = ["check_betas", "check_kernel_flags", "check_lr", "check_nonnegative", "check_step_flags", "foreach_addcdiv_type_error",
           "foreach_scalar_tensor_error", "takes_foreach_path", "typename"]


_TENSOR_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor",
                      "int32": "IntTensor", "bool": "BoolTensor", "float16": "HalfTensor"}


def typename(obj) -> str:
    """``torch.typename``'s wording: ``autodiff.FloatTensor`` for a tensor, ``module.Class`` otherwise."""
    if isinstance(obj, ad.Tensor):
        dtype = obj.numpy(force=True).dtype
        return "autodiff." + _TENSOR_TYPE_NAMES.get(str(dtype), "Tensor")
    cls = type(obj)
    module = cls.__module__
    if module in ("builtins", "__builtin__", None):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def scalar_dtype() -> np.dtype:
    """The dtype torch gives ``state['step']``: float64 under a float64 default dtype, else float32."""
    return np.dtype(np.float64) if ad.get_default_dtype() == ad.float64 else np.dtype(np.float32)


def takes_foreach_path(group) -> bool:
    """Whether torch would run this group through its multi-tensor kernel and reach its
    arithmetic: ``foreach=True``, something to update, and no flag that fails first."""
    return bool(group.get("foreach")) and not group.get("capturable") and not group.get(
        "differentiable") and any(p.grad is not None for p in group["params"])


def foreach_scalar_tensor_error() -> RuntimeError:
    """What torch's multi-tensor kernels raise for a 0-d tensor where a ``_foreach_addcmul_``
    takes its scalar positionally (RAdam's and NAdam's ``1 - beta2``)."""
    return RuntimeError("Expected packed scalar Tensor to be of dimension 1. Got 0 instead.")


def foreach_addcdiv_type_error(group, third: str = "list") -> TypeError:
    """What torch's multi-tensor kernels raise when their step sizes are 0-d tensors (a tensor
    beta1 in Adamax and NAdam, a tensor momentum_decay in NAdam): ``_foreach_addcdiv_`` has no
    overload for a list of tensors as scalars. torch's message counts the tensors of the
    (device, dtype) group that fails first: taken here as the first parameter's dtype (torch's
    order of several dtype groups in one parameter group is that of its C++ map)."""
    with_grad = [p for p in group["params"] if p.grad is not None]
    dtype = with_grad[0].numpy(force=True).dtype if with_grad else None
    count = sum(1 for p in with_grad if p.numpy(force=True).dtype == dtype)
    tensors = ", ".join(["Tensor"] * count)
    listed = f"list of [{tensors}]"
    third_listed = listed if third == "list" else f"tuple of ({tensors}{',' if count == 1 else ''})"
    mismatch = f"(!{listed}!, !{listed}!, !{third_listed}!, !{listed}!)"
    overloads = ["tuple of Scalars scalars", "Tensor scalars", "Number value = 1"]
    return TypeError(
        f"_foreach_addcdiv_() received an invalid combination of arguments - got (list, list, {third}, "
        "list), but expected one of:\n"
        + "".join(f" * (tuple of Tensors self, tuple of Tensors tensor1, tuple of Tensors tensor2, "
                  f"{overload})\n      didn't match because some of the arguments have invalid "
                  f"types: {mismatch}\n" for overload in overloads))


def check_lr(lr) -> None:
    """torch's learning-rate check, shared by most optimizers."""
    if isinstance(lr, ad.Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= to_scalar(lr):
        raise ValueError(f"Invalid learning rate: {lr}")


#: How torch's messages name a hyperparameter where that is not its argument's name.
_MESSAGE_NAMES = {"eps": "epsilon"}


def check_nonnegative(**values) -> None:
    """torch's ``ValueError("Invalid <name> value: <value>")`` for the first of ``values`` (in
    the order given, torch's order of checks) that is below zero."""
    for name, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_MESSAGE_NAMES.get(name, name)} value: {value}")


def check_betas(betas) -> None:
    """torch's check that each of ``betas`` is in [0, 1)."""
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


def check_kernel_flags(fused, foreach, differentiable) -> None:
    """torch's constructor checks of the kernel-choice flags (``fused`` with the others)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def check_step_flags(group, what: str = "params and state_steps", supports_xla: bool = True) -> None:
    """Fail at ``step`` as torch does on CPU for the options it cannot honour there.

    ``capturable=True`` asks for CUDA-graph-capturable state on an accelerator: torch asserts on a
    CPU tensor and so do we. ``differentiable=True`` asks for the update to be recorded by
    autograd; these kernels update numpy arrays in place, so that is refused rather than ignored.
    """
    if group.get("capturable"):
        devices = ["cuda", "xpu", "hpu", "privateuseone"] + (["xla"] if supports_xla else [])
        raise AssertionError(f"If capturable=True, {what} must be on supported devices: {devices}.")
    if group.get("differentiable"):
        raise NotImplementedError(
            "differentiable=True (recording the optimizer step in the autograd graph) is not "
            "supported: this optimizer updates its tensors' storage in place with numpy"
        )
