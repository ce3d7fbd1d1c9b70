"""The HTML page: one self-contained file (styles, scripts and data inline; nothing fetched), so it works opened from
disk and in MLflow's artifact viewer, which shows an ``.html`` artifact in a sandboxed iframe from a blob URL."""

from __future__ import annotations

import html
import json
from importlib import resources

import numpy as np

from . import payload
from .runs import Group, RunTrajectory

SCRIPTS = ("util.js", "chart.js", "landscape.js", "app.js")  # in this order: each uses the ones before it
RUN_PAGE_BYTES = 3_000_000
COMPARISON_PAGE_BYTES = 5_000_000
DRAWN_POINTS = 1500  # as in assets/chart.js and landscape.js


def asset(name: str) -> str:
    return (resources.files(__package__) / "assets" / name).read_text(encoding="utf-8")


def render(data: dict) -> str:
    """The page for ``data`` (:func:`page_data`)."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=_plain)
    text = text.replace("</", "<\\/")  # the data cannot end its <script> element
    script = "\n".join(asset(name) for name in SCRIPTS)
    page = asset("page.html")
    for key, value in (("__TITLE__", html.escape(data["title"])), ("__STYLE__", asset("page.css")),
                       ("__SCRIPT__", script), ("__DATA__", text)):
        page = page.replace(key, value, 1)
    return page


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)


def page_data(runs: list[RunTrajectory], groups: list[Group], title: str, subtitle: str, max_bytes: int,
              notes: list[str] = ()) -> dict:
    """Everything the page shows, within ``max_bytes`` (the landscapes first, the readout in what is left)."""
    group_data, planes = [], {}
    for group in groups:
        data, plane = payload.group_payload(group, runs)
        group_data.append(_finite(data))
        planes.update({i: plane for i in group.runs})
    used = sum(len(json.dumps(g, default=_plain)) for g in group_data) + 80_000  # the landscapes, scripts, styles
    shown, stride = payload.readout_plan(runs, max(int(0.92 * max_bytes) - used, 100_000))
    run_data = [payload.run_payload(run, planes[i], shown, stride) for i, run in enumerate(runs)]
    for group in groups:
        if getattr(group.objective, "minibatches", False):
            for i in group.runs:
                run_data[i]["full_loss"] = payload.full_loss_along(runs[i], group.objective)
    return {"title": title, "subtitle": subtitle, "groups": group_data, "runs": run_data,
            "notes": list(notes) + _notes(runs, groups, shown, stride, max_bytes)}


def _finite(data: dict) -> dict:
    """JSON has no NaN: numbers outside the binary arrays are finite or null."""
    def fix(value):
        if isinstance(value, float):
            return value if np.isfinite(value) else None
        if isinstance(value, (list, tuple)):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    return fix(data)


def _notes(runs, groups, shown: int, stride: int, max_bytes: int) -> list[str]:
    notes = [f"Paths and curves are drawn through at most {DRAWN_POINTS:,} points each; the markers, arrows and the "
             "readout use each recorded step's exact values, as the run recorded them (float32 runs in float32)."]
    if any(int(np.prod(shape)) > shown for run in runs for _, shape in run.layout):
        notes.append(f"Tensors of more than {shown} elements: the readout shows their first {shown} elements and "
                     "their norm (each run's trajectory.npz holds every element).")
    if any(getattr(g.objective, "minibatches", False) for g in groups):
        notes.append(f"Minibatch objectives: the loss each step recorded is its minibatch's; the full-data loss "
                     f"(the landscape's function) is drawn along each path at up to {payload.FULL_LOSS_POINTS} "
                     "steps, evenly spaced.")
    if stride > 1:
        notes.append(f"To keep this page under {max_bytes / 1e6:.0f} MB it holds every {stride}th recorded step "
                     "(and the last); each run's trajectory.npz holds them all.")
    if any(len(run.steps) > 1 and int(np.diff(run.steps).max()) > 1 for run in runs):
        notes.append("Some runs recorded every k-th step only (logging.every): an update Δθ is the change between "
                     "two recorded steps, and the effective step size is taken over it.")
    if len(groups) > 1:
        notes.append("Runs on different objectives, settings or data (such as another data_seed) are not drawn on "
                     "one surface: each has its own panel.")
    notes.append("The arrows at each marker: solid, the update Δθ the optimizer made at that step; dashed, −lr·∇L, "
                 "the step plain gradient descent with the same learning rate would have made. Both are in the "
                 "landscape's plane.")
    return notes
