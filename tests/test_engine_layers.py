"""The engine's modules form layers with no import cycle, and none imports inside a function.

From the bottom: dtypes, grad mode, formatting, anomaly switches; the Tensor; nodes and the op registry; ``apply``
(dispatch); views and in-place changes; the ops; the backward pass (engine); the autograd API; the methods bound
to Tensor and the package. A module may import only below itself, so the graph of imports is acyclic.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "autodiff"

LAYERS = [
    {"autodiff.dtypes", "autodiff.grad_mode", "autodiff._quiet", "autodiff._formatting", "autodiff.anomaly",
     "autodiff.utils", "autodiff.utils.hooks", "autodiff._tensor_methods", "autodiff._device", "autodiff.cuda",
     "autodiff.return_types", "autodiff._mt19937"},
    {"autodiff.tensor"},
    {"autodiff.node", "autodiff.creation"},
    {"autodiff.dispatch"},
    {"autodiff.views", "autodiff.inplace"},
    {"autodiff.ops._helpers", "autodiff.ops.declare", "autodiff.ops.elementwise", "autodiff.ops.compound",
     "autodiff.ops.comparison", "autodiff.ops.selection", "autodiff.ops.indexing", "autodiff.ops.concat",
     "autodiff.ops.shape",
     "autodiff.ops.reductions", "autodiff.ops.softmax", "autodiff.ops.linalg",
     "autodiff.ops.sorting", "autodiff.ops.special", "autodiff.ops.losses", "autodiff.ops"},
    {"autodiff.engine"},
    {"autodiff.autograd.anomaly_mode", "autodiff.autograd.grad_mode", "autodiff.autograd.forward_ad",
     "autodiff.autograd.function", "autodiff.autograd.graph", "autodiff.autograd.functional",
     "autodiff.autograd._jacobians", "autodiff.autograd._functional_args",
     "autodiff.autograd.gradcheck", "autodiff.autograd.variable", "autodiff.autograd"},
    {"autodiff.methods", "autodiff", "autodiff._declarations", "autodiff.legacy", "autodiff.linalg",
     "autodiff.serialization", "autodiff.nn", "autodiff.nn.parameter", "autodiff.nn.init", "autodiff.nn.functional",
     "autodiff.nn.modules", "autodiff.nn.modules.module", "autodiff.nn.modules.linear",
     "autodiff.nn.modules.activation", "autodiff.nn.modules.container", "autodiff.nn.modules.dropout",
     "autodiff.nn.modules.flatten", "autodiff.nn.modules.loss"},
]


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: pathlib.Path):
    """(imported module, node) for every import statement of a module, resolved to autodiff's modules."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for block in ast.walk(tree)     # `if TYPE_CHECKING:` imports are for type checkers only
                   if isinstance(block, ast.If) and getattr(block.test, "id", None) == "TYPE_CHECKING"
                   for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "autodiff":
                    yield alias.name, node
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "autodiff":
                continue
            for alias in node.names:        # `from . import views` imports a module, not a name
                yield (f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target), node


def _edges():
    return {name: {target for target, _ in _imports(name, path) if target != name}
            for name, path in MODULES.items()}


def _layer(name):
    for i, layer in enumerate(LAYERS):
        if name in layer:
            return i
    raise AssertionError(f"{name} is in no layer: add it to LAYERS")


def test_every_module_is_in_a_layer_and_imports_only_below_or_beside_itself():
    for name, targets in _edges().items():
        for target in targets:
            assert _layer(target) <= _layer(name), f"{name} imports {target}, a layer above it"


def test_the_import_graph_has_no_cycle():
    edges = _edges()
    state = {}

    def visit(name, path):
        state[name] = "open"
        for target in sorted(edges.get(name, ())):
            if state.get(target) == "open":
                pytest.fail("import cycle: " + " -> ".join(path + [name, target]))
            if target not in state:
                visit(target, path + [name])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [])


def test_no_import_inside_a_function():
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for func in ast.walk(tree):
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = [n for n in ast.walk(func) if isinstance(n, (ast.Import, ast.ImportFrom))]
                assert not inner, f"{name}.{func.name} imports at line {inner[0].lineno if inner else 0}"


def test_the_tensor_module_needs_nothing_above_it():
    edges = _edges()
    seen, todo = set(), ["autodiff.tensor"]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen <= LAYERS[0], sorted(seen - LAYERS[0])
