"""Rprop: resilient backpropagation (Riedmiller and Braun, 1993), sign-based per-weight steps."""

from __future__ import annotations

import numpy as np

from ._common import effective_grad


def rprop_(param, grad, prev, step_size, *, etaminus, etaplus, step_size_min, step_size_max,
           maximize):
    r"""One Rprop update in place.

    .. math::
        s = \operatorname{sign}(g\,g_{prev}),\quad
        \eta \leftarrow \eta\cdot\{\eta_+ \text{ if } s>0;\ \eta_- \text{ if } s<0;\ 1\}
            \text{ clipped to } [\Gamma_{min}, \Gamma_{max}],\\
        g \leftarrow 0 \text{ where } s<0,\quad
        \theta \leftarrow \theta - \eta\operatorname{sign}(g),\quad g_{prev} \leftarrow g
    """
    t = np.empty_like(param)
    g = effective_grad(grad, param, 0, maximize, np.empty_like(param))
    np.multiply(g, prev, out=t)
    flipped = t < 0
    agreed = t > 0
    np.copyto(prev, g)
    t.fill(1)
    t[agreed] = etaplus
    t[flipped] = etaminus
    step_size *= t
    np.clip(step_size, step_size_min, step_size_max, out=step_size)
    prev[flipped] = 0
    np.sign(prev, out=t)
    t *= step_size
    param -= t
