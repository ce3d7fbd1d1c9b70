"""The tracking package's modules form layers with no import cycle: metric points; a full disk, SQLite's locking and the run's
lease; what a store's errors mean (``faults``); the store; the spool; delivery (``outbox``) and metric writing; the
run's lifecycle; what the runner and the sweep callback set up from them. A module imports only modules of lower
layers, at the top of the file or inside a function alike (an import inside a function would hide a cycle, not
remove it)."""
from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "experiments" / "tracking"

LAYERS = [
    {"points", "metric_rows", "names", "artifact_files"},
    {"disk", "lease", "bulk"},
    {"sqlite"},
    {"direct"},
    {"faults"},
    {"store"},
    {"spool"},
    {"outbox", "writer"},
    {"lifecycle"},
    {"config", "parent", "__init__"},
]


def _siblings(path: pathlib.Path) -> set[str]:
    """The modules of the package that ``path`` imports, wherever the import statement is."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update([node.module] if node.module else [alias.name for alias in node.names])
    return found


def _layer(name: str) -> int:
    for i, layer in enumerate(LAYERS):
        if name in layer:
            return i
    raise AssertionError(f"experiments.tracking.{name} is in no layer: add it to LAYERS")


def test_every_tracking_module_imports_only_modules_below_it():
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 8
    for path in modules:
        for target in _siblings(path):
            assert _layer(target) < _layer(path.stem), f"tracking.{path.stem} imports tracking.{target}"
