"""``study.html``: a study's report as one self-contained, interactive page (docs/runner.md, "Studies").

The performance profiles per setting, each step of a curve linked to the objectives it counts and the runs behind
their times; the learning-rate sensitivity (final loss or steps to target against the learning-rate factor, a band
over seeds); the times table with each chosen trial. Every number is computed here, by :mod:`.profiles`,
:mod:`.figures` and :mod:`.held_out` (the page only draws); scripts and styles are inline and the explorer's
(``experiments/explorer/assets``: util.js, page.css) are reused, so the page needs no network and shows in MLflow's
artifact viewer.
"""

from __future__ import annotations

import html
import json
import math
from importlib import resources
from pathlib import Path

from ..explorer.page import asset as explorer_asset
from . import figures, profiles
from .held_out import chosen_factors
from .results import Trial, tuning

ARTIFACT = "study.html"
SCRIPTS = ("study_profiles.js", "study_lr.js", "study_app.js")  # after the explorer's util.js, in this order


def study_page(trials: list[Trial], result: dict, path: Path, tracking_uri: str | None = None) -> Path:
    """Write the page of ``trials`` (``result``: :func:`.report.analyse` of them) to ``path``; runs link to the
    MLflow UI of ``tracking_uri`` (no links without one)."""
    path = Path(path)
    path.write_text(render(page_data(trials, result, tracking_uri)), encoding="utf-8")
    return path


def render(data: dict) -> str:
    text = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    script = "\n".join([explorer_asset("util.js"), *(_asset(name) for name in SCRIPTS)])
    page = _asset("study.html")
    for key, value in (("__TITLE__", html.escape(data["title"])),
                       ("__STYLE__", explorer_asset("page.css") + "\n" + _asset("study.css")),
                       ("__SCRIPT__", script), ("__DATA__", text)):
        page = page.replace(key, value, 1)
    return page


def _asset(name: str) -> str:
    return (resources.files(__package__) / "assets" / name).read_text(encoding="utf-8")


def page_data(trials: list[Trial], result: dict, tracking_uri: str | None) -> dict:
    objectives = sorted({t.objective for t in trials})
    optimizers = sorted({t.optimizer for t in trials})
    grid = tuning(trials)
    title = f"Optimizer study: {len(optimizers)} optimizers on {len(objectives)} objectives"
    subtitle = (f"{len(trials)} runs: {', '.join(optimizers)} on {', '.join(objectives)}; "
                f"{len({t.lr_factor for t in grid})} learning-rate factors x {len({t.seed for t in grid})} seeds"
                + (f", and {len(trials) - len(grid)} held-out re-runs." if len(grid) < len(trials) else "."))
    return {"title": title, "subtitle": subtitle, "optimizers": optimizers, "tau_max": profiles.TAU_MAX,
            "tau_right": figures.tau_right(result["ratios"]),
            "settings": [setting_data(s, trials, result) for s in result["ratios"]],
            "runs": {t.run_id: run_data(t, tracking_uri) for t in trials},
            "sensitivity": [sensitivity_data(o, grid) for o in objectives],
            "table": table_rows(trials, result), "links": links_note(tracking_uri), "notes": NOTES}


NOTES = [
    "Times (AlgoPerf's external tuning rule, a seed playing the part of one of its studies): tuned, the median over "
    "seeds of each seed's fewest steps over the learning-rate trials; default, the median over seeds of the default "
    "rate's steps; held_out, the chosen rate re-run on seeds the tuning did not see. A run that never reached the "
    "target takes infinitely long; a time of 0 steps (the start on target) counts as 1.",
    "Performance profiles (Dolan and More, 2002): r = an optimizer's time on an objective over the fastest "
    "optimizer's, rho(tau) = the share of objectives with r <= tau. Score (AlgoPerf): rho integrated from 1 to "
    f"{profiles.TAU_MAX:g} and divided by {profiles.TAU_MAX - 1:g}; 1 is fastest everywhere.",
    "Sensitivity: a run without a finite final loss (it diverged), or that never reached its target, has no value "
    "for that measure; a point's median, min and max are over the seeds with one, and a factor on which no seed has "
    "one is left out of the line.",
    "The same numbers are in this run's performance_profile.csv, scores.csv, study_times.csv and "
    "steps_to_target.csv, and drawn in performance_profile.png and lr_sensitivity.png.",
]


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) and abs(value) < 1e300 else None  # MLflow's inf is 1.8e308


