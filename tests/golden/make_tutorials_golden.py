"""Regenerate tests/golden/tutorials.json: torch 2.13 running the programs of tests/tutorial_cases.py.

    python tests/golden/make_tutorials_golden.py
"""
from __future__ import annotations

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import tutorial_cases as cases  # noqa: E402

GOLDEN = HERE / "tutorials.json"


def torch_results() -> dict:
    import torch
    torch.manual_seed(0)
    return {"from_scratch": cases.linear_regression_from_scratch(torch),
            "concise": cases.linear_regression_concise(torch, torch.optim),
            "autograd_tutorial": cases.autograd_tutorial(torch, torch.optim)}


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(torch_results(), indent=1) + "\n")
    print(f"wrote {GOLDEN}")
