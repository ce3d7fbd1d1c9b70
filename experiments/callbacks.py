"""The Hydra callback that gives a sweep (``-m``) one MLflow parent run.

``on_multirun_start`` runs once in the launching process before any job: it opens the store (so a fresh SQLite file
is created and migrated once: four jobs migrating a new file at once crash in MLflow's schema migration), creates
the experiment and the parent run, and writes the parent's id to the sweep directory, where every job (in any
launcher's process) finds it and creates its run with ``mlflow.parentRunId`` set explicitly.
``on_multirun_end`` draws the comparison of the children onto the parent and ends it. Interrupted (Ctrl-C,
SIGTERM: :mod:`experiments.sweep`), the sweep ends its parent KILLED once its jobs have stopped; if it dies first, an
``atexit`` hook still ends the parent (FAILED, or KILLED when interrupted), so no run stays RUNNING. A launcher
killed hard runs no hook: its parent holds a lease (:mod:`experiments.tracking.lease`, renewed while the sweep
runs), and the same sweep run again, taking over its runs, ends a parent whose launcher is gone KILLED
(:func:`experiments.reuse.adopt`).
"""

from __future__ import annotations

import atexit
import sys
from pathlib import Path

from hydra.experimental.callback import Callback

from . import signals, startup, sweep
from .errors import TrackingUnavailable, UserError, exit_with
from .tracking.parent import ParentRun

_open_parents: list[ParentRun] = []  # parents this process opened and has not ended yet
_heartbeats: dict = {}  # parent run id -> the Heartbeat renewing its lease while this process has it open


def open_parent(cfg, launch_dir: Path, name: str, sweep_dir: str | None, overrides: list[str] = (),
                swept: set[str] = frozenset()) -> ParentRun:
    """The parent run of a sweep (or of one configuration's repeats): tagged with the sweep's ``overrides`` as
    given, and with the run tags of what it does not vary (``swept``: the keys it varies)."""
    import json

    from .tags import constant_overrides, parent_tags
    from .tracking.parent import CONSTANT_TAG
    from .tracking import TrackedRun, get_or_create_experiment, open_client, resolve_uri
    from .tracking.lease import TAG as LEASE_TAG
    from .tracking.lease import Heartbeat, Lease
    from .tracking.store import default_artifact_location

    uri = resolve_uri(cfg.tracking.get("uri"), launch_dir)
    client = open_client(uri, lock_timeout=float(cfg.tracking.get("lock_timeout", 60)))
    experiment = str(cfg.tracking.experiment)
    experiment_id = get_or_create_experiment(client, experiment, default_artifact_location(uri, experiment))
    tags = parent_tags(cfg, overrides, swept)
    constant = tuple(constant_overrides(overrides)) if sweep_dir else ()
    if sweep_dir:
        tags["sweep_dir"] = str(sweep_dir)
        tags[CONSTANT_TAG] = json.dumps(constant)
    lease = Lease.configured(cfg.tracking)
    tags[LEASE_TAG] = lease.text()
    run = TrackedRun.start(client, experiment_id, name, tags=tags)
    run.writer.close()  # a parent logs its summary through the client when it ends
    parent = ParentRun(run.run_id, experiment_id, uri, constant)
    _heartbeats[parent.run_id] = Heartbeat(lambda text: client.set_tag(parent.run_id, LEASE_TAG, text), lease).start()
    _open_parents.append(parent)
    atexit.register(_end_if_open, parent)
    return parent


def close_parent(parent: ParentRun, status: str = "FINISHED") -> str:
    """Attach the children's comparison and summary and end the parent with ``status``; returns the closing line
    that points at it."""
    from .compare import attach_comparison, child_runs
    from .studies.report import attach_study
    from .tracking import open_client
    from .tracking.faults import retrying

    if parent in _open_parents:
        _open_parents.remove(parent)
    client = open_client(parent.tracking_uri)
    try:
        children = child_runs(client, parent.run_id)
        failed = [c for c in children if c.info.status != "FINISHED"]
        client.set_tag(parent.run_id, "children", str(len(children)))
        client.set_tag(parent.run_id, "children_not_finished", str(len(failed)))
        reused = _reused(children)
        for how, count in reused.items():
            client.set_tag(parent.run_id, f"children_{how}", str(count))
        best = _record_best(client, parent.run_id, children)
        if children:
            attach_comparison(client, parent.run_id)
            attach_study(client, parent.run_id)  # a study's report (experiments.studies); nothing for other sweeps
    finally:
        _stop_heartbeat(parent)  # renewed until the final status, which ends the lease: nothing renews it after
        retrying(client.set_terminated, parent.run_id, status)
    return _closing_line(parent, status, children, best, reused)


def _stop_heartbeat(parent: ParentRun) -> None:
    heartbeat = _heartbeats.pop(parent.run_id, None)
    if heartbeat is not None:
        heartbeat.stop()


def _reused(children: list) -> dict[str, int]:
    """How many children a sweep run again took from earlier runs (:mod:`experiments.reuse`): skipped as done
    ("finished") or resumed; nothing for a sweep that reused none."""
    from .reuse import REUSED_TAG

    counts = {"skipped": 0, "resumed": 0}
    for child in children:
        how = child.data.tags.get(REUSED_TAG)
        if how in ("finished", "resumed"):
            counts["skipped" if how == "finished" else "resumed"] += 1
    return counts if any(counts.values()) else {}


