"""Every public class reports its public module, as torch's do: ``StepLR.__module__`` is
``optimizers.lr_scheduler`` where torch's is ``torch.optim.lr_scheduler``, whichever file defines it.

torch's modules are committed in tests/golden/public_modules.json (regenerate:
``python tests/golden/make_public_modules_golden.py``) and compared with live torch when it is installed.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

GOLDEN = json.loads((Path(__file__).parent / "golden" / "public_modules.json").read_text())

#: Our namespaces whose public classes must name a public module that holds them.
NAMESPACES = ["autodiff", "autodiff.autograd", "autodiff.autograd.forward_ad", "autodiff.autograd.function",
              "autodiff.autograd.graph", "autodiff.autograd.grad_mode", "autodiff.autograd.anomaly_mode",
              "autodiff.utils.hooks", "optimizers", "optimizers.lr_scheduler", "optimizers.optimizer",
              "autodiff.nn", "autodiff.nn.modules", "autodiff.nn.parameter", "autodiff.return_types"]


def ours(torch_name: str) -> str:
    """torch.optim... is optimizers..., the rest of torch is autodiff."""
    if torch_name == "torch.optim" or torch_name.startswith("torch.optim."):
        return "optimizers" + torch_name[len("torch.optim"):]
    return "autodiff" + torch_name[len("torch"):]


def public_classes(namespace: str) -> dict:
    try:
        module = importlib.import_module(namespace)
    except ModuleNotFoundError:
        return {}
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    return {name: value for name in names if isinstance(value := getattr(module, name, None), type)}


def torch_rows():
    """(torch namespace, class name, torch's __module__) for each class that we have too."""
    return [(namespace, name, module) for namespace, classes in sorted(GOLDEN["modules"].items())
            for name, module in sorted(classes.items()) if name in public_classes(ours(namespace))]


@pytest.mark.parametrize("namespace, name, torch_module", torch_rows(),
                         ids=[f"{r[0]}.{r[1]}" for r in torch_rows()])
def test_module_as_torchs(namespace, name, torch_module):
    cls = public_classes(ours(namespace))[name]
    if any(part.startswith("_") for part in torch_module.split(".")):
        pytest.skip(f"torch's {name} names its private module {torch_module}")   # ours names a public one (below)
    assert cls.__module__ == ours(torch_module)


def test_the_rows_cover_the_classes_asked_about():
    covered = {f"{ours(ns)}.{name}": ours(module) for ns, name, module in torch_rows()}
    assert covered["optimizers.lr_scheduler.StepLR"] == "optimizers.lr_scheduler"
    assert covered["optimizers.Adam"] == "optimizers.adam" and covered["optimizers.Muon"] == "optimizers"
    assert covered["autodiff.Tensor"] == "autodiff" and covered["autodiff.no_grad"] == "autodiff.autograd.grad_mode"


def test_golden_is_torchs():
    pytest.importorskip("torch")
    import sys
    sys.path.insert(0, str(Path(__file__).parent / "golden"))
    from make_public_modules_golden import golden
    assert golden()["modules"] == GOLDEN["modules"]


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_public_class_names_a_public_module_holding_it(namespace):
    """What pickle, reprs and documentation tools rely on: ``module.Name`` of ``__module__`` is the class."""
    for name, cls in public_classes(namespace).items():
        if not cls.__module__.startswith(("autodiff", "optimizers")):
            continue           # re-exported from elsewhere (typing, collections)
        assert not any(part.startswith("_") for part in cls.__module__.split(".")), (name, cls.__module__)
        assert getattr(importlib.import_module(cls.__module__), cls.__name__) is cls, (name, cls.__module__)
