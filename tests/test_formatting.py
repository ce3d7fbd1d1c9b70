"""Tensor reprs are torch's, string for string (``torch.`` reads ``autodiff.`` in the dtype suffix).

Three layers:
* literal strings copied from the seed notebooks (no torch needed);
* golden cases printed by torch 2.13 and committed in ``golden/formatting.json``
  (regenerate with ``python tests/test_formatting.py`` where torch is installed);
* when torch is importable, hypothesis compares random tensors and print options with torch live.
"""

from __future__ import annotations

import base64
import json
import math
import pathlib
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodiff._formatting import get_printoptions, printoptions, set_printoptions, tensor_repr

GOLDEN = pathlib.Path(__file__).parent / "golden" / "formatting.json"
REQUIRES_GRAD = "requires_grad=True"


@pytest.fixture(autouse=True)
def default_printoptions():
    set_printoptions(profile="default")
    if "torch" in sys.modules:
        sys.modules["torch"].set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")
    if "torch" in sys.modules:
        sys.modules["torch"].set_printoptions(profile="default")


# ---------------------------------------------------------------- seed notebooks

F32 = np.float32
SEED_REPRS = [
    ([2.0, 3.0], F32, (), "tensor([2., 3.])"),
    ([2.0, 3.0], F32, (REQUIRES_GRAD,), "tensor([2., 3.], requires_grad=True)"),
    ([6.0, 4.0], F32, (REQUIRES_GRAD,), "tensor([6., 4.], requires_grad=True)"),
    (53.0, F32, (), "tensor(53.)"),
    (53.0, F32, ("grad_fn=<SumBackward0>",), "tensor(53., grad_fn=<SumBackward0>)"),
    (36.0, F32, (), "tensor(36.)"),
    (-6.0, F32, (), "tensor(-6.)"),
    (15.0, F32, ("grad_fn=<SubBackward0>",), "tensor(15., grad_fn=<SubBackward0>)"),
    ([36.0, 81.0], F32, (), "tensor([36., 81.])"),
    ([-12.0, -8.0], F32, (), "tensor([-12.,  -8.])"),
    ([-12.0, 65.0], F32, ("grad_fn=<SubBackward0>",), "tensor([-12.,  65.], grad_fn=<SubBackward0>)"),
    ([1.82, 2.595], F32, (REQUIRES_GRAD,), "tensor([1.8200, 2.5950], requires_grad=True)"),
    ([1.82, 2.595], F32, ("grad_fn=<SubBackward0>",), "tensor([1.8200, 2.5950], grad_fn=<SubBackward0>)"),
    ([6.06, 4.04], F32, (REQUIRES_GRAD,), "tensor([6.0600, 4.0400], requires_grad=True)"),
    ([1.9, 2.9], F32, (REQUIRES_GRAD,), "tensor([1.9000, 2.9000], requires_grad=True)"),
    ([6.1, 4.1], F32, (REQUIRES_GRAD,), "tensor([6.1000, 4.1000], requires_grad=True)"),
    ([7.2, 4.8], F32, ("grad_fn=<SubBackward0>",), "tensor([7.2000, 4.8000], grad_fn=<SubBackward0>)"),
    ([-1.6, -5.1], F32, (REQUIRES_GRAD,), "tensor([-1.6000, -5.1000], requires_grad=True)"),
    ([1.8004, 2.8002], F32, (REQUIRES_GRAD,), "tensor([1.8004, 2.8002], requires_grad=True)"),
    ([6.2, 4.2001], F32, (REQUIRES_GRAD,), "tensor([6.2000, 4.2001], requires_grad=True)"),
    ([65.8116, 141.6062], F32, (), "tensor([ 65.8116, 141.6062])"),
    ([29.8116, 60.6062], F32, (), "tensor([29.8116, 60.6062])"),
    ([32.49, 75.69], F32, (), "tensor([32.4900, 75.6900])"),
    ([-12.12, -8.08], F32, (), "tensor([-12.1200,  -8.0800])"),
    ([-12.2, -8.2], F32, (), "tensor([-12.2000,  -8.2000])"),
    ([-24.12, -16.08], F32, (), "tensor([-24.1200, -16.0800])"),
    (39.724, F32, ("grad_fn=<SumBackward0>",), "tensor(39.7240, grad_fn=<SumBackward0>)"),
    (17.4649, F32, ("grad_fn=<SumBackward0>",), "tensor(17.4649, grad_fn=<SumBackward0>)"),
    (-2.7279, F32, (), "tensor(-2.7279)"),
    (0.2794, F32, (), "tensor(0.2794)"),
    ([0.0, 1.0, 2.0, 3.0], F32, (REQUIRES_GRAD,), "tensor([0., 1., 2., 3.], requires_grad=True)"),
    ([0.0, 1.0, 4.0, 9.0], F32, (), "tensor([0., 1., 4., 9.])"),
    ([0.0, 1.0, 4.0, 9.0], F32, ("grad_fn=<MulBackward0>",), "tensor([0., 1., 4., 9.], grad_fn=<MulBackward0>)"),
    ([True] * 4, np.bool_, (), "tensor([True, True, True, True])"),
    (True, np.bool_, (), "tensor(True)"),
    # scientific notation chosen for a wide range, and empty tensors with and without a size suffix
    ([1e-5, 1e3], F32, (), "tensor([1.0000e-05, 1.0000e+03])"),
    ([], F32, (), "tensor([])"),
    (np.zeros((0, 3)), F32, (), "tensor([], size=(0, 3))"),
]