def _record_best(client, run_id: str, children: list):
    """``Summary/best_final_loss`` and the tags ``best_run_id``, ``best_run_name`` of the child that has it."""
    from .recording import FINAL_LOSS, PARENT_BEST_FINAL_LOSS

    finished = [c for c in children if c.info.status == "FINISHED" and FINAL_LOSS in c.data.metrics]
    if not finished:
        return None
    best = min(finished, key=lambda c: c.data.metrics[FINAL_LOSS])
    client.log_metric(run_id, PARENT_BEST_FINAL_LOSS, best.data.metrics[FINAL_LOSS], step=0)
    client.set_tag(run_id, "best_run_id", best.info.run_id)
    client.set_tag(run_id, "best_run_name", best.info.run_name or best.info.run_id)
    return best


def _closing_line(parent: ParentRun, status: str, children: list, best, reused: dict[str, int]) -> str:
    from .credentials import redact
    from .recording import FINAL_LOSS
    from .tracking import where_to_view

    verdict = "finished" if status == "FINISHED" else f"ended {status}"
    found = (f", best final loss {best.data.metrics[FINAL_LOSS]!r} ({best.info.run_name})" if best is not None
             else ", no run finished")
    earlier = (f" ({reused['skipped']} skipped and {reused['resumed']} resumed from earlier runs)" if reused
               else "")
    return redact(f"sweep {parent.run_id} {verdict}: {len(children)} runs{earlier}{found}. "
                  f"{where_to_view(parent.tracking_uri, parent.experiment_id, parent.run_id)}")


def end_open_parents(status: str) -> None:
    """End the parents this process left open (its sweep was interrupted) with ``status``, with the comparison of
    the children that ran."""
    for parent in list(_open_parents):
        try:
            close_parent(parent, status)
        except Exception as error:  # noqa: BLE001 - the atexit hook tries again
            print(f"The sweep's parent run {parent.run_id} could not be ended: {error}", file=sys.stderr)
            continue
        signals.note(f"the sweep's parent run {parent.run_id} ended {status}")


def _end_if_open(parent: ParentRun) -> None:
    """At exit, end a parent the sweep left open: KILLED if the sweep or a child was interrupted, else FAILED."""
    from .compare import child_runs
    from .tracking import open_client

    _stop_heartbeat(parent)
    try:
        client = open_client(parent.tracking_uri)
        if client.get_run(parent.run_id).info.status != "RUNNING":
            return
        interrupted = signals.received() or any(
            c.info.status == "KILLED" for c in child_runs(client, parent.run_id))
        client.set_tag(parent.run_id, "failure_reason", "the sweep stopped before its end"
                       + (" (interrupted)" if interrupted else ""))
        client.set_terminated(parent.run_id, "KILLED" if interrupted else "FAILED")
    except Exception:  # noqa: BLE001 - best effort at interpreter exit
        pass


class MlflowSweepCallback(Callback):
    def __init__(self) -> None:
        self.parent: ParentRun | None = None

    def on_multirun_start(self, config, **kwargs) -> None:
        from .preflight import check_sweep_jobs

        try:
            check_sweep_jobs(config)  # every job's config is valid before the parent run is created
        except UserError as error:
            exit_with(error)  # Hydra turns a callback's exception into a warning and would sweep on
        sweep_dir = _own_sweep_folder(config)
        target = str(config.hydra.launcher.get("_target_", ""))
        launcher = sweep.Launcher(sweep_dir, jobs_in_process=target.endswith(".BasicLauncher"))
        launcher.install(ray=target.endswith(".RayLauncher"))
        try:
            self._open(config, sweep_dir)
        finally:
            launcher.launched = True
        startup.release()  # a launcher waiting on its jobs collects garbage again (experiments/startup.py)
        signals.check()  # a signal while the parent was being made

    def _open(self, config, sweep_dir: str) -> None:
        from omegaconf import OmegaConf

        from .tags import swept_keys

        launch_dir = Path(config.hydra.runtime.cwd)
        overrides = OmegaConf.to_container(config.hydra.overrides.task, resolve=False)  # lr=${...} as typed
        name = "sweep " + (" ".join(overrides) or Path(sweep_dir).name)
        swept = swept_keys(overrides, list((config.hydra.sweeper.get("params") or {}).keys()))
        try:
            self.parent = open_parent(config, launch_dir, name, sweep_dir, overrides, swept)
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
        signals.check()  # the jobs stopped early because the sweep was interrupted: the parent ends KILLED
        if self.parent is not None:
            print(close_parent(self.parent, "FINISHED"), flush=True)


def _own_sweep_folder(config) -> str:
    """The sweep's folder, its own (:func:`experiments.sweep.claim_folder`), set back into ``config`` where the
    launcher reads it, and added to its Hydra overrides, from which every job's config is composed."""
    from omegaconf import OmegaConf, read_write

    configured = OmegaConf.to_container(config.hydra.sweep, resolve=False)["dir"]
    claimed = sweep.claim_folder(str(config.hydra.sweep.dir), timestamped="${now:" in str(configured))
    if claimed != str(config.hydra.sweep.dir):
        quoted = claimed.replace("\\", "\\\\").replace("'", "\\'")
        with read_write(config.hydra):
            config.hydra.sweep.dir = claimed
            config.hydra.overrides.hydra.append(f"hydra.sweep.dir='{quoted}'")
    return claimed