def setting_data(setting: str, trials: list[Trial], result: dict) -> dict:
    """One setting's profiles: per optimizer its score and its steps (each tau where rho rises, the rho there and
    the objectives it counts), and per (objective, optimizer) the time, its ratio and the runs behind it."""
    ratios, times = result["ratios"][setting], result["times"][setting]
    behind = profiles.behind(trials, setting)
    curves = []
    for optimizer in profiles.optimizers_of(ratios):
        mine = {p: by.get(optimizer, math.inf) for p, by in ratios.items()}
        taus = sorted({r for r in mine.values() if math.isfinite(r)})
        rhos = profiles.profile(ratios, optimizer, taus) if taus else []
        steps = [{"tau": tau, "rho": float(rho), "problems": sorted(p for p, r in mine.items() if r <= tau)}
                 for tau, rho in zip(taus, rhos)]
        curves.append({"name": optimizer, "score": result["scores"][(setting, optimizer)],
                       "solved": sum(math.isfinite(r) for r in mine.values()), "steps": steps})
    cells = {p: {o: {"time": _finite(times[p][o]), "ratio": _finite(r),
                     "runs": [t.run_id for t in behind.get((p, o), [])]}
                 for o, r in by.items()} for p, by in ratios.items()}
    return {"name": setting, "title": figures.TITLES.get(setting, setting), "problems": sorted(ratios),
            "curves": curves, "cells": cells}


def run_data(t: Trial, tracking_uri: str | None) -> dict:
    from ..tracking.store import run_link

    url = run_link(tracking_uri, t.experiment_id, t.run_id) if tracking_uri and t.experiment_id else None
    return {"name": t.run_name, "objective": t.objective, "optimizer": t.optimizer, "lr": _finite(t.lr),
            "factor": t.lr_factor, "seed": t.seed, "steps": _finite(t.steps_to_target),
            "final_loss": _finite(t.final_loss), "status": t.status, "held_out": t.held_out, "url": url}


MEASURES = {"loss": lambda t: t.final_loss, "steps": lambda t: t.steps_to_target}


def sensitivity_data(objective: str, grid: list[Trial]) -> dict:
    """Per optimizer, per learning-rate factor: the runs, and for each measure (final loss, steps to target) the
    median, min and max over the seeds with a finite value (null when none has one)."""
    mine = [t for t in grid if t.objective == objective]
    lines = []
    for optimizer in sorted({t.optimizer for t in mine}):
        runs = [t for t in mine if t.optimizer == optimizer]
        stats = {}
        for measure, value in MEASURES.items():
            keys, mid, low, high = figures.over_seeds(runs, value, key=lambda t: t.lr_factor)
            stats[measure] = {k: [m, lo, hi] for k, m, lo, hi in zip(keys, mid, low, high)}
        points = []
        for factor in sorted({t.lr_factor for t in runs}):
            at = [t for t in runs if t.lr_factor == factor]
            points.append({"factor": factor, "lr": _finite(at[0].lr), "runs": [t.run_id for t in at],
                           **{m: stats[m].get(factor) for m in MEASURES}})
        lines.append({"optimizer": optimizer, "points": points})
    return {"objective": objective, "target": next((t.target for t in mine), ""),
            "diverged": sum(_finite(t.final_loss) is None for t in mine), "lines": lines}


def table_rows(trials: list[Trial], result: dict) -> list[dict]:
    """Per (objective, optimizer): its time and ratio in each setting, and its chosen trial (factor, rate, runs)."""
    chosen = chosen_factors(trials)
    rows = []
    for (objective, optimizer), factor in sorted(chosen.items()):
        runs = [t for t in tuning(trials) if (t.objective, t.optimizer, t.lr_factor) == (objective, optimizer, factor)]
        cells = {}
        for setting, times in result["times"].items():
            if optimizer in times.get(objective, {}):
                cells[setting] = {"time": _finite(times[objective][optimizer]),
                                  "ratio": _finite(result["ratios"][setting][objective][optimizer])}
        rows.append({"objective": objective, "optimizer": optimizer, "target": runs[0].target, "settings": cells,
                     "chosen": {"factor": factor, "lr": _finite(runs[0].lr), "runs": [t.run_id for t in runs]}})
    return rows


def links_note(tracking_uri: str | None) -> str:
    if not tracking_uri:
        return "Runs are listed by name and id (no tracking store was given, so no links to the MLflow UI)."
    from ..credentials import redact
    from ..tracking.store import ui_address, ui_command

    served = "" if tracking_uri.startswith(("http://", "https://")) else (
        f" (served by: {redact(ui_command(tracking_uri))})")
    return (f"Each run links to the MLflow UI at {ui_address(tracking_uri)}{served}. Inside MLflow's artifact viewer this page is sandboxed and links "
            "cannot open there: download it and open it on its own, or copy a run id (each one is selectable text).")
