"""Regenerate tests/golden/nn_training.npz: torch 2.13 training every scenario of tests/nn_cases.py.

    python tests/golden/make_nn_golden.py

Stored per scenario (keys ``<scenario>|<field>[|<parameter>]``): torch's initial weights (torch.manual_seed(0)),
the losses of each step, the final weights, the model's repr and its state_dict keys.
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from nn_cases import SCENARIOS, train  # noqa: E402

GOLDEN = HERE / "nn_training.npz"


def torch_runs() -> dict:
    import torch
    runs = {}
    for scenario in SCENARIOS:
        torch.manual_seed(0)
        runs[scenario.name] = train(torch, torch.optim, scenario)
    return runs


def flatten(runs: dict) -> dict:
    flat = {}
    for name, run in runs.items():
        for field in ("initial", "final"):
            for key, value in run[field].items():
                flat[f"{name}|{field}|{key}"] = value
        flat[f"{name}|losses"] = run["losses"]
        flat[f"{name}|repr"] = np.array(run["repr"])
        flat[f"{name}|keys"] = np.array(run["keys"])
    return flat


def load() -> dict:
    runs: dict = {}
    with np.load(GOLDEN, allow_pickle=False) as data:
        for key in data.files:
            name, field, *rest = key.split("|")
            run = runs.setdefault(name, {"initial": {}, "final": {}})
            if rest:
                run[field][rest[0]] = data[key]
            elif field == "repr":
                run[field] = data[key].item()
            elif field == "keys":
                run[field] = data[key].tolist()
            else:
                run[field] = data[key]
    return runs


if __name__ == "__main__":
    np.savez_compressed(GOLDEN, **flatten(torch_runs()))
    print(f"wrote {GOLDEN} ({len(SCENARIOS)} scenarios)")
