"""What ``Optimizer.add_param_group`` checks and fills in, with torch's messages: the parameters as an ordered
list of tensors (with their names, when given as pairs), the group's defaults, and no parameter in two groups."""

from __future__ import annotations

import warnings
from typing import Any

import autodiff as ad

from ._checks import typename

__all__ = ["required", "new_group"]


class _RequiredParameter:
    """Marks a hyperparameter without a default: every group must set it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def new_group(param_group: dict[str, Any], defaults: dict[str, Any],
              groups: list[dict[str, Any]]) -> dict[str, Any]:
    """``param_group`` checked against ``defaults`` and the optimizer's ``groups``, its parameters listed and its
    missing hyperparameters filled from ``defaults`` (in place, as torch does); raises as torch does."""
    if not isinstance(param_group, dict):
        raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
    tensors, names = _listed_params(param_group["params"])
    param_group["params"] = tensors
    if names:
        if len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")
        param_group["param_names"] = names
    _check_tensors(tensors, defaults)
    for name, default in defaults.items():
        if default is required and name not in param_group:
            raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
        param_group.setdefault(name, default)
    _check_disjoint(param_group, tensors, groups)
    return param_group


def _listed_params(params) -> tuple[list, list]:
    """The group's tensors in order, and the names of those given as ``(name, tensor)`` pairs."""
    if isinstance(params, ad.Tensor):
        params = [params]
    elif isinstance(params, set):
        raise TypeError(
            "optimizer parameters need to be organized in ordered collections, but "
            "the ordering of tensors in sets will change between runs. Please use a list instead."
        )
    tensors, names = [], []
    for param in params:
        if isinstance(param, tuple):
            names.append(param[0])
            tensors.append(param[1])
        else:
            tensors.append(param)
    return tensors, names


def _check_tensors(tensors, defaults) -> None:
    for param in tensors:
        if not isinstance(param, ad.Tensor):
            raise TypeError("optimizer can only optimize Tensors, but one of the params is " + typename(param))
        if not defaults.get("differentiable", None) and not (param.is_leaf or getattr(param, "retains_grad", False)):
            raise ValueError("can't optimize a non-leaf Tensor")


def _check_disjoint(param_group, tensors, groups) -> None:
    """A parameter twice in the group is a warning (as torch); in two groups, an error."""
    ids = [id(p) for p in tensors]
    if len(ids) != len(set(ids)):
        warnings.warn(
            "optimizer contains a parameter group with duplicate parameters; "
            "in future, this will cause an error; "
            "see github.com/pytorch/pytorch/issues/40967 for more information",
            stacklevel=5,
        )
    seen: set[int] = set()
    for group in groups:
        seen.update(id(p) for p in group["params"])
        if ("param_names" in param_group) != ("param_names" in group):
            current = "with names" if "param_names" in param_group else "without names"
            raise ValueError(
                "all optimizer param groups should be with/without names. "
                f"cannot add param group {current} to the optimizer"
            )
    if not seen.isdisjoint(ids):
        raise ValueError("some parameters appear in more than one parameter group")
