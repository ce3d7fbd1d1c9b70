"""The optimizer base class: torch.optim.Optimizer's contract on autodiff tensors.

The class keeps what torch's keeps (``defaults``, ``param_groups``, ``state``) and validates the
same way with the same messages; the arithmetic lives in :mod:`optimizers._functional` as plain
numpy functions that update arrays in place.
"""

from __future__ import annotations

import functools
import operator
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

import autodiff as ad
from autodiff.utils.hooks import RemovableHandle

from ._functional._scalars import TensorScalar, tensor_scalar

__all__ = [
    "Optimizer",
    "RemovableHandle",
    "register_optimizer_step_pre_hook",
    "register_optimizer_step_post_hook",
    "required",
]


class _RequiredParameter:
    """Marks a hyperparameter without a default: every group must set it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


_global_step_pre_hooks: OrderedDict = OrderedDict()
_global_step_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``."""
    handle = RemovableHandle(_global_step_pre_hooks)
    _global_step_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``."""
    handle = RemovableHandle(_global_step_post_hooks)
    _global_step_post_hooks[handle.id] = hook
    return handle


def _with_step_hooks(step):
    """Wrap a subclass's ``step`` so registered pre/post hooks run around it (as torch does)."""

    @functools.wraps(step)
    def hooked_step(self, *args, **kwargs):
        # Fast path: the runner calls step() thousands of times without any hook.
        if not (self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks
                or _global_step_pre_hooks or _global_step_post_hooks):
            return step(self, *args, **kwargs)
        for pre_hook in chain(_global_step_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if isinstance(result, tuple) and len(result) == 2:
                    args, kwargs = result
                else:
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                    )
        out = step(self, *args, **kwargs)
        for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_step_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    hooked_step.hooked = True
    return hooked_step


_TENSOR_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor",
                      "int32": "IntTensor", "bool": "BoolTensor", "float16": "HalfTensor"}


def typename(obj) -> str:
    """``torch.typename``'s wording: ``autodiff.FloatTensor`` for a tensor, ``module.Class`` otherwise."""
    if isinstance(obj, ad.Tensor):
        return "autodiff." + _TENSOR_TYPE_NAMES.get(str(np.dtype(obj._data.dtype)), "Tensor")
    cls = type(obj)
    module = cls.__module__
    if module in ("builtins", "__builtin__", None):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def scalar_dtype() -> np.dtype:
    """The dtype torch gives ``state['step']``: float64 under a float64 default dtype, else float32."""
    return np.dtype(np.float64) if ad.get_default_dtype() == ad.float64 else np.dtype(np.float32)


def to_scalar(x):
    """A hyperparameter as a Python number (a 1-element tensor is accepted, as in torch)."""
    if isinstance(x, ad.Tensor):
        return x._data.item()
    return x


def hyperparameter(value, name: str, squeeze: bool = False, number: bool = False):
    """A group's hyperparameter as the functional code computes with it, read once per step.

    A number stays as it is. A 0-d tensor (as torch 2.13 accepts for most hyperparameters)
    becomes a :class:`~optimizers._functional._scalars.TensorScalar`, which computes in the
    tensor's dtype as torch does, or with ``number`` (a hyperparameter torch only passes on as a
    number: an ``alpha=``, a multiplier) a Python float; an integer tensor becomes an int. A
    1-element tensor is read as 0-d where torch squeezes it (``squeeze``: ``lr``, Adam's betas);
    elsewhere a hyperparameter must be a number or a 0-d tensor (torch's kernels take a
    1-element one only here and there, by accident of broadcasting).
    """
    if not isinstance(value, ad.Tensor):
        return value
    array = value._data
    if array.ndim and not (squeeze and array.size == 1):
        raise TypeError(f"{name} must be a number or a 0-dim tensor, but got a tensor of shape "
                        f"{tuple(array.shape)}")
    scalar = tensor_scalar(array)
    return float(scalar) if number and isinstance(scalar, TensorScalar) else scalar


