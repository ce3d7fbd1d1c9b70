"""torch.autograd's API: grad, backward, the functional transforms, forward mode and gradient checks."""
from __future__ import annotations

from ..engine import backward, grad
from ..grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from . import forward_ad, function, functional, grad_mode, graph
from .function import Function, FunctionCtx, once_differentiable
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .variable import Variable

__all__ = ["grad", "backward", "forward_ad", "functional", "no_grad", "enable_grad", "set_grad_enabled",
           "detect_anomaly", "set_detect_anomaly", "gradcheck", "gradgradcheck", "GradcheckError", "Variable"]