@pytest.mark.parametrize("values, dtype, suffixes, expected", SEED_REPRS, ids=[r[3] for r in SEED_REPRS])
def test_seed_notebook_reprs(values, dtype, suffixes, expected):
    assert tensor_repr(np.asarray(values, dtype=dtype), suffixes) == expected


# ---------------------------------------------------------------- golden cases from torch


def _encode(array: np.ndarray) -> dict:
    array = np.array(array, order="C")
    return {
        "dtype": array.dtype.name,
        "shape": list(array.shape),
        "data": base64.b64encode(array.tobytes()).decode("ascii"),
    }


def _decode(entry: dict) -> np.ndarray:
    raw = base64.b64decode(entry["data"])
    return np.frombuffer(raw, dtype=entry["dtype"]).reshape(entry["shape"]).copy()


def _golden_entries() -> list[dict]:
    return json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("entry", _golden_entries(), ids=lambda e: e["name"])
def test_golden_repr(entry):
    set_printoptions(**entry["options"])
    assert tensor_repr(_decode(entry), entry["suffixes"]) == entry["expected"]


def _golden_cases():
    """(name, array, print options, grad kind) rows printed by torch into the golden file."""
    rng = np.random.default_rng(20261123)
    randn = rng.standard_normal
    rows = [
        ("0d-fixed", np.float32(17.46491), {}, None),
        ("0d-int-valued", np.float32(-6), {}, "grad_fn"),
        ("0d-tiny", np.float32(1.5e-7), {}, None),
        ("0d-huge", np.float64(3.2e12), {}, "leaf"),
        ("0d-nan", np.float32(np.nan), {}, None),
        ("0d-neg-inf", np.float32(-np.inf), {}, None),
        ("0d-neg-zero", np.float32(-0.0), {}, None),
        ("0d-zero-f64", np.float64(0.0), {}, None),
        ("0d-int64", np.int64(-123456789012), {}, None),
        ("0d-int32", np.int32(7), {}, None),
        ("0d-false", np.bool_(False), {}, None),
        ("0d-f16", np.float16(0.1), {}, None),
        ("int-mode-neg", np.array([-12.0, -8.0, 100.0], F32), {}, None),
        ("int-mode-nan-inf", np.array([1.0, np.nan, -np.inf, 3.0], F32), {}, None),
        ("int-mode-neg-zero", np.array([-0.0, 2.0, 0.0], F32), {}, None),
        ("all-zero", np.zeros(4, F32), {}, None),
        ("all-nonfinite", np.array([np.nan, np.inf, -np.inf], F32), {}, None),
        ("fixed-neg-zero", np.array([-0.0, 1.5, -2.25], F32), {}, None),
        ("fixed-nan", np.array([np.nan, 0.5, -1.25, np.inf], F32), {}, None),
        ("fixed-rounding", np.array([0.03125, 0.00015, 999.99995, 2.5e-4], np.float64), {}, None),
        ("sci-range", np.array([1e-5, 1e3], np.float64), {}, None),
        ("sci-tiny", np.array([1e-5, 2e-5, -3e-5], F32), {}, None),
        ("sci-huge", np.array([1e9, 2e9], F32), {}, None),
        ("sci-int-valued", np.array([1e9, 1.0, -5.0], F32), {}, None),
        ("sci-huge-exp", np.array([1e200, 1e-200, np.nan], np.float64), {}, None),
        ("sci-f32-max", np.array([np.finfo(F32).max, np.finfo(F32).tiny], F32), {}, None),
        ("fixed-ratio-1000", np.array([1.0, 1000.0, 0.5], F32), {}, None),
        ("fixed-1e-4", np.array([1e-4, 0.05], np.float64), {}, None),
        ("f16", np.array([0.1, 65504.0, -1.5], np.float16), {}, None),
        ("f16-sci", np.array([6e-8, 1.0], np.float16), {}, None),
        ("int64", np.array([-5, 10, 300], np.int64), {}, None),
        ("int32", np.array([[1, -2], [30, 4]], np.int32), {}, None),
        ("int8", np.array([-128, 0, 127], np.int8), {}, None),
        ("uint8", np.array([0, 255], np.uint8), {}, None),
        ("int16", np.array([-3, 4], np.int16), {}, None),
        ("bool-2d", np.array([[True, False], [False, True]]), {}, None),
        ("empty-f32", np.zeros(0, F32), {}, None),
        ("empty-f64", np.zeros(0, np.float64), {}, None),
        ("empty-int64", np.zeros(0, np.int64), {}, None),
        ("empty-bool-2d", np.zeros((2, 0), bool), {}, None),
        ("empty-3d", np.zeros((2, 0, 3), F32), {}, "leaf"),
        ("empty-int32-3d", np.zeros((0, 1, 1), np.int32), {}, None),
        ("2d-fixed", randn((3, 4)).astype(F32), {}, "leaf"),
        ("2d-int-mode", np.round(randn((4, 3)) * 50).astype(F32), {}, None),
        ("3d", randn((2, 3, 4)), {}, "grad_fn"),
        ("4d", randn((2, 2, 2, 3)).astype(F32), {}, None),
        ("4d-int64", rng.integers(-100, 100, (2, 3, 2, 2)), {}, None),
        ("4d-singletons", randn((1, 1, 1, 1)).astype(F32), {}, None),
        ("wrap-1d", randn(40).astype(F32), {}, "grad_fn"),
        ("wrap-1d-f64", randn(33) * 1e-6, {}, None),
        ("wrap-2d", randn((3, 30)).astype(F32), {}, "leaf"),
        ("wrap-int", rng.integers(-10**6, 10**6, 60), {}, None),
        ("wrap-bool", rng.random(50) < 0.5, {}, None),
        ("summarize-1d", randn(1001).astype(F32), {}, None),
        ("summarize-1d-int", np.arange(2000), {}, None),
        ("summarize-2d", randn((40, 30)).astype(F32), {}, "leaf"),
        ("summarize-2d-wide", randn((3, 500)), {}, "grad_fn"),
        ("summarize-2d-tall", randn((500, 3)).astype(F32), {}, None),
        ("summarize-3d", randn((11, 10, 10)).astype(F32) * 1e4, {}, None),
        ("summarize-4d", rng.integers(0, 10, (6, 7, 6, 5)), {}, None),
        ("summarize-edge-values", np.concatenate([np.ones(3), np.full(1000, 1e-9), np.ones(3)]), {}, None),
        ("suffix-after-wrap", np.full(11, 1.2345, F32), {}, "grad_fn"),
        ("suffix-newline-1d", np.full(9, 1.2345, F32), {}, "leaf"),
        ("suffix-dtype-fits-grad-breaks", np.full(6, 1.2345), {}, "grad_fn"),
        ("suffix-breaks-f64", np.arange(10, dtype=np.float64) + 0.5, {}, "leaf"),
        ("suffix-fits-f64", np.array([1e20, 1.0]), {"sci_mode": False}, None),
        ("suffix-multiline", randn((2, 9)).astype(F32), {}, "grad_fn"),
        ("precision-2", np.array([1.12345, -0.005], F32), {"precision": 2}, None),
        ("precision-0", np.array([1.5, 2.5, 1e-5], np.float64), {"precision": 0}, None),
        ("precision-8", randn(5).astype(F32), {"precision": 8}, None),
        ("threshold-5", np.arange(10), {"threshold": 5}, None),
        ("threshold-0-scalar", np.float32(3.5), {"threshold": 0}, None),
        ("threshold-2d", randn((4, 8)).astype(F32), {"threshold": 10}, None),
        ("edgeitems-1", randn((5, 5, 5)).astype(F32), {"threshold": 20, "edgeitems": 1}, None),
        ("edgeitems-0-1d", np.array([1.0, 2.0, 300.5, 4.0], F32), {"threshold": 2, "edgeitems": 0}, None),
        ("edgeitems-0-2d", randn((3, 4)).astype(F32), {"threshold": 2, "edgeitems": 0}, "leaf"),
        ("edgeitems-0-small", np.array([1.5, 2.0], F32), {"edgeitems": 0}, None),
        ("edgeitems-0-int", np.arange(12).reshape(3, 4), {"threshold": 5, "edgeitems": 0}, None),
        ("linewidth-30", randn(12).astype(F32), {"linewidth": 30}, "leaf"),
        ("linewidth-1", np.array([[1, 2], [3, 4]]), {"linewidth": 1}, None),
        ("linewidth-200", randn((2, 30)).astype(F32), {"linewidth": 200}, None),
        ("linewidth-30-empty", np.zeros(0, np.int64), {"linewidth": 30}, None),
        ("sci-on", np.array([1.0, 2.0, 3.5], F32), {"sci_mode": True}, None),
        ("sci-on-zeros", np.zeros(3, F32), {"sci_mode": True}, None),
        ("sci-off", np.array([1e-7, 1e9], np.float64), {"sci_mode": False}, None),
        ("profile-short", randn((3, 5)).astype(F32), {"profile": "short"}, None),
        ("profile-short-summary", randn(2000).astype(F32), {"profile": "short"}, None),
        ("profile-full", np.arange(1200, dtype=F32), {"profile": "full"}, None),
        ("profile-then-override", randn(9).astype(F32), {"profile": "short", "precision": 6}, None),
        ("fortran-order", np.asfortranarray(randn((3, 4)).astype(F32)), {}, None),
    ]
    return rows


