"""Regenerate tests/golden/ops.npz: torch 2.13's results on every row of tests/op_cases.py.

    python tests/golden/make_ops_golden.py

Stored per row (keys ``<row id>|<field>``): the float64 inputs, the directions (v, u, w), torch's output value,
grad_fn name, VJPs, JVP (forward mode), second order by double backward and by forward-over-reverse.
tests/test_ops.py compares autodiff against this file, so the torch checks run where torch is not installed.
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from op_cases import CASES, directions, evaluate, forward_over_reverse  # noqa: E402

GOLDEN = HERE / "ops.npz"


def torch_rows(cases=CASES) -> dict:
    """{row id: fields} computed with torch (the oracle), inputs and directions included."""
    import torch
    rows = {}
    for case in cases:
        arrays = case.inputs()
        with torch.no_grad():
            out = case.fn(torch, *[torch.tensor(a) for a in arrays])
        dirs = directions(case, tuple(out.shape))
        try:
            result = evaluate(torch, case, arrays, dirs)
        except RuntimeError as error:        # no forward-AD formula in torch: evaluate without the JVP
            if "forward AD" not in str(error) and "forward-mode" not in str(error):
                raise
            result = evaluate(torch, case, arrays, dict(dirs, u=None))
        result["fwd_second"] = forward_over_reverse(torch, case, arrays, dirs)
        rows[case.id] = dict(result, inputs=arrays, **dirs)
    return rows


def flatten(rows: dict) -> dict:
    flat = {}
    for row_id, fields in rows.items():
        for key, value in fields.items():
            if value is None:
                continue
            if isinstance(value, list):
                for i, item in enumerate(value):
                    flat[f"{row_id}|{key}|{i}"] = np.asarray(item)
            else:
                flat[f"{row_id}|{key}"] = np.asarray(value)
    return flat


def load() -> dict:
    """{row id: fields} from the committed file (lists rebuilt in order)."""
    rows: dict = {}
    with np.load(GOLDEN, allow_pickle=False) as data:
        for key in data.files:
            parts = key.split("|")
            fields = rows.setdefault(parts[0], {})
            value = data[key]
            if len(parts) == 3:
                items = fields.setdefault(parts[1], {})
                items[int(parts[2])] = value
            else:
                fields[parts[1]] = value.item() if value.dtype.kind == "U" else value
    for fields in rows.values():
        for key, value in list(fields.items()):
            if isinstance(value, dict):
                fields[key] = [value[i] for i in sorted(value)]
    return rows


if __name__ == "__main__":
    np.savez_compressed(GOLDEN, **flatten(torch_rows()))
    print(f"wrote {GOLDEN} ({len(CASES)} rows)")
