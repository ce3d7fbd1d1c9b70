"""Grad mode, as torch.autograd.grad_mode: the classes live in ``autodiff.grad_mode``, below the engine, which
reads the switch; this is the public module their ``__module__`` names."""
from ..grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode"]
