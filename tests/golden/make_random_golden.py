"""Regenerate tests/golden/random.json from torch 2.13 (run from the repository root):

    python tests/golden/make_random_golden.py

Stores torch's numbers for each case of random_cases.py after ``torch.manual_seed(seed)``, so that
tests/test_random_parity.py checks ours without torch.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from random_cases import CASES  # noqa: E402


def main() -> None:
    import torch

    out = {}
    for name, seed, draw in CASES:
        torch.manual_seed(seed)
        values = draw(torch)
        out[name] = {"dtype": str(values.dtype).removeprefix("torch."), "values": values.detach().tolist()}
    (HERE / "random.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
