"""``manual_seed(n)`` then a random draw gives torch's CPU numbers: the same Mersenne Twister, seeded the same way,
and torch's recipes for uniform, normal, integer and permutation samples (autodiff/_mt19937.py). Checked against
torch when it is installed and against its committed results (tests/golden/random.json) always.

Normals of 16 elements or more may differ from torch's in the last bit (torch uses vectorised sin, cos and log);
everything else is equal bit for bit."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from random_cases import CASES  # noqa: E402

GOLDEN = json.loads((Path(__file__).resolve().parent / "golden" / "random.json").read_text())
LAST_BIT = {"randn in blocks of 16", "randn float64 in blocks", "normal_"}


def ours(name: str, seed: int, draw) -> np.ndarray:
    ad.manual_seed(seed)
    return draw(ad).numpy()


def assert_torch_numbers(name: str, mine: np.ndarray, theirs: np.ndarray) -> None:
    assert mine.dtype == theirs.dtype and mine.shape == theirs.shape, (name, mine.dtype, theirs.dtype)
    if name in LAST_BIT:
        np.testing.assert_allclose(mine, theirs, rtol=4 * np.finfo(mine.dtype).eps, atol=4 * np.finfo(mine.dtype).eps)
    else:
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("name, seed, draw", CASES, ids=[c[0] for c in CASES])
def test_a_seeded_draw_gives_torchs_numbers(name, seed, draw):
    golden = GOLDEN[name]
    assert_torch_numbers(name, ours(name, seed, draw), np.array(golden["values"], dtype=golden["dtype"]))


@pytest.mark.parametrize("name, seed, draw", CASES, ids=[c[0] for c in CASES])
def test_a_seeded_draw_gives_torchs_numbers_live(name, seed, draw):
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    assert_torch_numbers(name, ours(name, seed, draw), draw(torch).detach().numpy())


def test_the_generator_state_replays_normals_and_their_kept_pair():
    ad.manual_seed(0)
    ad.randn(1)  # Box-Muller's second value is kept for the next draw
    state = ad.get_rng_state()
    first = ad.randn(5).numpy()
    ad.set_rng_state(state)
    np.testing.assert_array_equal(ad.randn(5).numpy(), first)


def test_randperm_refuses_a_negative_length_as_torch():
    with pytest.raises(RuntimeError, match=r"Trying to create tensor with negative dimension -1: \[-1\]"):
        ad.randperm(-1)
