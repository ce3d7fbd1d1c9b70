"""The d2l linear-regression loops and the autograd tutorial's model, written the torch way
(tests/tutorial_cases.py), run on autodiff and give torch's numbers (tests/golden/tutorials.json; live torch too
when installed)."""
from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import pytest

import autodiff as ad
import optimizers

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import tutorial_cases as cases  # noqa: E402

GOLDEN_PATH = pathlib.Path(__file__).parent / "golden" / "tutorials.json"
GOLDEN = json.loads(GOLDEN_PATH.read_text())


def close(ours, theirs, tol=1e-5):
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def test_linear_regression_from_scratch():
    ours, torchs = cases.linear_regression_from_scratch(ad), GOLDEN["from_scratch"]
    close(ours["losses"], torchs["losses"])
    close(ours["w"], torchs["w"])
    close(ours["b"], torchs["b"])
    close(ours["w"], cases.TRUE_W, 1e-2)         # it learns the generating weights
    assert ours["losses"][-1] < 1e-4


def test_linear_regression_concise():
    ad.manual_seed(0)
    ours, torchs = cases.linear_regression_concise(ad, optimizers), GOLDEN["concise"]
    close(ours["losses"], torchs["losses"])
    close(ours["w"], torchs["w"])
    close(ours["b"], torchs["b"])
    assert ours["repr"] == torchs["repr"] == "Sequential(\n  (0): Linear(in_features=2, out_features=1, bias=True)\n)"
    assert 0.001 < ours["init_std"] < 0.03         # normal_(0, 0.01) on two weights


def test_autograd_tutorial():
    ours, torchs = cases.autograd_tutorial(ad, optimizers), GOLDEN["autograd_tutorial"]
    assert ours["grad_fn"] == torchs["grad_fn"] == "BinaryCrossEntropyWithLogitsBackward0"
    for key in ("z_requires_grad", "no_grad_requires_grad", "detached_requires_grad"):
        assert ours[key] == torchs[key], key
    for key in ("loss", "weight_grad", "bias_grad", "losses", "weight"):
        close(ours[key], torchs[key])


def test_golden_file_is_torch_today():
    pytest.importorskip("torch")
    sys.path.insert(0, str(GOLDEN_PATH.parent))
    from make_tutorials_golden import torch_results
    live = json.loads(json.dumps(torch_results()))
    assert live.keys() == GOLDEN.keys()
    for name in live:
        for key, value in live[name].items():
            if isinstance(value, (str, bool)):
                assert value == GOLDEN[name][key]
            elif name == "concise" and key == "init_std":
                continue                                  # a random draw
            else:
                close(value, GOLDEN[name][key], 1e-6)
