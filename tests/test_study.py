"""Studies (``python run.py -m study=...``): the shipped configs compose, a tiny study runs end to end, and its report
is what the children's loss histories, read back with MlflowClient, give."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from runner_support import ROOT, all_runs, client_for, history, run_cli, sweep

pytest.importorskip("hydra")

STUDIES = ("quick", "crowded")


def compose_study(name: str, *overrides: str):
    import experiments  # noqa: F401 - registers the ${times:...} resolver the study's lr uses
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        return compose("config", overrides=[f"study={name}", *overrides], return_hydra_config=True)


@pytest.mark.parametrize("name", STUDIES)
def test_a_study_composes_with_a_target_per_objective_and_one_lr_grid_for_all(name):
    from experiments.studies.search import with_lr_factors
    from experiments.studies.targets import problem_name

    cfg = compose_study(name)
    params = cfg.hydra.sweeper.params
    objectives = str(params.objective).split(",")
    problems = [problem_name(compose_study(name, f"objective={o}").objective) for o in objectives]
    assert len(set(problems)) == len(objectives) and set(problems) == set(cfg.study.targets)
    for optimizer in str(params.optimizer).split(","):
        assert (ROOT / "configs" / "optimizer" / f"{optimizer}.yaml").is_file()
    assert "study.lr_factor" not in params and cfg.study.search == "sobol"  # the sweeper adds the factors
    grid = compose_study(name, "study.search=grid")
    factors = [float(f) for f in with_lr_factors(grid.study, grid.hydra.sweeper.params)["study.lr_factor"].split(",")]
    assert 1.0 in factors and len(factors) == cfg.study.trials + 1  # the default learning rate is one of the trials
    logs = [math.log10(f) for f in factors]
    gaps = {round(b - a, 9) for a, b in zip(logs, logs[1:])}
    assert len(gaps) == 1 and logs[0] == -logs[-1]  # study.search=grid: log-uniform, symmetric around the default
    cfg = compose_study(name, "optimizer=lion", "study.lr_factor=10.0", f"objective={objectives[-1]}")
    assert cfg.optimizer.lr == pytest.approx(10 * cfg.optimizer.default_lr)
    # the study's own sweeper, and held-out seeds the grid does not tune on
    assert cfg.hydra.sweeper._target_ == "hydra_plugins.optimizer_trajectories.study_sweeper.StudySweeper"
    seeds = {int(s) for s in str(params.seed).split(",")}
    assert cfg.study.held_out_seeds and not seeds & set(cfg.study.held_out_seeds)


def recomputed_steps(client, run, target: str) -> int | None:
    """The first step meeting the run's target, from its loss (or loss gap) history as stored."""
    kind, _, value = target.partition(" <= ")
    key = "Objective/loss_gap" if kind == "loss_gap" else "Objective/loss"
    for step, loss in history(client, run.info.run_id, key):
        if loss <= float(value):
            return step
    return None


def read_csv(path: Path) -> list[dict]:
    with path.open() as f:
        return list(csv.DictReader(f))


TINY = ("study=quick", "objective=quadratic,rosenbrock", "optimizer=sgd,adam", "study.lr_factor=1.0,10.0", "seed=0",
        "steps=25", "study.targets.quadratic.loss_gap=1.0", "~study.targets.rosenbrock.loss_gap",
        "+study.targets.rosenbrock.loss=4.3", "study.held_out_seeds=[5]")
