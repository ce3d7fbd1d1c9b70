"""A study's learning-rate trials (``study.search``): the scrambled Sobol sequence's properties, the study config
expanded into its jobs (an equal budget for every optimizer, the default among them), and a tiny study in sobol mode
end to end, read back with MlflowClient."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from experiments.errors import ConfigError
from experiments.studies.search import lr_factors, sobol_points, with_lr_factors
from runner_support import all_runs, client_for, run_cli, sweep

SOBOL = {"search": "sobol", "trials": 4, "lr_range": [0.01, 100.0], "search_seed": 0}


def test_the_unscrambled_sequence_is_van_der_corput():
    assert sobol_points(8) == [0.0, 0.5, 0.25, 0.75, 0.125, 0.625, 0.375, 0.875]


def test_scipys_unscrambled_sobol_sequence_has_the_same_points():
    qmc = pytest.importorskip("scipy.stats.qmc")
    for k in range(7):  # scipy orders each block of 2^k points by Gray code: the same set
        theirs = qmc.Sobol(d=1, scramble=False).random_base2(k)[:, 0]
        assert sorted(theirs.tolist()) == sorted(sobol_points(2 ** k))


@pytest.mark.parametrize("seed", [0, 1, 2, 7, 12345])
def test_scrambled_points_lie_one_in_each_of_2_to_the_k_bins(seed):
    points = sobol_points(256, seed)
    assert all(0.0 <= u < 1.0 for u in points)
    for k in range(9):
        first = points[: 2 ** k]
        assert sorted(math.floor(u * 2 ** k) for u in first) == list(range(2 ** k)), k


def test_the_scramble_is_the_same_for_a_seed_and_another_for_another_seed():
    assert sobol_points(16, 3) == sobol_points(16, 3)
    runs = [tuple(sobol_points(16, seed)) for seed in range(6)]
    assert len(set(runs)) == len(runs)
    assert sobol_points(4, 3) == sobol_points(16, 3)[:4]  # more trials extend the same sequence


def test_sobol_factors_are_the_default_and_one_per_stratum_rounded_to_three_digits():
    for seed in range(5):
        factors = lr_factors({**SOBOL, "search_seed": seed})
        assert len(factors) == 5 and 1.0 in factors and factors == sorted(factors)
        others = [f for f in factors if f != 1.0]
        assert sorted(math.floor(math.log10(f)) for f in others) == [-2, -1, 0, 1]  # one per decade of [0.01, 100]
        assert all(float(f"{f:.3g}") == f for f in factors)


def test_the_grid_is_todays_grid():
    assert lr_factors({**SOBOL, "search": "grid"}) == [0.01, 0.1, 1.0, 10.0, 100.0]
    assert ",".join(map(repr, lr_factors({**SOBOL, "search": "grid", "trials": 8}))) == (
        "0.01,0.03162277660168379,0.1,0.31622776601683794,1.0,3.1622776601683795,10.0,31.622776601683793,100.0")
    assert lr_factors({**SOBOL, "search": "grid", "trials": 3}) == pytest.approx(
        [0.01, 10 ** (-2 / 3), 1.0, 10 ** (2 / 3), 100.0])  # factor 1 added when the grid misses it


@pytest.mark.parametrize("key, value, words", [
    ("search", "random", "study.search='random' is not allowed: give sobol"),
    ("trials", 0, "study.trials=0 is not allowed"),
    ("trials", 2.5, "study.trials=2.5 is not allowed"),
    ("lr_range", [100.0, 0.01], "study.lr_range=[100.0, 0.01] is not allowed"),
    ("lr_range", [0.0, 1.0], "0 < low < high"),
    ("lr_range", 5, "study.lr_range=5 is not allowed"),
    ("search_seed", -1, "study.search_seed=-1 is not allowed"),
])
def test_bad_search_settings_say_what_is_allowed(key, value, words):
    with pytest.raises(ConfigError, match=None) as error:
        lr_factors({**SOBOL, key: value})
    assert words in str(error.value)


def study_jobs(name: str, *overrides: str, arguments: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """The jobs the study sweeper launches for ``study=name *overrides``, composed and expanded, none run."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from test_study import compose_study

    cfg = compose_study(name, *overrides)
    params = with_lr_factors(cfg.study, cfg.hydra.sweeper.params, arguments)
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()] + list(arguments))
    [jobs] = BasicSweeper.split_arguments(parsed, None)
    return [dict(o.split("=", 1) for o in job) for job in jobs]


