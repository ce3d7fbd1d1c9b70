"""Learning-rate schedulers with ``torch.optim.lr_scheduler``'s signatures, behaviour and values.

Call ``scheduler.step()`` once per epoch (or per batch for :class:`OneCycleLR` and :class:`CyclicLR`), after
``optimizer.step()``; :class:`ReduceLROnPlateau` takes the monitored metric, ``scheduler.step(val_loss)``.
"""

from ._base import LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from .cyclic import CyclicLR
from .decay import ExponentialLR, MultiStepLR, PolynomialLR, StepLR
from .lambda_lr import LambdaLR, MultiplicativeLR
from .one_cycle import OneCycleLR
from .plateau import ReduceLROnPlateau
from .warmup import ConstantLR, LinearLR

__all__ = [
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "SequentialLR",
    "CosineAnnealingLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
    "CyclicLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "PolynomialLR",
    "LRScheduler",
]

# torch's schedulers report their public module (StepLR.__module__ == "torch.optim.lr_scheduler"), whichever file
# defines them; ours do the same (reprs, pickles and docs name optimizers.lr_scheduler.StepLR).
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
