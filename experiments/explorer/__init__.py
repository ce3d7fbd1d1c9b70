"""The trajectory explorer: one self-contained HTML page of optimizer trajectories.

One landscape per group of runs on the same data (the true loss over the parameter plane, or over one plane shared
by every path for more coordinates), every path on it, a step slider with play/pause moving a marker along each path,
the loss curves, the anatomy of each update (negative gradient and actual update as arrows, their cosine, the
effective step size per coordinate) and a readout of every recorded value at the selected step, optimizer state
included. Hand-written SVG and canvas, no library: the page stays small (a 10,000-step run well under 3 MB) and
needs no network.

- :func:`run_page`: the page of the run a :class:`~experiments.loop.Loop` just made (logged as ``explorer.html``);
- :func:`comparison_page`: the page of runs in a store (a sweep's children, ``python -m experiments.compare``).
"""

from __future__ import annotations

from pathlib import Path

from .page import COMPARISON_PAGE_BYTES, RUN_PAGE_BYTES, page_data, render
from .runs import RunTrajectory, from_store, group_runs

ARTIFACT = "explorer.html"

__all__ = ["ARTIFACT", "RunTrajectory", "comparison_page", "group_runs", "load", "page_html", "run_page"]


def page_html(runs: list[RunTrajectory], title: str, subtitle: str, max_bytes: int, objective=None,
              notes: list[str] = ()) -> str:
    """The page of ``runs`` (grouped by the data they ran on); ``objective``, when given, is every run's."""
    groups = group_runs(runs, objective)
    return render(page_data(runs, groups, title, subtitle, max_bytes, list(notes)))


def run_page(path: str | Path, arrays: dict, cfg, objective, run_id: str, run_name: str,
             status: str = "FINISHED") -> Path:
    """Write the page of one run (``arrays``: its trajectory, ``cfg``: its resolved config) to ``path``."""
    from ..config import plain

    objective_cfg = plain(cfg.objective)
    run = RunTrajectory(run_id, run_name, arrays, objective_cfg, optimizer=str(cfg.optimizer.name), status=status)
    title = f"{cfg.optimizer.name} on {cfg.objective.name}"
    subtitle = f"Run {run_id}: {len(run.steps):,} recorded steps of {int(cfg.steps):,}, {cfg.dtype}."
    path = Path(path)
    path.write_text(page_html([run], title, subtitle, RUN_PAGE_BYTES, objective), encoding="utf-8")
    return path


def comparison_page(runs: list[RunTrajectory], path: str | Path, title: str | None = None, subtitle: str = "",
                    missing: list[str] = ()) -> Path | None:
    """Write the page of ``runs`` (loaded with :func:`load`) to ``path``; None when there is none. ``missing``
    names the runs left out for want of a trajectory."""
    if not runs:
        return None
    notes = [f"Not shown (no trajectory.npz): {', '.join(missing)}."] if missing else []
    common = _shared_words([t.name for t in runs])
    for t in runs:  # the legend keeps what tells the runs apart; the subtitle says what they share
        t.name = " ".join(w for w in t.name.split() if w not in common) or t.name
    objectives = sorted({str((t.objective_cfg or {}).get("name", "?")) for t in runs})
    title = title or f"{len(runs)} runs on {', '.join(objectives)}"
    longest = max((int(t.steps[-1]) for t in runs if len(t.steps)), default=0)
    said = [w for w in common if not w.startswith(WHERE_RECORDED)]  # where a run is stored says nothing of it
    subtitle = subtitle or (f"{len(runs)} runs of up to {longest:,} steps"
                            + (f"; every one with {' '.join(said)}." if said else "."))
    path = Path(path)
    path.write_text(page_html(runs, title, subtitle, COMPARISON_PAGE_BYTES, notes=notes), encoding="utf-8")
    return path


def load(client, runs) -> tuple[list[RunTrajectory], list[str]]:
    """The trajectories of stored ``runs`` (MLflow run entities), and the names of those without one."""
    loaded, missing = [], []
    for run in runs:
        trajectory = from_store(client, run)
        if trajectory is None:
            missing.append(run.info.run_name or run.info.run_id)
        else:
            loaded.append(trajectory)
    return loaded, missing


WHERE_RECORDED = ("tracking.", "logging.", "checkpoint.", "limits.", "hydra.")


def _shared_words(names: list[str]) -> list[str]:
    """The words (``key=value`` overrides) every one of several run names holds, in the first name's order."""
    if len(names) < 2:
        return []
    sets = [set(name.split()) for name in names]
    return [w for w in names[0].split() if all(w in s for s in sets)]
