"""The optimizer base class: torch.optim.Optimizer's contract on autodiff tensors.

The class keeps what torch's keeps (``defaults``, ``param_groups``, ``state``) and validates the
same way with the same messages. It also owns the bookkeeping every optimizer shares: the loop
over parameters with a gradient, their lazily made state, the step counter, the kernel-flag checks
and the flags restored on loading. A subclass is its validation plus a call to its kernel, a plain
numpy function of :mod:`optimizers._functional` that updates arrays in place.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import autodiff as ad

from ._checks import (check_betas, check_kernel_flags, check_lr, check_nonnegative, check_step_flags,
                      foreach_addcdiv_type_error, foreach_scalar_tensor_error, takes_foreach_path,
                      typename)
from ._hooks import (RemovableHandle, register_optimizer_step_post_hook,
                     register_optimizer_step_pre_hook, with_step_hooks)
from ._hyperparameters import (hyperparameter, hyperparameter_reader, hyperparameters,
                               is_tensor_value, to_scalar)
from ._param_groups import new_group, required
from ._state import advance_step, new_state_tensor, scalar_dtype, step_state, zeros_state
from ._state_dict import packed_state, restored_state

__all__ = [
    "Optimizer",
    "RemovableHandle",
    "register_optimizer_step_pre_hook",
    "register_optimizer_step_post_hook",
    "required",
    # the subclasses' helpers, kept importable from here
    "advance_step", "check_betas", "check_kernel_flags", "check_lr", "check_nonnegative",
    "check_step_flags", "foreach_addcdiv_type_error", "foreach_scalar_tensor_error", "hyperparameter",
    "hyperparameter_reader", "hyperparameters",
    "is_tensor_value", "new_state_tensor", "scalar_dtype", "step_state", "takes_foreach_path",
    "to_scalar", "typename", "zeros_state",
]


class Optimizer:
    """Base class of every optimizer, with torch.optim.Optimizer's contract.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts each with a
            ``"params"`` entry and per-group hyperparameters.
        defaults: the hyperparameters' default values, used for every group that does not set them.

    A subclass validates its hyperparameters and calls ``super().__init__(params, defaults)``;
    :meth:`step` then runs the loop every optimizer shares, and the subclass says only what is its
    own (see "How to add an optimizer" in the docs):

    * :meth:`_read_group` reads a group's hyperparameters once per step;
    * :meth:`_update` updates one parameter with them: a call of the kernel;
    * :meth:`_init_state` fills a parameter's state on its first step (after ``state["step"]``);
    * the class attributes below declare the rest.

    An optimizer whose step is not one update per parameter (L-BFGS) overrides :meth:`step`.
    """

    #: Group options and their defaults, filled into every group by ``__setstate__`` (loading a
    #: state dict or a pickle saved without them), as torch's ``__setstate__`` overrides do.
    _flag_defaults: Mapping[str, Any] = MappingProxyType({})
    #: Whether each parameter's state keeps ``step`` (a 0-d float tensor, float32 under
    #: ``fused``), made first and advanced before each update, the new count passed to it.
    _counts_steps: bool = True
    #: The state buffers made as zeros shaped like the parameter, in this order, by the default
    #: :meth:`_init_state` (after ``step``).
    _zero_buffers: tuple[str, ...] = ()
    #: The running maximum of the second moment made too when a group sets ``amsgrad``.
    _amsgrad_buffer: str | None = None
    #: Whether a parameter's state is made on its first step and passed to the update; without,
    #: the update gets ``None`` and keeps what it needs itself (SGD: only with momentum).
    _lazy_state: bool = True
    #: What torch's ``capturable=True`` assertion names: its kernel's tensor lists, and whether
    #: it lists xla among the supported devices (see :func:`~optimizers._checks.check_step_flags`).
    _capturable_tensors: str = "params and state_steps"
    _capturable_supports_xla: bool = True

    #: 0-d bookkeeping tensors that ``load_state_dict`` leaves in their own dtype. torch keeps only
    #: ``step``'s and casts the rest to the parameter's dtype, which would make a float64 NAdam or
    #: ASGD run resumed from a state dict differ from the uninterrupted run.
    _scalar_state_keys: tuple[str, ...] = ("step",)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = with_step_hooks(step)

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
        self.param_groups.append(new_group(param_group, self.defaults, self.param_groups))

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
                        grad.numpy(force=True).fill(0)

    @with_step_hooks
    def step(self, closure=None):
        """Perform one optimization step; returns the closure's loss (or None)."""
        loss = None if closure is None else self._evaluate_closure(closure)
        states, update = self.state, self._update
        counts_steps, lazy_state = self._counts_steps, self._lazy_state
        for group in self.param_groups:
            hyper = self._read_group(group)
            # torch asserts (capturable) or refuses (differentiable) per parameter, after making
            # its state; one look per group keeps the usual case free of the check
            check_flags = group.get("capturable") or group.get("differentiable")
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                if not lazy_state:
                    update(param, grad, None, None, hyper)
                    continue
                state = states[param]
                if not state:
                    self._fill_state(state, param, group)
                if check_flags:
                    check_step_flags(group, self._capturable_tensors, self._capturable_supports_xla)
                update(param, grad, state, advance_step(state["step"]) if counts_steps else None,
                       hyper)
        return loss

    def _read_group(self, group: dict[str, Any]) -> tuple:
        """``group``'s hyperparameters and options as :meth:`_update` takes them, read once per
        step (a plain tuple: this runs on every step, where a named one costs a microsecond)."""
        raise NotImplementedError

    def _update(self, param: ad.Tensor, grad: ad.Tensor, state: dict | None, step: float | None,
                hyper: tuple) -> None:
        """Update one parameter in place: a call of the optimizer's kernel. ``state`` is the
        parameter's (``None`` without ``_lazy_state``), ``step`` the new count (``None`` without
        ``_counts_steps``), ``hyper`` what :meth:`_read_group` returned."""
        raise NotImplementedError

    def _init_state(self, state: dict, param: ad.Tensor, group: dict[str, Any]) -> None:
        """Fill the empty ``state`` of ``param`` on its first step (``state["step"]`` is made
        before, when the optimizer counts steps): by default, the declared ``_zero_buffers`` and
        ``_amsgrad_buffer``."""
        for key in self._zero_buffers:
            state[key] = zeros_state(param)
        if self._amsgrad_buffer is not None and group["amsgrad"]:
            state[self._amsgrad_buffer] = zeros_state(param)

    def _fill_state(self, state: dict, param: ad.Tensor, group: dict[str, Any]) -> None:
        """A parameter's initial state: the step counter first (torch's key order), then the
        optimizer's own buffers."""
        if self._counts_steps:
            state["step"] = step_state(group.get("fused"))
        self._init_state(state, param, group)

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
        state_dict = packed_state(self.state, self.param_groups)
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
        self.state, self.param_groups = restored_state(state_dict, self.param_groups, self._scalar_state_keys)
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
        for group in self.param_groups:
            for name, default in self._flag_defaults.items():
                group.setdefault(name, default)

    # ------------------------------------------------------------------------------------ print
    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"