LAUNCHERS = {"basic": (), "joblib": ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")}


@pytest.mark.slow
@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_a_tiny_study_end_to_end(tmp_path, launcher):
    """The grid (8 runs), then its held-out phase (each (objective, optimizer)'s chosen trial on seed 5: 4 runs),
    jobs of the same launcher under the same parent; the report scores both, as the stored histories give."""
    parent, everything, _ = sweep(tmp_path, "tiny", *TINY, *LAUNCHERS[launcher])
    client = client_for(tmp_path)
    children = [c for c in everything if "study.held_out" not in c.data.tags]
    held = [c for c in everything if c.data.tags.get("study.held_out") == "true"]
    assert len(children) == 8 and len(held) == 4 and all(c.data.tags["study"] == "quick" for c in everything)
    jobs = [p for p in (tmp_path / "sweeps" / "tiny").iterdir() if p.name.isdigit()]
    assert sorted(int(p.name) for p in jobs) == list(range(12))  # the launcher ran both phases: jobs 0-7, then 8-11
    assert {c.info.experiment_id for c in children} == {parent.info.experiment_id}
    # the same tuning budget for every optimizer: two learning rates each, the default and ten times it
    lrs: dict[tuple[str, str], set[float]] = {}
    for c in children:
        lrs.setdefault((c.data.tags["objective"], c.data.tags["optimizer"]), set()).add(
            float(c.data.params["optimizer.lr"]))
    assert set(map(len, lrs.values())) == {2}
    assert sorted(lrs[("quadratic", "adam")]) == pytest.approx([0.001, 0.01])
    assert parent.data.tags["study_lr_trials"] == "2"

    steps = {}
    for c in children:
        expected = recomputed_steps(client, c, c.data.tags["study.target"])
        logged = c.data.metrics.get("Summary/steps_to_target")
        assert logged == (None if expected is None else float(expected)), c.info.run_name
        steps[c.info.run_id] = math.inf if expected is None else expected
    assert 0 < sum(math.isfinite(s) for s in steps.values()) < 8  # some reach their target, some do not

    steps.update(check_held_out_phase(client, children, held, steps))

    artifacts = Path(client.download_artifacts(parent.info.run_id, "", str(tmp_path / "parent")))
    for name in ("steps_to_target.csv", "study_times.csv", "performance_profile.csv", "scores.csv",
                 "performance_profile.png", "lr_sensitivity.png"):
        assert (artifacts / name).stat().st_size > 0, name
    rows = {r["run_id"]: r for r in read_csv(artifacts / "steps_to_target.csv")}
    assert {k: (math.inf if r["steps_to_target"] == "" else int(r["steps_to_target"])) for k, r in rows.items()} \
        == steps

    # the scores recomputed from the histories: one seed, so tuned = the faster of the two learning rates, held_out
    # = the re-run's time
    by_id = {c.info.run_id: c for c in everything}
    for setting in ("tuned", "default", "held_out"):
        times: dict[str, dict[str, float]] = {}
        for run_id, s in steps.items():
            tags = by_id[run_id].data.tags
            if (setting == "held_out") != (tags.get("study.held_out") == "true"):
                continue
            if setting == "default" and float(tags["study.lr_factor"]) != 1.0:
                continue
            slot = times.setdefault(tags["objective"], {})
            slot[tags["optimizer"]] = min(slot.get(tags["optimizer"], math.inf), s)
        for optimizer in ("sgd", "adam"):
            score = 0.0
            for by_optimizer in times.values():
                best = min(max(t, 1) for t in by_optimizer.values())
                ratio = max(by_optimizer[optimizer], 1) / best
                score += max(0.0, 4 - ratio) / 3 / len(times)
            assert parent.data.metrics[f"Score/{setting}/{optimizer}"] == pytest.approx(score)

    # python -m experiments.study redoes the same tables from the store
    run_cli([parent.info.run_id, "--out", str(tmp_path / "again")], tmp_path, module="experiments.study")
    for name in ("steps_to_target.csv", "scores.csv", "performance_profile.csv", "study_times.csv"):
        assert (tmp_path / "again" / name).read_text() == (artifacts / name).read_text(), name
    if launcher == "basic":
        check_held_out_seeds(tmp_path, client, parent, children + held, steps)
    check_run_again(tmp_path, client, everything, launcher)


def check_held_out_phase(client, children, held, steps) -> dict:
    """Each held-out run is its (objective, optimizer)'s chosen trial (one seed: the fewest steps, then the lower
    final loss) on seed 5; returns their steps to target, recomputed from their histories."""
    assert {(r.data.tags["objective"], r.data.tags["optimizer"]) for r in held} == {
        (c.data.tags["objective"], c.data.tags["optimizer"]) for c in children}
    out = {}
    for r in held:
        check_is_the_chosen_trial(r, children, steps, seed="5")
        assert r.info.run_name.startswith("held out ") and r.info.status == "FINISHED"
        expected = recomputed_steps(client, r, r.data.tags["study.target"])
        assert r.data.metrics.get("Summary/steps_to_target") == (None if expected is None else float(expected))
        out[r.info.run_id] = math.inf if expected is None else expected
    return out


def check_is_the_chosen_trial(run, children, steps, seed: str) -> None:
    mine = [c for c in children if (c.data.tags["objective"], c.data.tags["optimizer"]) == (
        run.data.tags["objective"], run.data.tags["optimizer"])]
    best = min(mine, key=lambda c: (steps[c.info.run_id], c.data.metrics.get("Summary/final_loss", math.inf)))
    assert run.data.tags["study.held_out"] == "true" and run.data.tags["seed"] == seed
    assert run.data.tags["study.lr_factor"] == best.data.tags["study.lr_factor"]
    assert run.data.params["optimizer.lr"] == best.data.params["optimizer.lr"]
    assert {k: v for k, v in run.data.params.items() if k != "seed"} == {
        k: v for k, v in best.data.params.items() if k != "seed"}


def check_held_out_seeds(tmp_path, client, parent, children, steps):
    """--held-out-seeds re-runs each chosen learning rate as more children, in its own process; the tuned and
    default scores and the budget stay as they were."""
    refused = run_cli([parent.info.run_id, "--held-out-seeds", "0"], tmp_path, module="experiments.study", check=False)
    assert refused.returncode == 2 and "tuned the learning rates" in refused.stderr
    run_cli([parent.info.run_id, "--held-out-seeds", "6", "--out", str(tmp_path / "held")], tmp_path,
            module="experiments.study")
    new = [r for r in all_runs(client) if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
           and r.info.run_id not in {c.info.run_id for c in children}]
    assert len(new) == 4
    grid = [c for c in children if "study.held_out" not in c.data.tags]
    for r in new:
        check_is_the_chosen_trial(r, grid, steps, seed="6")
    after = client.get_run(parent.info.run_id)
    assert {k for k in after.data.metrics if k.startswith("Score/held_out/")} == {
        "Score/held_out/sgd", "Score/held_out/adam"}
    for key, value in parent.data.metrics.items():
        if not key.startswith("Score/held_out/"):  # seed 6 joins seed 5 in the held-out times
            assert after.data.metrics[key] == value, key
    assert after.data.tags["study_lr_trials"] == "2"


def check_run_again(tmp_path, client, earlier, launcher: str) -> None:
    """The same study run again starts no run: the grid's and the held-out phase's jobs find theirs finished."""
    before = {r.info.run_id for r in all_runs(client)}
    parent, new, _ = sweep(tmp_path, "again", *TINY, *LAUNCHERS[launcher])
    assert new == [] and {r.info.run_id for r in all_runs(client)} == before | {parent.info.run_id}
    children = [r for r in all_runs(client) if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert {c.info.run_id for c in children} == {c.info.run_id for c in earlier}
    assert all(c.data.tags["sweep.reused"] == "finished" for c in children)
    assert parent.data.tags["children_skipped"] == "12" and "Score/held_out/sgd" in parent.data.metrics


@pytest.mark.slow
def test_a_noisy_variant_is_its_own_problem_in_a_study(tmp_path):
    """study=crowded's rosenbrock and noisy_rosenbrock: two problems, each measured against its own target."""
    parent, children, _ = sweep(tmp_path, "noisy", "study=crowded", "objective=rosenbrock,noisy_rosenbrock",
                                "optimizer=adam", "study.lr_factor=100.0", "seed=0", "steps=400",
                                "study.held_out_seeds=[]")
    client = client_for(tmp_path)
    by_problem = {c.data.tags["study.problem"]: c for c in children}
    assert set(by_problem) == {"rosenbrock", "rosenbrock[noise=1]"}
    noisy = by_problem["rosenbrock[noise=1]"]
    assert noisy.data.tags["objective"] == "rosenbrock" and noisy.data.params["objective.gradient_noise"] == "1.0"
    assert (by_problem["rosenbrock"].data.tags["study.target"], noisy.data.tags["study.target"]) == (
        "loss_gap <= 0.001", "loss_gap <= 0.1")
    for child in children:
        expected = recomputed_steps(client, child, child.data.tags["study.target"])
        assert child.data.metrics.get("Summary/steps_to_target") == (None if expected is None else float(expected))
    assert recomputed_steps(client, noisy, "loss_gap <= 0.1") is not None  # adam at 100x its default gets there
    times = read_csv(Path(client.download_artifacts(parent.info.run_id, "study_times.csv", str(tmp_path))))
    assert {(r["setting"], r["objective"]) for r in times} == {
        ("tuned", "rosenbrock"), ("tuned", "rosenbrock[noise=1]")}  # one factor, not the default: tuned only


@pytest.mark.slow
def test_held_out_seeds_among_the_grids_are_refused_before_any_run(tmp_path):
    out = run_cli(["-m", "study=quick", "objective=quadratic", "optimizer=sgd", "study.lr_factor=1.0", "seed=0,1",
                   "steps=2", "study.held_out_seeds=[1,2]"], tmp_path, check=False)
    assert out.returncode == 2, out.stderr
    assert ("study.held_out_seeds=[1, 2] is not allowed: seed 1 is among the seeds the study tunes its learning "
            "rates on (0, 1)") in out.stderr
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "multirun").exists()


@pytest.mark.slow
def test_an_objective_without_a_target_stops_the_study_before_any_run(tmp_path):
    out = run_cli(["-m", "study=quick", "objective=quadratic,beale", "optimizer=sgd", "study.lr_factor=1.0",
                   "seed=0", "steps=2"], tmp_path, check=False)
    assert out.returncode == 2, out.stderr
    assert "objective=beale has no target in this study" in out.stderr
    assert not (tmp_path / "mlflow.db").exists() or all_runs(client_for(tmp_path)) == []


@pytest.mark.slow
def test_a_study_run_killed_after_reaching_its_target_resumes_with_the_same_steps_to_target(tmp_path):
    """The first step meeting the target is in the checkpoint: a run resumed after it logs that step, as the
    uninterrupted run does (not the step it resumed at)."""
    import signal

    from runner_support import run_id_from, start_cli, wait_for_run
    from test_resume import wait_for_checkpoint

    config = ["optimizer=adam", "lr=0.01", "objective=quadratic", "steps=10000", "checkpoint.every=500",
              "logging.plots=false", "+study.name=resume", "+study.lr_factor=1.0",
              "+study.targets.quadratic.loss_gap=0.5"]
    client = client_for(tmp_path)
    reference = client.get_run(run_id_from(run_cli([*config, "tracking.experiment=reference"], tmp_path).stdout))
    reached = reference.data.metrics["Summary/steps_to_target"]
    assert 0 < reached < 500 and reference.data.tags["study.target"] == "loss_gap <= 0.5"
    process = start_cli([*config, "tracking.experiment=killed"], tmp_path)
    try:
        run_id = wait_for_run(client, "killed", process).info.run_id
        wait_for_checkpoint(client, run_id, process, at_least_points=700)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        process.kill()
    run_cli([*config, "tracking.experiment=killed", f"resume={run_id}"], tmp_path)
    resumed = client.get_run(run_id)
    assert int(resumed.data.tags["resumed_from_step"]) >= 500
    assert resumed.data.metrics["Summary/steps_to_target"] == reached
