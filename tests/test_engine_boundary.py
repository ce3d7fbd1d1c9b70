"""Code outside the engine reaches a tensor's array through its public API (``numpy(force=True)``, ``detach()``,
``tolist()``, ``item()``, and ``autodiff.tensor.storage`` on hot paths), never through ``Tensor._data``: the engine
may change how it stores a tensor."""
from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUTSIDE_THE_ENGINE = ["experiments", "optimizers", "plugin_registry", "benchmarks", "examples", "run.py"]


def _sources():
    for name in OUTSIDE_THE_ENGINE:
        path = ROOT / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.is_file() else []


def _private_reads(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "_data":
            yield node.lineno
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr")
              and len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "_data"):
            yield node.lineno


def test_no_code_outside_the_engine_reads_tensor_data():
    sources = list(_sources())
    assert any(p.name == "loop.py" for p in sources)
    found = [f"{p.relative_to(ROOT)}:{line}" for p in sources for line in _private_reads(ast.parse(p.read_text()))]
    assert not found, f"Tensor._data used outside autodiff (use tensor.numpy(force=True) and friends): {found}"


def test_storage_is_the_tensors_own_memory():
    import autodiff as ad
    from autodiff.tensor import storage

    t = ad.tensor([1.0, 2.0], requires_grad=True)
    assert storage(t) is t.numpy(force=True)
    storage(t)[0] = 5.0
    assert t.tolist() == [5.0, 2.0]
