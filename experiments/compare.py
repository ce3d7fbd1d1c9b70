"""Compare runs already in the store: loss curves (mean and spread over seeds), paths on one contour for 2-D
objectives, and tables of final losses.

    python -m experiments.compare <parent run id | experiment name or id> [--tracking-uri URI] [--out DIR]

The files go to ``comparisons/<target>/`` under the current directory (``--out DIR`` elsewhere); the repository's
``.gitignore`` ignores ``comparisons/``.

A parent run (a sweep) compares its child runs; an experiment compares its top-level runs that are not parents.
The sweep callback attaches the same files to the parent run when a sweep ends: ``comparison.png`` (with the
rates theory predicts when every run minimises one quadratic: :mod:`experiments.rates`),
``comparison_contour.png`` (2-D objectives, on the true loss; runs on other data, such as another ``data_seed``, get
a figure each: ``comparison_contour_<k>.png``), ``explorer.html`` (the trajectory explorer,
:mod:`experiments.explorer`), ``final_losses.csv`` (one row per run) and ``summary.csv`` (per configuration: runs,
mean, std, min, max of the final loss).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import plots

# MLflow draws a progress bar per downloaded artifact; a comparison downloads one per run.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
from .recording import LOSS
from .tracking.lifecycle import PARENT_TAG

COMPARISONS = "comparisons"  # the folder under the launch directory (ignored by the repository's .gitignore)
LOSS_KEYS = (LOSS, "loss")  # "loss": runs recorded before the metrics were named for the MLflow UI's sections


@dataclass
class RunSummary:
    run_id: str
    name: str
    configuration: str
    seed: str
    status: str
    final_loss: float
    losses: list[tuple[int, float]] = field(default_factory=list)


def child_runs(client, parent_run_id: str) -> list:
    parent = client.get_run(parent_run_id)
    return _search(client, parent.info.experiment_id, f"tags.`{PARENT_TAG}` = '{parent_run_id}'")


def _search(client, experiment_id: str, filter_string: str = "") -> list:
    runs, token = [], None
    while True:
        page = client.search_runs([experiment_id], filter_string=filter_string, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return sorted(runs, key=lambda r: r.info.start_time or 0)


def resolve_runs(client, target: str) -> tuple[list, object | None]:
    """(runs to compare, the parent run or None) for a parent run id, an experiment name or an experiment id."""
    from mlflow.exceptions import MlflowException

    try:
        parent = client.get_run(target)
        return child_runs(client, target), parent
    except MlflowException:
        pass
    experiment = client.get_experiment_by_name(target)
    if experiment is None:
        try:
            experiment = client.get_experiment(target)
        except MlflowException:
            experiment = None
    if experiment is None:
        raise SystemExit(f"{target!r} is neither a run id nor an experiment (name or id) in this store.")
    runs = [r for r in _search(client, experiment.experiment_id) if r.data.tags.get("configuration") is not None
            or any(key in r.data.metrics for key in LOSS_KEYS)]
    return runs, None


def loss_history(client, run_id: str) -> list[tuple[int, float]]:
    """The run's loss per step, sorted (``Objective/loss``; ``loss`` in runs recorded before that name)."""
    for key in LOSS_KEYS:
        history = client.get_metric_history(run_id, key)
        if history:
            return sorted((int(m.step), float(m.value)) for m in history)
    return []


def summarise(client, runs) -> list[RunSummary]:
    out = []
    for r in runs:
        history = loss_history(client, r.info.run_id)
        final = history[-1][1] if history else math.nan
        out.append(RunSummary(r.info.run_id, r.info.run_name or r.info.run_id, r.data.tags.get(
            "configuration", r.info.run_name or r.info.run_id), r.data.tags.get("seed", ""), r.info.status, final,
            history))
    return out


def group_curves(summaries: list[RunSummary]):
    """Per configuration: (label, mean curve) and, with several seeds, the min-max band."""
    groups: dict[str, list[RunSummary]] = {}
    for s in summaries:
        if s.losses:
            groups.setdefault(s.configuration, []).append(s)
    series, bands = [], {}
    for label, members in groups.items():
        if len(members) == 1:
            series.append((label, members[0].losses))
            continue
        common = sorted(set.intersection(*(set(dict(m.losses)) for m in members)))
        values = np.array([[dict(m.losses)[t] for t in common] for m in members])
        name = f"{label} (mean of {len(members)})"
        series.append((name, list(zip(common, values.mean(axis=0)))))
        bands[name] = (common, values.min(axis=0), values.max(axis=0))
    return series, bands


def write_tables(summaries: list[RunSummary], out_dir: Path) -> list[Path]:
    runs_path, summary_path = out_dir / "final_losses.csv", out_dir / "summary.csv"
    with runs_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["run_id", "run_name", "configuration", "seed", "status", "final_loss"])
        for s in sorted(summaries, key=lambda s: (math.isnan(s.final_loss), s.final_loss)):
            writer.writerow([s.run_id, s.name, s.configuration, s.seed, s.status, repr(s.final_loss)])
    groups: dict[str, list[float]] = {}
    for s in summaries:
        groups.setdefault(s.configuration, []).append(s.final_loss)
    with summary_path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["configuration", "runs", "mean_final_loss", "std_final_loss", "min_final_loss",
                         "max_final_loss"])
        rows = []
        for label, losses in groups.items():
            a = np.array(losses, dtype=np.float64)
            rows.append([label, len(a), float(a.mean()), float(a.std()), float(a.min()), float(a.max())])
        for row in sorted(rows, key=lambda r: (math.isnan(r[2]), r[2])):
            writer.writerow([row[0], row[1], *map(repr, row[2:])])
    return [runs_path, summary_path]