def hyperparameters(group: dict, *names: str, squeezed: tuple[str, ...] = ("lr",),
                    numbers: tuple[str, ...] = ()) -> tuple:
    """:func:`hyperparameter` for each of ``names`` (a tuple, such as ``betas``, element by
    element); ``squeezed`` and ``numbers`` name those read with ``squeeze`` and ``number``."""
    values = []
    for name in names:
        value = group[name]
        options = dict(squeeze=name in squeezed, number=name in numbers)
        if isinstance(value, (tuple, list)):
            values.append(tuple(hyperparameter(v, f"{name}[{i}]", **options)
                                for i, v in enumerate(value)))
        else:
            values.append(hyperparameter(value, name, **options))
    return tuple(values)


#: A hyperparameter's types that need no conversion (a tuple's elements are checked as well).
_PLAIN_TYPES = frozenset({float, int, bool, type(None), tuple})


def hyperparameter_reader(*names: str, tuples: tuple[str, ...] = (),
                          squeezed: tuple[str, ...] = ("lr",), numbers: tuple[str, ...] = ()):
    """A function ``read(group)`` giving :func:`hyperparameters` ``(group, *names, ...)``.

    ``tuples`` names those that are tuples of numbers (``betas``). When every value is a number,
    as it nearly always is, the group's values are returned as they are after one type check of
    them and of the tuples' elements: a step of two 2-element tensors takes 5-20 us, and
    converting each hyperparameter on every step cost a microsecond of that.
    """
    get = operator.itemgetter(*names)  # two names or more: a tuple of values
    positions = [names.index(name) for name in tuples]

    def convert(group):
        return hyperparameters(group, *names, squeezed=squeezed, numbers=numbers)

    if not positions:
        def read(group):
            values = get(group)
            return values if _PLAIN_TYPES.issuperset(map(type, values)) else convert(group)
    elif len(positions) == 1:
        (k,) = positions

        def read(group):
            values = get(group)
            if type(values[k]) is not tuple:  # a list, or a tensor
                return convert(group)
            every = values + values[k]  # the values and the tuple's elements, checked at once
            return values if _PLAIN_TYPES.issuperset(map(type, every)) else convert(group)
    elif len(positions) == 2:
        k, j = positions

        def read(group):
            values = get(group)
            if type(values[k]) is not tuple or type(values[j]) is not tuple:
                return convert(group)
            every = values + values[k] + values[j]
            return values if _PLAIN_TYPES.issuperset(map(type, every)) else convert(group)
    else:
        raise NotImplementedError("at most two tuple-valued hyperparameters")

    return read


def is_tensor_value(value) -> bool:
    """Whether a converted hyperparameter (see :func:`hyperparameter`) came from a float tensor."""
    return isinstance(value, TensorScalar)


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
    dtype = with_grad[0]._data.dtype if with_grad else None
    count = sum(1 for p in with_grad if p._data.dtype == dtype)
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


def new_state_tensor(array: np.ndarray) -> ad.Tensor:
    """Wrap a freshly made ndarray as a state tensor without copying."""
    return ad.Tensor._from_array(array)


