"""Regenerate tests/golden/public_modules.json from torch 2.13 (run from the repository root):

    python tests/golden/make_public_modules_golden.py

Stores ``__module__`` of every public class of torch's namespaces that autodiff and optimizers mirror
(``torch.optim.lr_scheduler.StepLR.__module__ == "torch.optim.lr_scheduler"``), so that
tests/test_public_modules.py checks ours without torch.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: torch's namespaces whose classes ours mirror (torch.optim's as optimizers', the rest as autodiff's).
NAMESPACES = ["torch", "torch.autograd", "torch.autograd.forward_ad", "torch.autograd.function",
              "torch.autograd.graph", "torch.optim", "torch.optim.lr_scheduler", "torch.optim.optimizer",
              "torch.utils.hooks", "torch.nn", "torch.nn.modules", "torch.nn.parameter", "torch.return_types"]


def public_classes(namespace: str) -> dict:
    module = importlib.import_module(namespace)
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    return {name: value.__module__ for name in sorted(names)
            if isinstance(value := getattr(module, name, None), type) and value.__module__.startswith("torch")}


def golden() -> dict:
    import torch
    return {"torch_version": torch.__version__, "modules": {ns: public_classes(ns) for ns in NAMESPACES}}


if __name__ == "__main__":
    (HERE / "public_modules.json").write_text(json.dumps(golden(), indent=1, sort_keys=True) + "\n")