def contour_files(trajectories, out_dir: Path) -> list[Path]:
    """The paths on the true loss's contour, one figure per group of runs on the same data (2-D objectives):
    ``comparison_contour.png``, or ``comparison_contour_<k>.png`` titled with what tells the groups apart."""
    from .explorer import group_runs

    groups = [g for g in group_runs(trajectories) if g.objective is not None
              and plots.coordinates(g.objective.initial_params()) is not None]
    files = []
    for k, group in enumerate(groups, start=1):
        members = [trajectories[i] for i in group.runs]
        paths = [(t.name, t.flat("param")) for t in members]
        grid = plots.contour_grid(group.objective, group.objective.initial_params(), [p for _, p in paths])
        if grid is None:
            continue
        figure = plots.contour_figure(grid, paths, group.objective)
        name = "comparison_contour.png" if len(groups) == 1 else f"comparison_contour_{k}.png"
        if len(groups) > 1:
            figure.axes[0].set_title(group.label)
        files.append(plots.save(figure, out_dir / name))
    return files


def _param_value(text: str):
    """A param's value as the config had it (params are strings: ``10.0``, ``null``, ``[1.0, 2.0]``, ``1e-06``)."""
    import yaml

    for parse in (json.loads, yaml.safe_load):
        try:
            return parse(text)
        except (ValueError, yaml.YAMLError):
            continue
    return text


def objective_options(params: dict[str, str]) -> dict:
    """The ``objective`` config node of a run, rebuilt from its ``objective.*`` params."""
    options: dict = {}
    for key, text in params.items():
        if key.startswith("objective."):
            *parents, leaf = key.split(".")[1:]
            node = options
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = _param_value(text)
    return options


def reference_lines(runs, series) -> list:
    """The rates theory predicts (:mod:`experiments.rates`) beside the curves, when every run minimises one objective
    whose rates are known (the quadratic), with exact gradients."""
    from . import objectives, rates

    configurations = {json.dumps(objective_options(r.data.params), sort_keys=True) for r in runs}
    if len(configurations) != 1:
        return []
    options = json.loads(configurations.pop())
    if options.get("gradient_noise") or options.get("name") is None:
        return []
    try:
        objective = objectives.build(options)
    except Exception:  # noqa: BLE001 - an objective not buildable here (a plugin not installed) has no lines
        return []
    return rates.reference_lines(objective, [points for _, points in series])


def write_comparison(client, runs, out_dir: Path) -> list[Path]:
    """Every comparison file for ``runs`` into ``out_dir``; returns their paths."""
    from . import explorer

    out_dir.mkdir(parents=True, exist_ok=True)
    summaries = summarise(client, runs)
    files = write_tables(summaries, out_dir)
    series, bands = group_curves(summaries)
    if series:
        figure = plots.loss_figure(series, bands, references=reference_lines(runs, series))
        files.append(plots.save(figure, out_dir / "comparison.png"))
    trajectories, missing = explorer.load(client, runs)
    files += contour_files(trajectories, out_dir)
    page = explorer.comparison_page(trajectories, out_dir / explorer.ARTIFACT, missing=missing)
    if page is not None:
        files.append(page)
    return files


def attach_comparison(client, parent_run_id: str) -> list[str]:
    """Draw the comparison of a parent's children and log it as the parent's artifacts."""
    with tempfile.TemporaryDirectory(prefix="comparison-") as scratch:
        files = write_comparison(client, child_runs(client, parent_run_id), Path(scratch))
        for f in files:
            client.log_artifact(parent_run_id, str(f))
        return [f.name for f in files]


def default_out_dir(target: str, launch_dir: Path) -> Path:
    """``<launch_dir>/comparisons/<target>``, the target made a safe folder name (an experiment may be named
    ``a/b`` or ``..``)."""
    name = re.sub(r"[^A-Za-z0-9._=-]", "_", target).strip(".") or "_"
    return launch_dir / COMPARISONS / name


def main(argv: list[str] | None = None) -> int:
    from .tracking import open_client, resolve_uri

    parser = argparse.ArgumentParser(prog="python -m experiments.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="a parent run id, or an experiment name or id")
    parser.add_argument("--tracking-uri", default=None,
                        help="default: $MLFLOW_TRACKING_URI, else sqlite:///<current directory>/mlflow.db")
    parser.add_argument("--out", default=None, help=f"output directory (default: ./{COMPARISONS}/<target>)")
    args = parser.parse_args(argv)
    uri = resolve_uri(args.tracking_uri, Path.cwd())
    client = open_client(uri)
    runs, parent = resolve_runs(client, args.target)
    if not runs:
        from .credentials import redact

        print(f"no runs to compare under {args.target!r} in {redact(uri)}", file=sys.stderr)
        return 1
    out_dir = Path(args.out) if args.out else default_out_dir(args.target, Path.cwd())
    files = write_comparison(client, runs, out_dir)
    print(f"compared {len(runs)} runs{' of parent ' + parent.info.run_id if parent else ''}: "
          + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
