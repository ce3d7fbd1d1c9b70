"""The layers of ``autodiff.nn``, a module per kind as torch.nn.modules."""
from .activation import ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module

__all__ = ["Module", "Linear", "Identity", "Sequential", "ModuleList", "ReLU", "Tanh", "Sigmoid", "Softmax",
           "Flatten", "Dropout", "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss"]
