"""torch.optim's optimizers on autodiff tensors, plus Lion and AdaBelief.

Each class keeps torch's constructor, defaults, state keys, validation messages and printout; its
arithmetic is a numpy function in :mod:`optimizers._functional`.

The classes are imported when first named (``from optimizers import Adam``, ``optimizers.Adam``: PEP 562's module
``__getattr__``), so that choosing one optimizer by name (the runner, :mod:`plugin_registry`) imports only that one;
``dir(optimizers)`` and ``__all__`` list them all, as torch.optim's do.
"""

import importlib

from .optimizer import Optimizer
from . import lr_scheduler, registry  # after Optimizer: both build on it

#: Each built-in class and the module that holds it.
_MODULES = {
    "SGD": "sgd", "Adam": "adam", "AdamW": "adamw", "Adamax": "adamax", "NAdam": "nadam", "RAdam": "radam",
    "RMSprop": "rmsprop", "Rprop": "rprop", "Adagrad": "adagrad", "Adadelta": "adadelta", "ASGD": "asgd",
    "Adafactor": "adafactor", "LBFGS": "lbfgs", "Muon": "muon", "Lion": "lion", "AdaBelief": "adabelief",
}

__all__ = ["Optimizer", *_MODULES]


def __getattr__(name: str):
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup is an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
