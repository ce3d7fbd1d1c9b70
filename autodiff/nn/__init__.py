"""``autodiff.nn``: torch.nn's small core (Module, Parameter, Linear, Sequential, activations, Flatten, Dropout,
three losses), ``nn.init`` and ``nn.functional``, written on the engine's ops."""
from . import functional, init
from .modules import (BCEWithLogitsLoss, CrossEntropyLoss, Dropout, Flatten, Identity, Linear, Module, ModuleList,
                      MSELoss, ReLU, Sequential, Sigmoid, Softmax, Tanh)
from .parameter import Parameter

__all__ = ["Module", "Parameter", "Linear", "Identity", "Sequential", "ModuleList", "ReLU", "Tanh", "Sigmoid",
           "Softmax", "Flatten", "Dropout", "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss", "functional", "init"]
