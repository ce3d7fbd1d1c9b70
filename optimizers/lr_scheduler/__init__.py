"""Learning-rate schedulers with ``torch.optim.lr_scheduler``'s signatures, behaviour and values.

Call ``scheduler.step()`` once per epoch (or batch, for :class:`OneCycleLR`), after ``optimizer.step()``;
:class:`ReduceLROnPlateau` takes the monitored metric, ``scheduler.step(val_loss)``.
"""

from ._base import LRScheduler
from .cosine import CosineAnnealingLR
from .decay import ExponentialLR, MultiStepLR, StepLR
from .lambda_lr import LambdaLR
from .one_cycle import OneCycleLR
from .plateau import ReduceLROnPlateau
from .sequential import SequentialLR
from .warmup import ConstantLR, LinearLR

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "SequentialLR",
    "CosineAnnealingLR",
    "ReduceLROnPlateau",
    "OneCycleLR",
]