def _torch_repr(torch, array: np.ndarray, grad: str | None) -> tuple[str, list[str]]:
    """torch's repr of ``array`` (as a leaf that requires grad, or an op output) and our suffixes."""
    tensor = torch.from_numpy(np.array(array, order="C"))
    suffixes: list[str] = []
    if grad is not None:
        tensor = tensor.clone().requires_grad_()
        suffixes = [REQUIRES_GRAD]
        if grad == "grad_fn":
            tensor = tensor * 1  # exact for every value, -0.0 and nan included
            suffixes = ["grad_fn=<MulBackward0>"]
    return repr(tensor).replace("torch.", "autodiff."), suffixes


def _write_golden() -> None:
    import torch

    entries = []
    for name, array, options, grad in _golden_cases():
        torch.set_printoptions(profile="default")
        torch.set_printoptions(**options)
        expected, suffixes = _torch_repr(torch, np.asarray(array), grad)
        entries.append({"name": name, "options": options, "suffixes": suffixes,
                        "expected": expected, **_encode(np.asarray(array))})
    torch.set_printoptions(profile="default")
    GOLDEN.write_text(json.dumps(entries, indent=1) + "\n")
    print(f"wrote {len(entries)} cases to {GOLDEN}")


def test_golden_file_covers_every_case():
    assert [e["name"] for e in _golden_entries()] == [row[0] for row in _golden_cases()]


