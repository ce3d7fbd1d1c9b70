"""Upload what runs kept in their spool while the tracking store was away, into the same runs.

    python -m experiments.sync mlflow-spool/<run id>      # one run's spool
    python -m experiments.sync mlflow-spool               # every spool in the folder
    python -m experiments.sync SPOOL --tracking-uri URI   # to another store than the one the run used

Each spool's operations (metric points, params, tags, artifacts, the final status) are sent in the order the run
made them; a spool is removed once all of it is in the store. Only folders the runner made as spools are read or
removed (they carry its marker, ``spool.marker``): any other folder, even one holding a ``journal.jsonl``, is refused
and left as it is, and removing a spool deletes only the files the spool wrote. Sending is idempotent, so an interrupted upload is
simply run again. A run that could not even be created (``tracking.spool=true`` with the store away) is created
now, with its original start time, in its experiment.
"""

from __future__ import annotations

import argparse
import sys

from .credentials import redact, reveal
from .errors import UserError
from .tracking import open_client
from .tracking.faults import describe
from .tracking.spool import JOURNAL, MARKER, JournalError, Spool, find, replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.sync", description=__doc__.split("\n\n")[0])
    parser.add_argument("spools", nargs="+", help="a run's spool folder, or a folder of them (mlflow-spool/)")
    parser.add_argument("--tracking-uri", help="send to this store instead of the one each run used")
    args = parser.parse_args(argv)
    folders = [folder for path in args.spools for folder in find(path)]
    if not folders:
        print(f"Error: no run spool at {', '.join(args.spools)}: a run spool is a folder the runner made under "
              f"tracking.spool_dir (mlflow-spool/ by default), with a {JOURNAL} and the marker {MARKER} naming it. "
              "Give such a folder or the folder holding them. Nothing was sent and nothing was deleted.",
              file=sys.stderr)
        return 2
    failures, unreadable = 0, 0
    for folder in folders:
        try:
            spool = Spool.open(folder)
        except JournalError as error:
            print(f"Error: {redact(error)}", file=sys.stderr)
            unreadable += 1
            continue
        uri = args.tracking_uri or spool.tracking_uri
        try:
            report = replay(spool, open_client(reveal(uri)))
        except JournalError as error:
            print(f"Error: {redact(error)}", file=sys.stderr)
            unreadable += 1
            continue
        except UserError as error:
            print(f"Error: {folder}: {redact(error)}", file=sys.stderr)
            failures += 1
            continue
        except Exception as error:  # noqa: BLE001 - reported per spool; the others still go
            print(f"Error: {folder}: stopped by {redact(describe(error))}. What was sent stays sent; run the command "
                  "again to send the rest.", file=sys.stderr)
            failures += 1
            continue
        finally:
            spool.close()
        status = f", final status {report.status}" if report.status else ""
        kept = (f"{folder} removed" if not report.left else
                f"the spool's own files removed; {len(report.left)} other files left in {folder}")
        print(f"run {report.run_id}: {report.operations} operations sent to {redact(uri)} ({report.points} metric "
              f"points, {report.artifacts} artifacts{status}); {kept}.")
    return 2 if unreadable else 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
