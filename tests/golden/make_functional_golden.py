"""Regenerate tests/golden/functional.json from torch 2.13 (run from the repository root):

    python tests/golden/make_functional_golden.py

Stores torch.autograd.functional's results for every case of ``functional_cases.py`` (values, shapes and
tuple structure), the derivatives of its create_graph=True results, and the exception type and message of
every call that must fail, so tests/test_functional.py runs the same comparisons without torch.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import functional_cases as fc  # noqa: E402


def golden() -> dict:
    import torch
    return {"torch_version": torch.__version__, "results": fc.run_all(torch),
            "errors": fc.run_errors(torch, "torch")}


if __name__ == "__main__":
    (HERE / "functional.json").write_text(json.dumps(golden(), indent=1, sort_keys=True) + "\n")