# ---------------------------------------------------------------- print options


def test_set_printoptions_semantics():
    assert get_printoptions() == dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
    set_printoptions(precision=2)
    assert tensor_repr(np.array([1.12345], F32)) == "tensor([1.12])"
    set_printoptions(threshold=5)
    assert tensor_repr(np.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    assert get_printoptions()["precision"] == 2  # options not named are kept...
    set_printoptions(sci_mode=True)
    set_printoptions(linewidth=60)
    assert get_printoptions()["sci_mode"] is None  # ...except sci_mode, reset by every call, as in torch
    set_printoptions(profile="full")
    assert get_printoptions() == dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80, sci_mode=None)
    assert "..." not in tensor_repr(np.arange(5000))
    set_printoptions(profile="short", edgeitems=1)
    assert get_printoptions() == dict(precision=2, threshold=1000, edgeitems=1, linewidth=80, sci_mode=None)
    set_printoptions(profile="default")
    assert tensor_repr(np.array([1.12345], F32)) == "tensor([1.1235])"


def test_printoptions_context_restores():
    with printoptions(precision=1, sci_mode=True):
        assert tensor_repr(np.array([2.0, 3.0], F32)) == "tensor([2.0e+00, 3.0e+00])"
    assert get_printoptions()["precision"] == 4
    assert tensor_repr(np.array([2.0, 3.0], F32)) == "tensor([2., 3.])"


