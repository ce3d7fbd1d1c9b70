"""save/load: tensors and containers of them round-trip through paths and file objects, as torch's do, in a file
that holds data only (never a pickle)."""
from __future__ import annotations

import collections
import pathlib
import sys
import io
import json
import zipfile

import numpy as np
import pytest

import autodiff as ad
import optimizers


def _nested():
    shared = ad.tensor([1.0, 2.0])
    return {"weights": collections.OrderedDict(w=ad.randn(2, 3), b=ad.zeros(3, dtype=ad.float64)),
            "steps": [ad.tensor(3), ad.tensor([True, False]), ad.arange(4)],
            0: ("name", 1.5, float("inf"), float("nan"), None, True, 2 ** 70),
            "shared": [shared, shared], "dtype": ad.float64, "device": ad.device("cpu")}


def _same(a, b):
    assert type(a) is type(b)
    if isinstance(a, ad.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.numpy(force=True), b.numpy(force=True))
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) and a != a:
        assert b != b
    else:
        assert a == b


@pytest.mark.parametrize("target", ["path", "str", "file object"])
def test_round_trip(tmp_path, target):
    obj = _nested()
    where = {"path": tmp_path / "x.pt", "str": str(tmp_path / "x.pt"), "file object": io.BytesIO()}[target]
    ad.save(obj, where)
    if target == "file object":
        where.seek(0)
    loaded = ad.load(where, weights_only=True)
    _same(obj, loaded)
    assert loaded["shared"][0] is loaded["shared"][1]     # saved once, one tensor again
    assert isinstance(loaded["weights"], collections.OrderedDict)


def test_requires_grad_and_parameters_survive(tmp_path):
    p = ad.tensor([1.0, 2.0], requires_grad=True)
    p._param = True
    ad.save({"p": p, "g": ad.ones(2, requires_grad=True) * 2}, tmp_path / "p.pt")
    loaded = ad.load(tmp_path / "p.pt")
    assert repr(loaded["p"]) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert loaded["p"].is_leaf and loaded["g"].requires_grad and loaded["g"].grad_fn is None


def test_the_file_is_data_only(tmp_path):
    ad.save([ad.ones(2), {"a": 1}], tmp_path / "f.pt")
    with zipfile.ZipFile(tmp_path / "f.pt") as archive:
        assert sorted(archive.namelist()) == ["structure.json", "tensors/0.npy"]
        structure = json.loads(archive.read("structure.json"))
        np.load(io.BytesIO(archive.read("tensors/0.npy")), allow_pickle=False)
    assert structure["format"] == "autodiff.save/1"


def test_unsupported_objects_and_foreign_files_are_refused(tmp_path):
    with pytest.raises(TypeError, match="cannot store an object of type function"):
        ad.save({"f": lambda: 0}, tmp_path / "bad.pt")
    (tmp_path / "text.pt").write_text("not an archive")
    with pytest.raises(RuntimeError, match="not an archive written by autodiff.save"):
        ad.load(tmp_path / "text.pt")
    with zipfile.ZipFile(tmp_path / "pickled.pt", "w") as archive:     # a torch file is a zip of pickles
        archive.writestr("archive/data.pkl", b"\x80\x04N.")
    with pytest.raises(RuntimeError, match="never reads: they may run code"):
        ad.load(tmp_path / "pickled.pt")


def test_torch_round_trips_the_same_structure(tmp_path):
    torch = pytest.importorskip("torch")
    obj = {"w": [1.5, (2, "a")], 3: None}
    torch.save({**obj, "t": torch.tensor([1.0])}, tmp_path / "t.pt")
    ad.save({**obj, "t": ad.tensor([1.0])}, tmp_path / "a.pt")
    theirs, ours = torch.load(tmp_path / "t.pt", weights_only=True), ad.load(tmp_path / "a.pt", weights_only=True)
    assert {k: v for k, v in theirs.items() if k != "t"} == {k: v for k, v in ours.items() if k != "t"}
    assert theirs["t"].tolist() == ours["t"].tolist()


def test_an_optimizer_resumes_from_a_saved_state_dict(tmp_path):
    def run(steps, state=None, params=None):
        w = params if params is not None else ad.tensor([1.0, -2.0], requires_grad=True)
        opt = optimizers.Adam([w], lr=0.1)
        if state is not None:
            opt.load_state_dict(state)
        for _ in range(steps):
            opt.zero_grad()
            ((w - 3.0) ** 2).sum().backward()
            opt.step()
        return w, opt

    straight, _ = run(4)
    w, opt = run(2)
    ad.save({"w": w, "optimizer": opt.state_dict()}, tmp_path / "ckpt.pt")
    checkpoint = ad.load(tmp_path / "ckpt.pt")
    resumed, _ = run(2, checkpoint["optimizer"], checkpoint["w"])
    assert resumed.tolist() == straight.tolist()


def test_the_engine_pages_example_trains_saves_and_restores(tmp_path, monkeypatch):
    """docs/engine.md's nn and checkpoint example runs, and the restored model predicts as the trained one."""
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from docs_text import code_blocks, section
    [block] = code_blocks(section("docs/engine.md", "Modules, losses and checkpoints: `autodiff.nn`, `save` and "
                                                    "`load`"), "python")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block, "docs/engine.md", "exec"), namespace)
    model, x = namespace["model"], namespace["x"]
    fresh = ad.nn.Sequential(ad.nn.Linear(2, 8), ad.nn.Tanh(), ad.nn.Linear(8, 1))
    fresh.load_state_dict(ad.load(tmp_path / "checkpoint.pt")["model"])
    assert fresh(x).tolist() == model(x).tolist()
    assert namespace["loss"].item() < ad.nn.functional.mse_loss(ad.zeros(64, 1), namespace["y"]).item()
