"""Sweeps end to end (``python run.py -m ...`` as a subprocess, one real SQLite store for the module): the parent run
and its children, joblib's parallel workers losing no point, Optuna, repeats with mean and spread, the compare CLI,
and every ``experiment=`` file in a tiny mode."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest

from runner_support import ROOT, client_for, history, run_cli, sweep

pytest.importorskip("mlflow")
pytest.importorskip("hydra")

# End-to-end (sweeps of several jobs, joblib workers and Optuna, as subprocesses): out of the quick subset `-m "not slow"`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("store")


def read_csv(client, run_id: str, name: str) -> list[dict]:
    from experiments.tracking.store import read_artifact

    text = read_artifact(run_id, name, lambda path: Path(path).read_text(), client.tracking_uri)
    return list(csv.DictReader(io.StringIO(text)))


def test_a_sweep_is_one_parent_with_a_child_per_job_and_a_comparison(store):
    parent, children, out = sweep(store, "basic", "optimizer=sgd,adam", "lr=0.01,0.1", "objective=quadratic",
                                  "steps=20")
    client = client_for(store)
    assert parent.info.status == "FINISHED"
    names = sorted(c.info.run_name for c in children)  # what differs between the jobs, not what all share
    assert names == sorted(f"optimizer={o} lr={lr}" for o in ("sgd", "adam") for lr in ("0.01", "0.1"))
    assert all(c.data.tags["overrides"].endswith("objective=quadratic steps=20") for c in children)
    parent = client.get_run(parent.info.run_id)
    tags = parent.data.tags
    assert tags["overrides"] == "optimizer=sgd,adam lr=0.01,0.1 objective=quadratic steps=20"
    assert "optimizer" not in tags and tags["objective"] == "quadratic"  # swept: no single optimizer
    best = min(children, key=lambda c: c.data.metrics["Summary/final_loss"])
    assert parent.data.metrics["Summary/best_final_loss"] == best.data.metrics["Summary/final_loss"]
    assert (tags["best_run_id"], tags["best_run_name"]) == (best.info.run_id, best.info.run_name)
    closing = out.stdout.strip().splitlines()[-1]
    assert closing.startswith(f"sweep {parent.info.run_id} finished: 4 runs, best final loss ")
    assert (f"View it at http://127.0.0.1:5000/#/experiments/{parent.info.experiment_id}/runs/"
            f"{parent.info.run_id}?workflowType=machine_learning (served by: mlflow ui --backend-store-uri ") in closing
    assert {c.info.experiment_id for c in children} == {parent.info.experiment_id}
    assert all(c.info.status == "FINISHED" for c in children)
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"comparison.png", "comparison_contour.png", "final_losses.csv", "summary.csv"} <= artifacts
    table = read_csv(client, parent.info.run_id, "final_losses.csv")
    assert {row["run_id"] for row in table} == {c.info.run_id for c in children}
    for row in table:
        assert float(row["final_loss"]) == history(client, row["run_id"], "Objective/loss")[-1][1]
    assert client.get_run(parent.info.run_id).data.tags["children"] == "4"


def test_parallel_joblib_workers_lose_no_point(store):
    steps = 300
    parent, children, out = sweep(store, "joblib", "hydra/launcher=joblib", "hydra.launcher.n_jobs=4",
                                  "optimizer=sgd,adam,rmsprop,adabelief", "lr=0.001", f"steps={steps}",
                                  "logging.plots=false", "tracking.experiment=parallel")
    client = client_for(store)
    assert len(children) == 4
    assert "database is locked" not in out.stderr
    for child in children:
        assert child.info.status == "FINISHED"
        metrics = child.data.metrics
        per_step = [k for k in metrics if k.startswith(("Objective/", "Optimizer/", "param/", "grad/"))]
        for key in per_step:
            expected = steps + 1 if key.startswith(("Objective/", "param/")) else steps
            assert len(history(client, child.info.run_id, key)) == expected, (child.info.run_name, key)


def test_repeats_run_each_configuration_with_several_seeds_and_report_mean_and_spread(store):
    parent, children, _ = sweep(store, "repeats", "optimizer=sgd,adam", "lr=0.05", "repeats=2",
                                "objective=logistic_regression", "steps=10", "tracking.experiment=repeats")
    assert len(children) == 4
    assert sorted(c.data.tags["seed"] for c in children) == ["0", "0", "1", "1"]
    assert {c.data.tags["configuration"] for c in children} == {
        "optimizer=sgd lr=0.05 repeats=2 objective=logistic_regression steps=10 tracking.experiment=repeats",
        "optimizer=adam lr=0.05 repeats=2 objective=logistic_regression steps=10 tracking.experiment=repeats"}
    summary = read_csv(client_for(store), parent.info.run_id, "summary.csv")
    assert sorted(int(row["runs"]) for row in summary) == [2, 2]
    for row in summary:
        assert float(row["min_final_loss"]) <= float(row["mean_final_loss"]) <= float(row["max_final_loss"])
        assert float(row["std_final_loss"]) > 0  # the seeds draw different data


def test_the_compare_cli_draws_the_comparison_of_runs_in_the_store(store, tmp_path):
    experiment = client_for(store).get_experiment_by_name("repeats")
    out = run_cli([experiment.name, "--out", str(tmp_path / "cmp")], store, module="experiments.compare")
    assert "compared 4 runs" in out.stdout
    rows = list(csv.DictReader((tmp_path / "cmp" / "summary.csv").open()))
    assert sorted(int(row["runs"]) for row in rows) == [2, 2]
    assert (tmp_path / "cmp" / "comparison.png").stat().st_size > 0


def test_the_compare_cli_writes_under_comparisons_which_git_ignores(store):
    out = run_cli(["repeats"], store, module="experiments.compare")
    assert "compared 4 runs" in out.stdout
    written = store / "comparisons" / "repeats" / "comparison.png"
    assert written.stat().st_size > 0 and not list(store.glob("comparison-*"))
    ignored = subprocess.run(["git", "check-ignore", "-q", "comparisons/repeats/comparison.png"], cwd=ROOT)
    assert ignored.returncode == 0, "comparisons/ is not in the repository's .gitignore"


def test_optuna_tunes_with_the_in_memory_study(store):
    parent, children, out = sweep(store, "optuna", "hparams_search=rosenbrock_optuna", "hydra.sweeper.n_trials=3",
                                  "steps=10", "tracking.experiment=optuna")
    assert len(children) == 3 and all(c.info.status == "FINISHED" for c in children)
    assert len({c.data.params["optimizer.lr"] for c in children}) == 3
    assert "Best value" in out.stdout + out.stderr


@pytest.mark.parametrize("experiment", sorted(p.stem for p in (ROOT / "configs" / "experiment").glob("*.yaml")))
def test_every_experiment_file_runs_in_a_tiny_mode(store, experiment):
    text = (ROOT / "configs" / "experiment" / f"{experiment}.yaml").read_text()
    args = [f"experiment={experiment}", "steps=3", f"tracking.experiment=tiny-{experiment}"]
    if "mode: MULTIRUN" in text:
        parent, children, _ = sweep(store, experiment, *args)
        assert children and all(c.info.status == "FINISHED" for c in children)
    else:
        run_cli(args, store)
        client = client_for(store)
        (run,) = client.search_runs([client.get_experiment_by_name(f"tiny-{experiment}").experiment_id])
        assert run.info.status == "FINISHED"
