"""Adagrad (Duchi et al., 2011) with learning-rate decay."""

from __future__ import annotations

import numpy as np

from ._blocks import run_blocked
from ._common import addcmul_, effective_grad


def adagrad_(param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize):
    r"""One Adagrad update in place.

    .. math::
        \tilde\gamma = \frac{\gamma}{1 + (t-1)\eta},\quad s \leftarrow s + g^2,\quad
        \theta \leftarrow \theta - \tilde\gamma\,\frac{g}{\sqrt s + \epsilon}
    """
    clr = lr / (1 + (step - 1) * lr_decay)  # a 0-d tensor lr or lr_decay: in its dtype, as torch
    run_blocked(_adagrad_block, (param, grad, state_sum), 2,
                (float(clr), weight_decay, eps, maximize))


def _adagrad_block(p, g, s, t, u, clr, weight_decay, eps, maximize):
    g = effective_grad(g, p, weight_decay, maximize, u)
    addcmul_(s, g, g, 1, t)
    np.sqrt(s, out=t)
    t += eps
    np.multiply(g, -clr, out=u)
    u /= t
    p += u
