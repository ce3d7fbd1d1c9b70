"""L-BFGS's pieces on flat numpy vectors: the two-loop recursion and the strong-Wolfe line search
(Nocedal and Wright, Numerical Optimization, algorithms 7.4, 3.5 and 3.6), in torch's form."""

from __future__ import annotations

import math

import numpy as np

from ._scalars import TensorScalar


def fused_add(x, alpha, y):
    """``x + alpha * y`` rounded once, in ``x``'s dtype: torch's ``x.add_(y, alpha=alpha)`` on the CPU is a fused
    multiply-add (separate roundings differ in the last bit, and L-BFGS's iterations amplify that)."""
    wide = np.float64 if x.dtype == np.float32 else np.longdouble     # exact products for float32
    dtype = x.dtype.type
    return (x.astype(wide) + wide(dtype(alpha)) * y.astype(wide)).astype(x.dtype)


def two_loop_direction(flat_grad, old_dirs, old_stps, ro, h_diag, al):
    r"""The quasi-Newton direction :math:`d = -H g` from the stored curvature pairs.

    ``old_dirs`` are the :math:`y_i` (gradient changes), ``old_stps`` the :math:`s_i` (steps),
    ``ro`` the :math:`1/(y_i^T s_i)`; ``al`` is a list reused for the first loop's coefficients. The scalars
    are computed in the gradient's dtype, as torch's 0-d tensors are.
    """
    dtype = flat_grad.dtype.type
    q = np.negative(flat_grad)
    for i in range(len(old_dirs) - 1, -1, -1):
        al[i] = dtype(np.dot(old_stps[i], q) * dtype(ro[i]))
        q = fused_add(q, -al[i], old_dirs[i])
    r = q * dtype(h_diag)
    for i in range(len(old_dirs)):
        be_i = dtype(np.dot(old_dirs[i], r) * dtype(ro[i]))
        r = fused_add(r, al[i] - be_i, old_stps[i])
    return r


def _sqrt(x):
    """torch's ``tensor.sqrt()`` in the tensor's dtype (a TensorScalar's ``** 0.5``), a float's otherwise."""
    return x ** 0.5 if isinstance(x, TensorScalar) else math.sqrt(x)


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to ``bounds``."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = _sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


class _Probe:
    """Evaluations along the search direction: ``at(t)`` is the loss, flat gradient and directional derivative at
    ``x + t d``; ``evals`` counts them."""

    def __init__(self, obj_func, x, d, scalar):
        self.obj_func, self.x, self.d, self.scalar = obj_func, x, d, scalar
        self.evals = 0

    def at(self, t):
        f_new, g_new = self.obj_func(self.x, t, self.d)
        self.evals += 1
        return f_new, g_new, self.scalar(np.dot(g_new, self.d))


def strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25,
                 scalar=float):
    """Line search along ``d`` for a step ``t`` meeting the strong Wolfe conditions.

    ``obj_func(x, t, d)`` returns the loss and flat gradient at ``x + t d``. Returns
    ``(f_new, g_new, t, function_evaluations)``. ``scalar`` makes the directional derivatives
    and ``d``'s norm (0-d tensors in torch): ``float``, or a TensorScalar maker when ``t`` is one.
    """
    d_norm = scalar(np.max(np.abs(d)))
    probe = _Probe(obj_func, x, d, scalar)
    bracket, done, ls_iter = _bracket(probe, t, f, g.copy(), gtd, c1, c2, max_ls)
    low = _zoom(probe, bracket, done, ls_iter, f, gtd, d_norm, c1, c2, tolerance_change, max_ls)
    return bracket[1][low], bracket[2][low], bracket[0][low], probe.evals


def _bracket(probe, t, f, g, gtd, c1, c2, max_ls):
    """Extrapolate from ``t`` until an interval brackets a point meeting the conditions (or ``t`` meets them:
    ``done``). Returns ``([steps], [losses], [gradients], [directional derivatives])``, done, and the
    iterations used."""
    f_new, g_new, gtd_new = probe.at(t)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            return ([t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], [gtd_prev, gtd_new]), False, ls_iter
        if abs(gtd_new) <= -c2 * gtd:
            return ([t], [f_new], [g_new], None), True, ls_iter
        if gtd_new >= 0:
            return ([t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], [gtd_prev, gtd_new]), False, ls_iter
        # extrapolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                              bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new, gtd_new = probe.at(t)
        ls_iter += 1
    return ([0, t], [f, f_new], [g, g_new], None), False, ls_iter


def _zoom(probe, bracket, done, ls_iter, f, gtd, d_norm, c1, c2, tolerance_change, max_ls):
    """Shrink the bracket (in place) until a point meets the conditions; returns the position of its best end."""
    steps, losses, grads, gtds = bracket
    insuf_progress = False
    low_pos, high_pos = (0, 1) if losses[0] <= losses[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(steps[1] - steps[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(steps[0], losses[0], gtds[0], steps[1], losses[1], gtds[1])
        t, insuf_progress = _away_from_ends(t, steps, insuf_progress)
        f_new, g_new, gtd_new = probe.at(t)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= losses[low_pos]:
            steps[high_pos], losses[high_pos] = t, f_new
            grads[high_pos], gtds[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if losses[0] <= losses[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (steps[high_pos] - steps[low_pos]) >= 0:
                steps[high_pos], losses[high_pos] = steps[low_pos], losses[low_pos]
                grads[high_pos] = grads[low_pos]
                gtds[high_pos] = gtds[low_pos]
            steps[low_pos], losses[low_pos] = t, f_new
            grads[low_pos], gtds[low_pos] = g_new.copy(), gtd_new
    return low_pos


def _away_from_ends(t, steps, insuf_progress):
    """Keep ``t`` a tenth of the bracket away from its ends unless progress is good (torch's safeguard)."""
    eps = 0.1 * (max(steps) - min(steps))
    if min(max(steps) - t, t - min(steps)) >= eps:
        return t, False
    if insuf_progress or t >= max(steps) or t <= min(steps):
        t = max(steps) - eps if abs(t - max(steps)) < abs(t - min(steps)) else min(steps) + eps
        return t, False
    return t, True
