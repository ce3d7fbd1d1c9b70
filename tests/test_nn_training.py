"""Training parity with torch: each scenario of tests/nn_cases.py builds the same model in autodiff, starts from
torch's initial weights (tests/golden/nn_training.npz), trains a few steps with the same optimizer, and must give
torch's losses and final weights; its repr and state_dict keys are torch's. Regenerate the golden file with
``python tests/golden/make_nn_golden.py``; with torch installed it is compared with live torch too."""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

import autodiff as ad
import optimizers

sys.path.insert(0, str(pathlib.Path(__file__).parent / "golden"))
from make_nn_golden import flatten, load, torch_runs  # noqa: E402
from nn_cases import SCENARIOS, train  # noqa: E402

GOLDEN = load()
IDS = [s.name for s in SCENARIOS]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_training_matches_torch(scenario):
    expected = GOLDEN[scenario.name]
    ours = train(ad, optimizers, scenario, expected["initial"])
    np.testing.assert_allclose(ours["losses"], expected["losses"], rtol=2e-5, atol=1e-6)
    assert list(ours["final"]) == list(expected["final"])
    for name, value in expected["final"].items():
        np.testing.assert_allclose(ours["final"][name], value, rtol=2e-5, atol=2e-6, err_msg=name)
    assert ours["losses"][-1] < ours["losses"][0]          # it trains


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_repr_and_state_dict_keys_are_torchs(scenario):
    ours = train(ad, optimizers, scenario, GOLDEN[scenario.name]["initial"])
    assert ours["repr"] == GOLDEN[scenario.name]["repr"]
    assert ours["keys"] == GOLDEN[scenario.name]["keys"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_own_initialisation_trains_like_torchs_in_scale(scenario):
    """Started from autodiff's own initialisation (the engine's generator), the first loss is of torch's order."""
    ad.manual_seed(0)
    ours = train(ad, optimizers, scenario)
    first = GOLDEN[scenario.name]["losses"][0]
    assert 0.2 * first < ours["losses"][0] < 5 * first and ours["losses"][-1] < ours["losses"][0]


def test_golden_file_is_torch_today():
    pytest.importorskip("torch")
    live = flatten(torch_runs())
    with np.load(pathlib.Path(__file__).parent / "golden" / "nn_training.npz", allow_pickle=False) as data:
        assert sorted(live) == sorted(data.files)
        for key in data.files:
            if data[key].dtype.kind in "US":
                assert data[key].tolist() == live[key].tolist(), key
            else:
                np.testing.assert_allclose(data[key], live[key], rtol=1e-6, atol=1e-7, err_msg=key)
