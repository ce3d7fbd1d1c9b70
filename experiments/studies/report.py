"""A study's report on its parent run, computed from the children read back from MLflow.

Files: ``steps_to_target.csv`` (one row per child run), ``study_times.csv`` (per setting, objective and optimizer:
the time to target, its ratio to the best, the learning-rate trials it had), ``performance_profile.csv`` and ``.png``
(rho per setting, optimizer and tau), ``scores.csv`` (the AlgoPerf-style score per setting and optimizer),
``lr_sensitivity.png`` and ``study.html`` (all of it on one interactive page, :mod:`.page`); metrics
``Score/tuned/<optimizer>`` and ``Score/default/<optimizer>``; the tag
``study_lr_trials`` (the learning-rate trials each optimizer had on each objective: one number when all are equal).
With held-out re-runs among the children (:mod:`.held_out`), a third setting ``held_out`` in each, listed first.
"""

from __future__ import annotations

import csv
import math
import tempfile
from pathlib import Path

from .. import plots
from . import figures, profiles
from .page import ARTIFACT as STUDY_PAGE
from .page import study_page
from .results import Trial, budgets, study_trials, tuning


def analyse(trials: list[Trial]) -> dict:
    """times, ratios (per setting) and scores ((setting, optimizer) -> score) of a study's trials; the setting
    "held_out" only when some trials are held-out re-runs, and then first: it is the study's headline (the tuned
    setting picks its best trial on the very seeds it is scored on)."""
    settings = [*([profiles.HELD_OUT] if any(t.held_out for t in trials) else []), *profiles.SETTINGS]
    times = {s: profiles.times(trials, s) for s in settings}
    ratios = {s: profiles.ratios(times[s]) for s in settings}
    scores = {(s, o): profiles.score(ratios[s], o) for s in settings for o in profiles.optimizers_of(times[s])}
    return {"times": times, "ratios": ratios, "scores": scores}


def _number(value: float) -> str:
    return "" if not math.isfinite(value) else repr(value)


def write_report(trials: list[Trial], out_dir: Path, tracking_uri: str | None = None) -> tuple[list[Path], dict]:
    """The report's files in ``out_dir``; ``study.html`` links each run to the MLflow UI of ``tracking_uri``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = analyse(trials)
    files = [_trials_csv(trials, out_dir / "steps_to_target.csv"),
             _times_csv(result, budgets(trials), out_dir / "study_times.csv"),
             _profile_csv(result["ratios"], out_dir / "performance_profile.csv"),
             _scores_csv(result, out_dir / "scores.csv")]
    files.append(plots.save(figures.profile_figure(result["ratios"], result["scores"]),
                            out_dir / "performance_profile.png"))
    files.append(plots.save(figures.sensitivity_figure(tuning(trials)), out_dir / "lr_sensitivity.png"))
    files.append(study_page(trials, result, out_dir / STUDY_PAGE, tracking_uri))
    return files, result


def _write(path: Path, header: list[str], rows) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _trials_csv(trials: list[Trial], path: Path) -> Path:
    return _write(path, ["run_id", "run_name", "objective", "optimizer", "lr_factor", "lr", "seed", "target",
                         "steps_to_target", "final_loss", "status", "held_out"],
                  ([t.run_id, t.run_name, t.objective, t.optimizer, repr(t.lr_factor), repr(t.lr), t.seed, t.target,
                    "" if math.isinf(t.steps_to_target) else int(t.steps_to_target), _number(t.final_loss), t.status,
                    str(t.held_out).lower()]
                   for t in trials))


def _times_csv(result: dict, lr_trials: dict, path: Path) -> Path:
    rows = []
    for setting in result["times"]:
        for objective, by_optimizer in sorted(result["times"][setting].items()):
            for optimizer, time in sorted(by_optimizer.items()):
                rows.append([setting, objective, optimizer, _number(time),
                             _number(result["ratios"][setting][objective][optimizer]),
                             lr_trials[(objective, optimizer)] if setting == "tuned" else 1])
    return _write(path, ["setting", "objective", "optimizer", "steps_to_target", "ratio_to_best", "lr_trials"], rows)


def _profile_csv(ratios: dict, path: Path) -> Path:
    rows = []
    for setting, by_problem in ratios.items():
        taus = profiles.tau_grid(by_problem)
        for optimizer in profiles.optimizers_of(by_problem):
            for tau, rho in zip(taus, profiles.profile(by_problem, optimizer, taus)):
                rows.append([setting, optimizer, repr(float(tau)), repr(float(rho))])
    return _write(path, ["setting", "optimizer", "tau", "rho"], rows)


def _scores_csv(result: dict, path: Path) -> Path:
    rows = []
    order = list(result["times"])  # the headline setting first
    for (setting, optimizer), value in sorted(result["scores"].items(), key=lambda kv: (order.index(kv[0][0]),
                                                                                         -kv[1])):
        solved = sum(math.isfinite(by[optimizer]) for by in result["times"][setting].values() if optimizer in by)
        rows.append([setting, optimizer, repr(value), solved, len(result["times"][setting])])
    return _write(path, ["setting", "optimizer", "score", "objectives_solved", "objectives"], rows)


def score_metric(setting: str, optimizer: str) -> str:
    return f"Score/{setting}/{optimizer}"


def lr_trials_tag(trials: list[Trial]) -> str:
    counts = budgets(trials)
    if len(set(counts.values())) == 1:
        return str(next(iter(counts.values())))
    return ", ".join(f"{o} on {p}: {n}" for (p, o), n in sorted(counts.items()))


def attach_study(client, parent_run_id: str) -> list[str]:
    """The report of a study's parent: its files as artifacts, its scores as metrics; [] when no child is a trial."""
    trials = study_trials(client, parent_run_id)
    if not trials:
        return []
    with tempfile.TemporaryDirectory(prefix="study-") as scratch:
        files, result = write_report(trials, Path(scratch), client.tracking_uri)
        for f in files:
            client.log_artifact(parent_run_id, str(f))
    for (setting, optimizer), value in result["scores"].items():
        client.log_metric(parent_run_id, score_metric(setting, optimizer), value, step=0)
    client.set_tag(parent_run_id, "study_lr_trials", lr_trials_tag(trials))
    return [f.name for f in files]
