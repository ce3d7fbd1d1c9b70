"""The optimizers' arithmetic as plain functions on numpy arrays, updating them in place.

Each ``<name>_`` function takes the parameter's, gradient's and state's ndarrays and keyword-only
hyperparameters, and follows torch.optim's single-tensor code's order of operations so results
agree to rounding. The classes in :mod:`optimizers` only keep state and call these.
"""

from .adadelta import adadelta_
from .adafactor import adafactor_
from .adagrad import adagrad_
from .adabelief import adabelief_
from .adam import adam_
from .adamax import adamax_
from .asgd import asgd_
from .lbfgs import cubic_interpolate, strong_wolfe, two_loop_direction
from .lion import lion_
from .muon import adjusted_lr, muon_, zeropower_via_newtonschulz
from .nadam import nadam_
from .radam import radam_
from .rmsprop import rmsprop_
from .rprop import rprop_
from .sgd import sgd_

__all__ = [
    "adabelief_", "adadelta_", "adafactor_", "adagrad_", "adam_", "adamax_", "adjusted_lr", "asgd_",
    "cubic_interpolate", "lion_", "muon_", "nadam_", "radam_", "rmsprop_", "rprop_", "sgd_",
    "strong_wolfe", "two_loop_direction", "zeropower_via_newtonschulz",
]
