"""Regenerate the committed golden data from torch 2.13 (run from the repository root):

    python tests/golden/optimizers/make_optimizer_golden.py

Writes ``trajectories.npz`` (every parameter and state tensor after every step of every row of
the parity tables, as torch computes them) and ``torch_text.json`` (torch's printouts and error
messages), so the optimizer tests run the same checks without torch installed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import optimizer_cases as oc  # noqa: E402


def trajectories() -> dict[str, np.ndarray]:
    arrays = {}
    for case in oc.CASES:
        record, _ = oc.run_torch(case)
        arrays.update({f"{case[0]}|{k}": v for k, v in record.items()})
    for case in oc.OTHER_SHAPE_CASES:
        record, _ = oc.run_torch(case, shapes=oc.OTHER_SHAPES)
        arrays.update({f"{case[0]}|{k}": v for k, v in record.items()})
    for name, kwargs in oc.LBFGS_CASES:
        arrays.update({f"{name}|{k}": v for k, v in oc.run_lbfgs_torch(kwargs).items()})
    for name, kwargs in oc.LBFGS_FLOAT32_CASES:
        record = oc.run_lbfgs_torch(kwargs, oc.LBFGS_FLOAT32_STEPS, "float32", oc.LBFGS_FLOAT32_START)
        arrays.update({f"{name}|{k}": v for k, v in record.items()})
    for case in oc.MUON_CASES:
        record, _ = oc.run_torch(case, shapes=oc.MUON_SHAPES)
        arrays.update({f"{case[0]}|{k}": v for k, v in record.items()})
        record, _ = oc.run_torch_float64_newton_schulz(case)
        arrays.update({f"{case[0]}-float64-ns|{k}": v for k, v in record.items()})
    return arrays


def torch_text() -> dict:
    import torch

    def params(cls):
        shape = (2, 2) if cls == "Muon" else (2,)
        return [torch.zeros(shape, requires_grad=True)]

    reprs = [repr(getattr(torch.optim, cls)(params(cls), **kwargs)) for cls, kwargs in oc.REPR_CASES]
    errors = []
    for cls, kwargs in oc.ERROR_CASES:
        try:
            getattr(torch.optim, cls)(params(cls), **kwargs)
        except Exception as error:  # noqa: BLE001 - recording whatever torch raises
            errors.append([type(error).__name__, str(error)])
        else:
            raise AssertionError(f"torch accepted {cls}({kwargs})")
    return {"torch_version": torch.__version__, "reprs": reprs, "errors": errors}


def main() -> None:
    np.savez_compressed(HERE / "trajectories.npz", **trajectories())
    (HERE / "torch_text.json").write_text(json.dumps(torch_text(), indent=1) + "\n")


if __name__ == "__main__":
    main()
