"""An optimizer's state as ``state_dict()`` packs it and ``load_state_dict()`` restores it, as torch's: parameters
replaced by their position across all groups, and state tensors copied back cast to their parameter's dtype."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

import autodiff as ad

from ._state import new_state_tensor

__all__ = ["packed_state", "restored_state"]


def packed_state(state, param_groups) -> dict[str, Any]:
    """``{"state": {index: {...}}, "param_groups": [...]}`` with each parameter replaced by its position (0, 1,
    ...) across all groups; the state tensors are the live ones."""
    index_of: dict[int, int] = {}
    start = 0

    def pack_group(group):
        nonlocal start
        packed = {k: v for k, v in group.items() if k != "params"}
        index_of.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in index_of})
        packed["params"] = [index_of[id(p)] for p in group["params"]]
        start += len(packed["params"])
        return packed

    groups = [pack_group(g) for g in param_groups]
    packed = {(index_of[id(k)] if isinstance(k, ad.Tensor) else k): v for k, v in state.items()}
    return {"state": packed, "param_groups": groups}


def restored_state(state_dict, groups, scalar_state_keys) -> tuple[defaultdict, list]:
    """The state and param groups a ``state_dict()`` describes for an optimizer whose groups are ``groups``: the
    saved hyperparameters with the live parameters, and copies of the state tensors (cast to the parameter's
    dtype, except the 0-d ``scalar_state_keys``)."""
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

    def cast(param, value, key=None):
        if isinstance(value, ad.Tensor):
            array, dtype = value.numpy(force=True), param.numpy(force=True).dtype
            if key not in scalar_state_keys and np.issubdtype(dtype, np.floating):
                return new_state_tensor(array.astype(dtype, copy=True))
            return new_state_tensor(array.copy())
        if isinstance(value, dict):
            return {k: cast(param, v, key=k) for k, v in value.items()}
        if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
            return type(value)(cast(param, v) for v in value)
        return value

    state: defaultdict = defaultdict(dict)
    for k, v in state_dict["state"].items():
        if k in id_map:
            state[id_map[k]] = cast(id_map[k], v)
        else:
            state[k] = v

    def update_group(group, new_group):
        new_group["params"] = group["params"]
        if "param_names" in group and "param_names" not in new_group:
            new_group["param_names"] = group["param_names"]
        return new_group

    return state, [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
