"""Performance profiles, the AlgoPerf-style score and the tuned and default times, against hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.studies import profiles
from experiments.studies.results import Trial
from experiments.studies.targets import Target, first_step_at_or_below, target_for

INF = math.inf
# Steps to target on three problems. p3: A met the target at the start (0 steps, counted as 1); A never reached p2's.
TIMES = {"p1": {"A": 10, "B": 20, "C": 50}, "p2": {"A": INF, "B": 30, "C": 30}, "p3": {"A": 0, "B": 4, "C": INF}}
# By hand: r = t / best. p1: A 1, B 2, C 5. p2: A inf, B 1, C 1. p3 (best 1): A 1, B 4, C inf.
RATIOS = {"p1": {"A": 1.0, "B": 2.0, "C": 5.0}, "p2": {"A": INF, "B": 1.0, "C": 1.0},
          "p3": {"A": 1.0, "B": 4.0, "C": INF}}


def test_ratios_by_hand():
    assert profiles.ratios(TIMES) == RATIOS


@pytest.mark.parametrize("optimizer, expected", [
    ("A", [2 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3]),
    ("B", [1 / 3, 1 / 3, 2 / 3, 2 / 3, 1.0, 1.0]),
    ("C", [1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 2 / 3]),
])
def test_profile_by_hand(optimizer, expected):
    taus = [1.0, 1.5, 2.0, 3.9, 4.0, 5.0]
    np.testing.assert_allclose(profiles.profile(RATIOS, optimizer, taus), expected)


def test_score_by_hand_and_as_the_integral():
    # A: (1 + 0 + 1) / 3; B: ((4-2)/3 + (4-1)/3 + 0) / 3 = 5/9; C: (0 + 1 + 0) / 3.
    for optimizer, expected in (("A", 2 / 3), ("B", 5 / 9), ("C", 1 / 3)):
        assert profiles.score(RATIOS, optimizer) == pytest.approx(expected)
        taus = np.linspace(1.0, 4.0, 300_001)  # the step function integrated numerically
        rho = profiles.profile(RATIOS, optimizer, taus)
        integral = float(np.sum((rho[:-1] + rho[1:]) / 2 * np.diff(taus))) / 3.0
        assert integral == pytest.approx(expected, abs=1e-4)


def test_a_missing_optimizer_counts_as_unsolved_and_the_best_scores_one():
    assert profiles.score({"p": {"A": 1.0}}, "B") == 0.0
    assert profiles.score({"p": {"A": 1.0}, "q": {"A": 1.0}}, "A") == 1.0


def trial(optimizer, factor, seed, steps, objective="f"):
    return Trial("id", "name", "FINISHED", objective, optimizer, 0.001 * factor, factor, seed, "loss <= 1.0", steps,
                 0.5)


def test_tuned_time_is_the_median_over_seeds_of_the_best_trial_and_default_is_factor_one():
    trials = [trial("A", 0.1, 0, 40), trial("A", 1.0, 0, 30), trial("A", 10.0, 0, INF),
              trial("A", 0.1, 1, 20), trial("A", 1.0, 1, 50), trial("A", 10.0, 1, 10),
              trial("A", 0.1, 2, INF), trial("A", 1.0, 2, INF), trial("A", 10.0, 2, 60)]
    # best per seed: 30, 10, 60 -> median 30; default per seed: 30, 50, inf -> median 50
    assert profiles.times(trials, "tuned") == {"f": {"A": 30.0}}
    assert profiles.times(trials, "default") == {"f": {"A": 50.0}}
    # two seeds, one never reaching the target: the median is infinite
    assert profiles.times([trial("B", 1.0, 0, 5), trial("B", 1.0, 1, INF)], "default") == {"f": {"B": INF}}


def test_targets():
    study = {"targets": {"quadratic": {"loss_gap": 0.001}, "seed": {"loss": -3.0}}}
    assert target_for(study, "quadratic") == Target("loss_gap", 0.001)
    assert target_for(study, "quadratic").threshold(2.0) == 2.001
    assert target_for(study, "seed").threshold(None) == -3.0
    assert first_step_at_or_below([(2, 0.5), (0, 3.0), (1, float("nan")), (3, 0.1)], 0.5) == 2
    assert first_step_at_or_below([(0, 3.0)], 0.5) is None


@pytest.mark.parametrize("entry, words", [
    (None, "has no target in this study"),
    ({"loss_gap": -1.0}, "must be a finite number >= 0"),
    ({"loss_gap": 0.1, "loss": 1.0}, "exactly one of loss_gap"),
    ({"gap": 0.1}, "exactly one of loss_gap"),
    ({"loss": float("nan")}, "must be a finite number"),
])
def test_bad_targets_are_config_errors(entry, words):
    from experiments.errors import ConfigError

    with pytest.raises(ConfigError, match=words):
        target_for({"targets": {} if entry is None else {"rosenbrock": entry}}, "rosenbrock")


def test_a_noisy_objective_is_a_problem_of_its_own_with_its_own_target():
    from experiments.errors import ConfigError
    from experiments.studies.targets import problem_name

    assert problem_name({"name": "rosenbrock", "gradient_noise": 0.0}) == "rosenbrock"
    assert problem_name({"name": "rosenbrock"}) == "rosenbrock"
    assert problem_name({"name": "rosenbrock", "gradient_noise": 1.0}) == "rosenbrock[noise=1]"
    assert problem_name({"name": "beale", "gradient_noise": 0.05}) == "beale[noise=0.05]"
    study = {"targets": {"rosenbrock": {"loss_gap": 0.001}, "rosenbrock[noise=1]": {"loss_gap": 0.1}}}
    assert target_for(study, "rosenbrock[noise=1]") == Target("loss_gap", 0.1)
    with pytest.raises(ConfigError, match=r"The problem beale\[noise=0.05\] \(objective beale with noisy gradients\) "
                                          r"has no target in this study.*under study.targets"):
        target_for(study, "beale[noise=0.05]")


def test_held_out_reruns_are_their_own_setting_and_leave_the_tuning_alone():
    from dataclasses import replace

    from experiments.studies.held_out import chosen_factors

    grid = [trial("A", 0.1, 0, 40), trial("A", 1.0, 0, 30), trial("A", 10.0, 0, 30),
            trial("A", 0.1, 1, 20), trial("A", 1.0, 1, 50), trial("A", 10.0, 1, 30)]
    grid[2] = replace(grid[2], final_loss=0.1)  # factor 10 ties factor 0.1 on median steps (30) but ends lower
    assert chosen_factors(grid) == {("f", "A"): 10.0}
    held = [replace(trial("A", 10.0, 7, 5), held_out=True), replace(trial("A", 10.0, 8, 9), held_out=True)]
    assert profiles.times(grid + held, "held_out") == {"f": {"A": 7.0}}
    assert profiles.times(grid + held, "tuned") == profiles.times(grid, "tuned") == {"f": {"A": 25.0}}
