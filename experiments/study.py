"""Redo a study's report (docs/runner.md, "Studies") from its runs in the store.

    python -m experiments.study <parent run id> [--tracking-uri URI] [--out DIR] [--attach]

Writes the report's files into ``comparisons/<parent run id>/`` under the current directory (``--out DIR``
elsewhere); ``--attach`` logs them (and the scores) to the parent run again, as the sweep did when it ended.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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
    out_dir = Path(args.out) if args.out else default_out_dir(args.parent, Path.cwd())
    files, _ = write_report(trials, out_dir)
    if args.attach:
        attach_study(client, args.parent)
    print(f"study of {len(trials)} runs of parent {args.parent}: " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