@pytest.mark.parametrize("name, trials", [("quick", 4), ("crowded", 8)])
def test_a_study_expands_into_the_same_factors_for_every_optimizer(name, trials):
    jobs = study_jobs(name)
    factors: dict[tuple[str, str, str], list[float]] = {}
    for job in jobs:
        factors.setdefault((job["objective"], job["optimizer"], job["seed"]), []).append(float(job["study.lr_factor"]))
    budgets = {tuple(sorted(f)) for f in factors.values()}
    assert len(budgets) == 1  # every optimizer, objective and seed: the same trials, each once
    [budget] = budgets
    assert len(budget) == trials + 1 and 1.0 in budget and len(set(budget)) == len(budget)
    assert len(jobs) == len(factors) * (trials + 1)
    assert list(jobs[0]) == ["objective", "optimizer", "study.lr_factor", "seed"]  # the order of today's grid


def test_the_search_settings_change_the_factors_and_an_own_list_wins():
    def factors(*overrides, arguments=()):
        return sorted({float(j["study.lr_factor"]) for j in study_jobs("quick", *overrides, arguments=arguments)})

    assert factors() == lr_factors(SOBOL)
    assert factors("study.search_seed=1") != factors() and len(factors("study.search_seed=1")) == 5
    assert factors("study.trials=8") == lr_factors({**SOBOL, "trials": 8})
    assert factors("study.search=grid") == [0.01, 0.1, 1.0, 10.0, 100.0]
    assert factors("study.lr_range=[0.1,10]")[0] >= 0.1
    assert factors(arguments=("study.lr_factor=1.0,10.0",)) == [1.0, 10.0]


TINY_SOBOL = ("study=quick", "objective=quadratic", "optimizer=sgd,adam", "seed=0", "steps=25",
              "study.targets.quadratic.loss_gap=1.0", "study.trials=2", "study.search_seed=3",
              "study.held_out_seeds=[5]")


@pytest.mark.slow
def test_a_tiny_sobol_study_end_to_end_and_run_again(tmp_path):
    """2 optimizers x (the default and 2 Sobol factors) on one seed, then the chosen factors on seed 5; the same
    study run again finds every run finished (the rounded factors give the same configurations)."""
    parent, runs, out = sweep(tmp_path, "sobol", *TINY_SOBOL)
    expected = lr_factors({**SOBOL, "trials": 2, "search_seed": 3})
    assert "Learning-rate trials (sobol): factors " + ", ".join(map(repr, expected)) in out.stdout
    grid = [r for r in runs if "study.held_out" not in r.data.tags]
    held = [r for r in runs if r.data.tags.get("study.held_out") == "true"]
    assert len(grid) == 6 and len(held) == 2 and all(r.info.status == "FINISHED" for r in runs)
    by_optimizer: dict[str, dict[float, float]] = {}
    for r in grid:
        factor = float(r.data.tags["study.lr_factor"])
        by_optimizer.setdefault(r.data.tags["optimizer"], {})[factor] = float(r.data.params["optimizer.lr"])
        assert f"study.lr_factor={factor!r}" in r.info.run_name
    assert {o: sorted(f) for o, f in by_optimizer.items()} == {"sgd": expected, "adam": expected}
    for factor, lr in by_optimizer["adam"].items():
        assert lr == pytest.approx(0.001 * factor)
    assert parent.data.tags["study_lr_trials"] == "3"
    for r in held:  # the chosen factor, a Sobol one or the default, re-run on the held-out seed
        assert float(r.data.tags["study.lr_factor"]) in expected and r.data.tags["seed"] == "5"
    assert "Score/held_out/adam" in parent.data.metrics

    client = client_for(tmp_path)
    artifacts = Path(client.download_artifacts(parent.info.run_id, "", str(tmp_path / "parent")))
    for name in ("lr_sensitivity.png", "performance_profile.png", "study.html"):
        assert (artifacts / name).stat().st_size > 0, name
    with (artifacts / "steps_to_target.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert sorted({float(r["lr_factor"]) for r in rows}) == expected and len(rows) == 8
    before = {r.info.run_id for r in all_runs(client)}
    again, new, _ = sweep(tmp_path, "sobol-again", *TINY_SOBOL)
    assert new == [] and {r.info.run_id for r in all_runs(client)} == before | {again.info.run_id}
    assert again.data.tags["children_skipped"] == "8"


@pytest.mark.slow
def test_a_bad_search_setting_stops_the_study_before_any_run(tmp_path):
    out = run_cli(["-m", "study=quick", "objective=quadratic", "optimizer=sgd", "seed=0", "steps=2",
                   "study.search=random"], tmp_path, check=False)
    assert out.returncode == 2, out.stderr
    assert "study.search='random' is not allowed: give sobol (quasi-random trials) or grid" in out.stderr
    assert not (tmp_path / "mlflow.db").exists() or all_runs(client_for(tmp_path)) == []
