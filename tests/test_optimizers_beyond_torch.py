"""Lion and AdaBelief, which torch.optim lacks: checked against steps computed by hand from
their papers' algorithms (Chen et al. 2023, Algorithm 2; Zhuang et al. 2020, Algorithm 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad
from optimizers import AdaBelief, Lion


def run(opt_cls, start, grads, **kwargs):
    p = ad.tensor(start, dtype=ad.float64, requires_grad=True)
    opt = opt_cls([p], **kwargs)
    trajectory = []
    for g in grads:
        p.grad = ad.tensor(g, dtype=ad.float64)
        opt.step()
        trajectory.append(p.detach().numpy().copy())
    return trajectory, opt.state[p]


def test_lion_two_steps_by_hand():
    # theta0 = [1, -2], g1 = [0.5, -0.3], g2 = [-0.2, 0.4], lr 0.1, betas (0.9, 0.99), wd 0.1
    # step 1: c = 0.1 g1 = [0.05, -0.03] -> sign [1, -1]
    #         theta1 = theta0 - 0.1 (sign + 0.1 theta0) = [0.89, -1.88];  m1 = 0.01 g1 = [0.005, -0.003]
    # step 2: c = 0.9 m1 + 0.1 g2 = [-0.0155, 0.0373] -> sign [-1, 1]
    #         theta2 = theta1 - 0.1 (sign + 0.1 theta1) = [0.9811, -1.9612];  m2 = 0.99 m1 + 0.01 g2 = [0.00295, 0.00103]
    trajectory, state = run(Lion, [1.0, -2.0], [[0.5, -0.3], [-0.2, 0.4]], lr=0.1, betas=(0.9, 0.99),
                            weight_decay=0.1)
    np.testing.assert_allclose(trajectory[0], [0.89, -1.88], rtol=1e-14)
    np.testing.assert_allclose(trajectory[1], [0.9811, -1.9612], rtol=1e-14)
    np.testing.assert_allclose(state["exp_avg"].numpy(), [0.00295, 0.00103], rtol=1e-12)
    assert list(state) == ["exp_avg"]


def test_lion_defaults_repr_and_maximize():
    p = ad.zeros(2, requires_grad=True)
    assert repr(Lion([p])) == ("Lion (\nParameter Group 0\n    betas: (0.9, 0.99)\n    lr: 0.0001\n"
                               "    maximize: False\n    weight_decay: 0.0\n)")
    up, _ = run(Lion, [0.0], [[1.0]], lr=0.5, maximize=True)
    down, _ = run(Lion, [0.0], [[-1.0]], lr=0.5)
    assert up[0][0] == 0.5 and down[0][0] == 0.5
    with pytest.raises(ValueError, match="^Invalid beta parameter at index 1: 1.0$"):
        Lion([p], betas=(0.9, 1.0))


def test_adabelief_two_steps_by_hand():
    # theta0 = 1, g1 = 0.5, g2 = -0.2, lr 0.1, betas (0.9, 0.999), eps 1e-16 (negligible)
    # step 1: m1 = 0.05, s1 = 0.001 (0.5 - 0.05)^2 = 2.025e-4; m_hat = 0.5, s_hat = 0.2025, sqrt 0.45
    #         theta1 = 1 - 0.1 * 0.5 / 0.45 = 8/9
    # step 2: m2 = 0.025, s2 = 0.999 s1 + 0.001 (-0.225)^2 = 2.529225e-4
    #         theta2 = 8/9 - 0.1 (0.025 / 0.19) / sqrt(2.529225e-4 / 0.001999)
    trajectory, state = run(AdaBelief, [1.0], [[0.5], [-0.2]], lr=0.1)
    np.testing.assert_allclose(trajectory[0], [8 / 9], rtol=1e-12)
    theta2 = 8 / 9 - 0.1 * (0.025 / 0.19) / math.sqrt(2.529225e-4 / 0.001999)
    np.testing.assert_allclose(trajectory[1], [theta2], rtol=1e-12)
    np.testing.assert_allclose(state["exp_avg"].numpy(), [0.025], rtol=1e-12)
    np.testing.assert_allclose(state["exp_avg_var"].numpy(), [2.529225e-4], rtol=1e-12)
    assert state["step"].item() == 2.0 and state["step"].dtype == ad.float32


def test_adabelief_eps_enters_the_variance_and_the_denominator():
    # with eps = 0.01: s1 = 2.025e-4 + 0.01, theta1 = 1 - 0.1 * 0.5 / (sqrt(s1 / 0.001) + 0.01)
    trajectory, _ = run(AdaBelief, [1.0], [[0.5]], lr=0.1, eps=0.01)
    np.testing.assert_allclose(trajectory[0], [1 - 0.05 / (math.sqrt(0.0102025 / 0.001) + 0.01)], rtol=1e-12)


def test_adabelief_weight_decay_coupled_and_decoupled():
    # coupled: g = 0.5 + 0.1 * 1 = 0.6, m1 = 0.06, s1 = 0.001 * 0.54^2, so theta1 = 1 - 0.1 * 0.6 / 0.54
    coupled, _ = run(AdaBelief, [1.0], [[0.5]], lr=0.1, weight_decay=0.1)
    np.testing.assert_allclose(coupled[0], [1 - 0.1 * 0.6 / 0.54], rtol=1e-12)
    # decoupled: theta *= 1 - lr * wd = 0.99 first, then the plain step of 0.1 * 0.5 / 0.45
    decoupled, _ = run(AdaBelief, [1.0], [[0.5]], lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)
    np.testing.assert_allclose(decoupled[0], [0.99 - 0.1 / 0.9], rtol=1e-12)


def test_adabelief_amsgrad_keeps_the_largest_variance():
    # g2 = 0.05 equals m2 = 0.9 * 0.05 + 0.1 * 0.05, so s2 = 0.999 s1 < s1 and the maximum keeps s1
    grads = [[0.5], [0.05]]
    trajectory, state = run(AdaBelief, [1.0], grads, lr=0.1, amsgrad=True)
    assert state["max_exp_avg_var"].item() >= state["exp_avg_var"].item()
    np.testing.assert_allclose(state["max_exp_avg_var"].numpy(), [2.025e-4], rtol=1e-12)
    np.testing.assert_allclose(state["exp_avg_var"].numpy(), [0.999 * 2.025e-4], rtol=1e-12)
    theta2 = 8 / 9 - 0.1 * (0.05 / 0.19) / math.sqrt(2.025e-4 / 0.001999)
    np.testing.assert_allclose(trajectory[1], [theta2], rtol=1e-12)


def test_adabelief_maximize_ascends():
    up, _ = run(AdaBelief, [1.0], [[-0.5]], lr=0.1, maximize=True)
    np.testing.assert_allclose(up[0], [8 / 9], rtol=1e-12)
