"""The Hydra callback that gives a sweep (``-m``) one MLflow parent run.

``on_multirun_start`` runs once in the launching process before any job: it opens the store (so a fresh SQLite file
is created and migrated once: four jobs migrating a new file at once crash in MLflow's schema migration), creates
the experiment and the parent run, and writes the parent's id to the sweep directory, where every job (in any
launcher's process) finds it and creates its run with ``mlflow.parentRunId`` set explicitly.
``on_multirun_end`` draws the comparison of the children onto the parent and ends it. If the sweep dies first, an
``atexit`` hook still ends the parent (FAILED), so no run stays RUNNING.
"""

from __future__ import annotations

import atexit
import sys
from pathlib import Path

from hydra.experimental.callback import Callback

from .errors import TrackingUnavailable, UserError, exit_with
from .tracking.parent import ParentRun


def open_parent(cfg, launch_dir: Path, name: str, sweep_dir: str | None) -> ParentRun:
    from .tags import run_tags
    from .tracking import TrackedRun, get_or_create_experiment, open_client, resolve_uri
    from .tracking.store import default_artifact_location

    uri = resolve_uri(cfg.tracking.get("uri"), launch_dir)
    client = open_client(uri, lock_timeout=float(cfg.tracking.get("lock_timeout", 60)))
    experiment = str(cfg.tracking.experiment)
    experiment_id = get_or_create_experiment(client, experiment, default_artifact_location(uri, experiment))
    tags = run_tags(cfg, [], {"sweep": "parent"})
    if sweep_dir:
        tags["sweep_dir"] = str(sweep_dir)
    run = TrackedRun.start(client, experiment_id, name, tags=tags)
    run.writer.close()  # a parent logs no metrics
    parent = ParentRun(run.run_id, experiment_id, uri)
    atexit.register(_end_if_open, parent)
    return parent


def close_parent(parent: ParentRun, status: str = "FINISHED") -> None:
    """Attach the children's comparison and end the parent with ``status`` (FAILED if some child failed)."""
    from .compare import attach_comparison, child_runs
    from .tracking import open_client
    from .tracking.store import retrying

    client = open_client(parent.tracking_uri)
    try:
        children = child_runs(client, parent.run_id)
        failed = [c for c in children if c.info.status != "FINISHED"]
        client.set_tag(parent.run_id, "children", str(len(children)))
        client.set_tag(parent.run_id, "children_not_finished", str(len(failed)))
        if children:
            attach_comparison(client, parent.run_id)
    finally:
        retrying(client.set_terminated, parent.run_id, status)


def _end_if_open(parent: ParentRun) -> None:
    """At exit, end a parent the sweep left open: KILLED if a child was interrupted (Ctrl-C), else FAILED."""
    from .compare import child_runs
    from .tracking import open_client

    try:
        client = open_client(parent.tracking_uri)
        if client.get_run(parent.run_id).info.status != "RUNNING":
            return
        interrupted = any(c.info.status == "KILLED" for c in child_runs(client, parent.run_id))
        client.set_tag(parent.run_id, "failure_reason", "the sweep stopped before its end"
                       + (" (interrupted)" if interrupted else ""))
        client.set_terminated(parent.run_id, "KILLED" if interrupted else "FAILED")
    except Exception:  # noqa: BLE001 - best effort at interpreter exit
        pass


class MlflowSweepCallback(Callback):
    def __init__(self) -> None:
        self.parent: ParentRun | None = None

    def on_multirun_start(self, config, **kwargs) -> None:
        from omegaconf import OmegaConf

        from .preflight import check_sweep_jobs

        try:
            check_sweep_jobs(config)  # every job's config is valid before the parent run is created
        except UserError as error:
            exit_with(error)  # Hydra turns a callback's exception into a warning and would sweep on
        sweep_dir = str(config.hydra.sweep.dir)
        launch_dir = Path(config.hydra.runtime.cwd)
        overrides = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)  # lr=${...} as typed
        name = "sweep " + (" ".join(overrides) or Path(sweep_dir).name)
        try:
            self.parent = open_parent(config, launch_dir, name, sweep_dir)
        except TrackingUnavailable as error:
            if not config.tracking.get("spool"):
                exit_with(error)
            print(f"{error}\nWith tracking.spool=true the jobs run anyway, each spooling its own run; they are not "
                  "grouped under a parent run.", file=sys.stderr, flush=True)
            return
        except UserError as error:  # a store that cannot be opened: stop before any job
            exit_with(error)
        self.parent.write(sweep_dir)

    def on_multirun_end(self, config, **kwargs) -> None:
        if self.parent is not None:
            close_parent(self.parent, "FINISHED")