def check_lr(lr) -> None:
    """torch's learning-rate check, shared by most optimizers."""
    if isinstance(lr, ad.Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= to_scalar(lr):
        raise ValueError(f"Invalid learning rate: {lr}")


class Optimizer:
    """Base class of every optimizer, with torch.optim.Optimizer's contract.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts each with a
            ``"params"`` entry and per-group hyperparameters.
        defaults: the hyperparameters' default values, used for every group that does not set them.

    A subclass validates its hyperparameters, calls ``super().__init__(params, defaults)``, keeps
    its per-parameter buffers in ``self.state[p]`` and implements ``step(closure=None)``.
    """

    #: 0-d bookkeeping tensors that ``load_state_dict`` leaves in their own dtype. torch keeps only
    #: ``step``'s and casts the rest to the parameter's dtype, which would make a float64 NAdam or
    #: ASGD run resumed from a state dict differ from the uninterrupted run.
    _scalar_state_keys: tuple[str, ...] = ("step",)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()

        if isinstance(params, ad.Tensor):
            raise TypeError(
                "params argument given to the optimizer should be "
                "an iterable of Tensors or dicts, but got " + typename(params)
            )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ----------------------------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own hyperparameters) to ``param_groups``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, ad.Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) == len(tensors):
                param_group["param_names"] = names
            else:
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing"
                )

        for param in tensors:
            if not isinstance(param, ad.Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is " + typename(param)
                )
            if not self.defaults.get("differentiable", None) and not (
                param.is_leaf or getattr(param, "retains_grad", False)
            ):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; "
                "in future, this will cause an error; "
                "see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                current = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {current} to the optimizer"
                )
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------------------------ steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to ``None`` (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        grad = p.grad
                        if grad.grad_fn is not None:
                            # torch detaches the gradient in place; a detached alias is the same here
                            grad = p.grad = grad.detach()
                        grad._data.fill(0)

    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss (or None)."""
        raise NotImplementedError

    def _evaluate_closure(self, closure):
        """Run ``closure`` with gradients enabled (``step`` itself records no graph)."""
        if closure is None:
            return None
        with ad.enable_grad():
            return closure()

    # ------------------------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs) -> None | (args, kwargs)`` run before ``step``."""
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs)`` run after ``step``."""
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    def _register(self, hooks: OrderedDict, hook, prepend: bool) -> RemovableHandle:
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer)`` run before ``state_dict()``."""
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict) -> None | state_dict`` run after ``state_dict()``."""
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict) -> None | state_dict`` run before loading."""
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer)`` run after ``load_state_dict()``."""
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------------------- state dict
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are replaced by their position across all groups (0, 1, ...), as in torch; the
        state tensors are the live ones (copy them, or use ``copy.deepcopy``, to keep a snapshot).
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        index_of: dict[int, int] = {}
        start = 0

        def pack_group(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            index_of.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in index_of})
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {
            (index_of[id(k)] if isinstance(k, ad.Tensor) else k): v for k, v in self.state.items()
        }
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``: state tensors are copied (cast to the parameter's dtype,
        except the 0-d ``_scalar_state_keys``), so continuing gives exactly the run that was saved."""
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group "
                "that doesn't match the size of optimizer's group"
            )
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        keep_dtype = self._scalar_state_keys

        def cast(param, value, key=None):
            if isinstance(value, ad.Tensor):
                array = value._data
                if key not in keep_dtype and np.issubdtype(param._data.dtype, np.floating):
                    array = array.astype(param._data.dtype, copy=True)
                else:
                    array = array.copy()
                return new_state_tensor(array)
            if isinstance(value, dict):
                return {k: cast(param, v, key=k) for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        self.state = state
        self.param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": self.state, "param_groups": self.param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)

    # ------------------------------------------------------------------------------------ print
    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


# ------------------------------------------------------------------ helpers for the subclasses
def zeros_state(param: ad.Tensor) -> ad.Tensor:
    """A zero state buffer shaped and typed like ``param``."""
    return new_state_tensor(np.zeros_like(param._data))


def step_state(fused=False) -> ad.Tensor:
    """A fresh ``state['step']``: a 0-d float tensor, as torch makes it."""
    return new_state_tensor(np.zeros((), np.float32 if fused else scalar_dtype()))


def advance_step(step: ad.Tensor) -> float:
    """``state["step"] += 1`` in the tensor's own dtype; returns the new count.

    Assigning ``float(step) + 1`` is the float32 (or float64) addition torch does: the sum of two
    floats is exact in double and rounded once on assignment. It costs a tenth of a 0-d ufunc
    (about 1.5 us), which the runner's many small steps notice.
    """
    data = step._data
    data[()] = float(data) + 1.0
    return float(data)


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
