"""Redo a study's report (docs/runner.md, "Studies") from its runs in the store.

    python -m experiments.study <parent run id> [--tracking-uri URI] [--out DIR] [--attach] [--held-out-seeds 2,3]

Writes the report's files into ``comparisons/<parent run id>/`` under the current directory (``--out DIR``
elsewhere); ``--attach`` logs them (and the scores) to the parent run again, as the sweep did when it ended.
``--held-out-seeds 2,3`` first re-runs each optimizer's chosen learning rate on each objective with those seeds, in
this process, as children of the parent (:mod:`experiments.studies.held_out`), then attaches the report with its
``held_out`` setting: for a study made before ``study.held_out_seeds`` ran them in the sweep, or for more seeds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def seed_list(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",")]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give seeds as integers >= 0 separated by commas, e.g. 2,3")
    return seeds


def main(argv: list[str] | None = None) -> int:
    from .compare import default_out_dir
    from .credentials import redact
    from .studies.report import attach_study, write_report
    from .studies.results import study_trials
    from .tracking import open_client, resolve_uri

    parser = argparse.ArgumentParser(prog="python -m experiments.study", description=__doc__.split("\n\n")[0])
    parser.add_argument("parent", help="the study's parent run id")
    parser.add_argument("--tracking-uri", default=None,
                        help="default: $MLFLOW_TRACKING_URI, else sqlite:///<current directory>/mlflow.db")
    parser.add_argument("--out", default=None, help="output directory (default: ./comparisons/<parent run id>)")
    parser.add_argument("--attach", action="store_true", help="also log the report to the parent run")
    parser.add_argument("--held-out-seeds", type=seed_list, default=None,
                        help="comma-separated seeds to re-run each chosen learning rate with (implies --attach)")
    args = parser.parse_args(argv)
    uri = resolve_uri(args.tracking_uri, Path.cwd())
    client = open_client(uri)
    from mlflow.exceptions import MlflowException

    try:
        client.get_run(args.parent)
    except MlflowException:
        print(f"{args.parent!r} is not a run in {redact(uri)}: give a study's parent run id.", file=sys.stderr)
        return 2
    trials = study_trials(client, args.parent)
    if not trials:
        print(f"run {args.parent} has no study trials among its children (runs of python run.py -m study=...).",
              file=sys.stderr)
        return 1
    if args.held_out_seeds:
        tuned_seeds = {t.seed for t in trials if not t.held_out}
        if tuned_seeds & set(args.held_out_seeds):
            print(f"--held-out-seeds {','.join(map(str, args.held_out_seeds))} is not allowed: seeds "
                  f"{sorted(tuned_seeds & set(args.held_out_seeds))} tuned the learning rates; give others.",
                  file=sys.stderr)
            return 2
        from .studies.held_out import rerun

        rerun(client, args.parent, trials, args.held_out_seeds, Path.cwd())
        trials = study_trials(client, args.parent)
    out_dir = Path(args.out) if args.out else default_out_dir(args.parent, Path.cwd())
    files, _ = write_report(trials, out_dir, uri)
    if args.attach or args.held_out_seeds:
        attach_study(client, args.parent)
    print(f"study of {len(trials)} runs of parent {args.parent}: " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
