"""torch.optim's optimizers on autodiff tensors, plus Lion and AdaBelief.

Each class keeps torch's constructor, defaults, state keys, validation messages and printout; its
arithmetic is a numpy function in :mod:`optimizers._functional`.
"""

from .optimizer import Optimizer
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .lion import Lion
from .adabelief import AdaBelief
from . import lr_scheduler, registry  # after the classes: both build on Optimizer

__all__ = [
    "Optimizer",
    "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Rprop", "Adagrad", "Adadelta",
    "ASGD", "Adafactor", "LBFGS", "Muon", "Lion", "AdaBelief",
]