def test_unsupported_dtype_raises():
    with pytest.raises(TypeError, match="complex128"):
        tensor_repr(np.array([1 + 2j]))


# ---------------------------------------------------------------- live comparison with torch

FLOAT_REGIMES = ["normal", "whole", "tiny", "huge", "mixed", "specials", "whole_specials", "zeros", "halves"]
DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]

SHAPES = st.one_of(
    st.lists(st.integers(0, 6), max_size=4).map(tuple),  # 0-d to 4-d, empty dims included
    st.lists(st.integers(0, 3), min_size=1, max_size=3).map(lambda s: (*s, 25)),  # rows that wrap
    st.integers(1001, 2500).map(lambda n: (n,)),  # above the summarization threshold
    st.tuples(st.integers(1, 4), st.integers(300, 900)),
    st.tuples(st.integers(11, 16), st.integers(11, 16), st.integers(11, 16)),
    st.tuples(st.integers(6, 8), st.integers(6, 8), st.integers(6, 8), st.integers(6, 8)),
)


def _random_values(rng: np.random.Generator, shape: tuple, dtype: str, regime: str, scale: int) -> np.ndarray:
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if not dtype.startswith("float"):
        info = np.iinfo(dtype)
        high = min(int(info.max), 10**scale)
        return rng.integers(max(int(info.min), -high), high, shape, dtype=dtype, endpoint=True)
    normal = rng.standard_normal(shape)
    if regime == "normal":
        values = normal * 10.0 ** (scale - 4)
    elif regime == "whole":
        values = np.round(normal * 10.0**scale)
    elif regime == "tiny":
        values = normal * 10.0 ** (-scale - 4)
    elif regime == "huge":
        values = normal * 10.0 ** (scale + 7)
    elif regime == "mixed":
        values = np.sign(normal) * 10.0 ** rng.uniform(-12, 12, shape)
    elif regime in ("specials", "whole_specials"):
        values = normal * 10.0**scale
        if regime == "whole_specials":
            values = np.round(values)
        specials = rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0], shape)
        values = np.where(rng.random(shape) < 0.3, specials, values)
    elif regime == "zeros":
        values = np.where(rng.random(shape) < 0.5, 0.0, -0.0)
    else:  # "halves": exact binary fractions, ties at the printed precision
        values = rng.integers(-4000, 4000, shape) / 2.0 ** rng.integers(0, 8)
    with np.errstate(over="ignore"):
        return np.asarray(values).astype(dtype)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=SHAPES,
    dtype=st.sampled_from(DTYPES),
    regime=st.sampled_from(FLOAT_REGIMES),
    scale=st.integers(0, 12),
    grad=st.sampled_from([None, "leaf", "grad_fn"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_matches_torch(shape, dtype, regime, scale, grad, seed):
    torch = pytest.importorskip("torch")
    array = _random_values(np.random.default_rng(seed), shape, dtype, regime, scale)
    if not dtype.startswith("float"):
        grad = None
    expected, suffixes = _torch_repr(torch, array, grad)
    assert tensor_repr(array, suffixes) == expected


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    options=st.fixed_dictionaries(
        {},
        optional={
            "precision": st.integers(0, 10),
            "threshold": st.sampled_from([0, 3, 10, 40, 1000, 5000]),
            "edgeitems": st.integers(0, 4),
            "linewidth": st.integers(1, 160),
            "sci_mode": st.sampled_from([None, True, False]),
            "profile": st.sampled_from(["default", "short", "full"]),
        },
    ),
    shape=st.lists(st.integers(0, 7), max_size=3).map(tuple),
    dtype=st.sampled_from(["float32", "float64", "int64", "bool"]),
    regime=st.sampled_from(FLOAT_REGIMES),
    scale=st.integers(0, 12),
    grad=st.sampled_from([None, "leaf", "grad_fn"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_printoptions_match_torch(options, shape, dtype, regime, scale, grad, seed):
    torch = pytest.importorskip("torch")
    array = _random_values(np.random.default_rng(seed), shape, dtype, regime, scale)
    if not dtype.startswith("float"):
        grad = None
    set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    set_printoptions(**options)
    torch.set_printoptions(**options)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    expected, suffixes = _torch_repr(torch, array, grad)
    assert tensor_repr(array, suffixes) == expected


if __name__ == "__main__":
    _write_golden()
