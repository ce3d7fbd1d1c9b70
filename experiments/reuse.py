"""A sweep run again reuses what its earlier runs did: the same command after an interruption finishes the work.

Before a sweep's job starts a run, it looks for earlier runs of the same configuration: runs of the sweep's MLflow
experiment with the same ``config_hash`` tag (:func:`experiments.config.config_hash`: the run's params), made by
the same code (its ``git_commit`` tag), as jobs of a sweep (children of a parent run), and, in a study, measured
against the same target and held out as the job is (a held-out re-run reuses a held-out run, a grid job a grid run:
the two share their params). Then, with ``sweep.rerun=unfinished`` (the default):

- an earlier run that FINISHED, or FAILED by diverging (a non-finite loss is that configuration's result), is
  **skipped**: the job starts nothing and returns the stored final loss (NaN for a diverged run);
- otherwise an earlier run that stopped before its end (KILLED, FAILED for another reason, SCHEDULED, or RUNNING with
  a lease no live process holds) is **resumed** in the same run from its newest checkpoint, as ``resume=<run id>``
  does (:mod:`experiments.resume`, with its lease checks);
- an earlier run another process still writes, or one stopped before it recorded its configuration (its
  ``config.yaml``), is left alone, and the job starts a new run.

A run skipped or resumed (once its resumption ends) moves under the new sweep's parent run (its tag
``mlflow.parentRunId``), so that the new parent holds every configuration of the sweep: its comparison, its study
report and the MLflow UI's nesting see them all. The run is tagged ``sweep.reused`` (``finished`` or ``resumed``) and ``sweep.adopted_from`` (the parent
it was under), and that earlier parent ``sweep.continued_by`` (the new one). An earlier parent still RUNNING whose
launcher is gone (killed hard, so no exit hook ended it: its lease names a process that no longer runs, or one on
another machine that stopped renewing it) is ended KILLED then. ``sweep.rerun=all`` runs every configuration anew.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .config import CONFIG_HASH_TAG, config_hash, experiment_params, plain
from .credentials import redact, redact_tree
from .errors import ConfigError
from .recording import FINAL_LOSS, LOSS
from .resume import RESUMABLE, last_logged_steps
from .runner import RunResult, run
from .studies.held_out import is_held_out
from .studies.results import HELD_OUT_TAG
from .tracking.faults import is_unreachable, retrying
from .tracking.lifecycle import FAILURE_TAG, PARENT_TAG

RERUN_CHOICES = ("unfinished", "all")
REUSED_TAG = "sweep.reused"
ADOPTED_FROM_TAG = "sweep.adopted_from"
CONTINUED_BY_TAG = "sweep.continued_by"
DIVERGED = "non-finite"  # how the loop's failure reason starts when the run diverged (experiments.loop)


def rerun_setting(cfg) -> str:
    return str((cfg.get("sweep") or {}).get("rerun", "unfinished"))


@dataclass(frozen=True)
class Earlier:
    """What an earlier run of a job's configuration means for the job: ``skip`` it, ``resume`` it, or neither."""

    run: object  # mlflow.entities.Run
    action: str  # "skip" or "resume"


def is_done(run) -> bool:
    """Whether a run reached its verdict: it FINISHED, or FAILED because its loss or gradient stopped being finite."""
    status = run.info.status
    return status == "FINISHED" or (status == "FAILED" and run.data.tags.get(FAILURE_TAG, "").startswith(DIVERGED))


def is_alive(run) -> str | None:
    """Why another process may still write ``run`` (its lease), or None."""
    from .tracking.lease import TAG, Lease

    lease = Lease.parse(run.data.tags.get(TAG))
    if run.info.status != "RUNNING" or lease is None:
        return None
    return lease.live()


def study_target(cfg) -> str | None:
    """The target a study's run is measured against, as it is tagged (``study.target``); None outside a study."""
    from .studies.targets import problem_name, target_for

    study = cfg.get("study")
    return str(target_for(study, problem_name(cfg.objective))) if study else None


def earlier_runs(client, cfg, parent) -> list:
    """The earlier runs of ``cfg``'s configuration that a sweep may reuse (see the module's text)."""
    digest = config_hash(experiment_params(redact_tree(plain(cfg))))
    runs = retrying(client.search_runs, [parent.experiment_id], filter_string=f"tags.{CONFIG_HASH_TAG} = '{digest}'",
                    max_results=1000)
    target = study_target(cfg)
    commit = _code_version()
    held_out = "true" if is_held_out(cfg) else None  # a held-out re-run reuses only a held-out run, and vice versa
    return [r for r in runs if r.data.tags.get(PARENT_TAG) and r.data.tags.get(HELD_OUT_TAG) == held_out
            and r.data.tags.get("study.target") == target and r.data.tags.get("git_commit") == commit]


def _code_version() -> str | None:
    """The commit of the code running now (None outside git): a run made by other code is not this job's result."""
    from pathlib import Path

    from .tags import git_commit

    return git_commit(Path(__file__).resolve().parent.parent)


def choose(client, runs: list, label: str) -> Earlier | None:
    """The run to skip (the newest that reached its verdict), else the one to resume (the furthest checkpoint, then
    the newest), else None; runs another process still writes are passed over, saying so, and so are runs stopped
    before they recorded their configuration (interrupted as they were created: there is nothing to continue)."""
    done = [r for r in runs if is_done(r)]
    if done:
        return Earlier(max(done, key=lambda r: r.info.end_time or 0), "skip")
    stopped = []
    for r in runs:
        if r.info.status not in RESUMABLE or not _has_config(client, r.info.run_id):
            continue
        why = is_alive(r)
        if why is not None:
            print(redact(f"Job {label}: its earlier run {r.info.run_id} is still being written ({why}); it is left "
                         "alone and this job runs anew."), flush=True)
            continue
        stopped.append(r)
    if not stopped:
        return None
    furthest = max(stopped, key=lambda r: (int(r.data.tags.get("checkpoint_step", 0)), r.info.start_time or 0))
    return Earlier(furthest, "resume")


def _has_config(client, run_id: str) -> bool:
    try:
        return any(f.path == "config.yaml" for f in retrying(client.list_artifacts, run_id))
    except Exception:  # noqa: BLE001 - an artifact store that cannot be listed: resume= says why, if it matters
        return True


def adopt(client, run, parent, how: str) -> None:
    """Move ``run`` under ``parent`` (the sweep that reuses it), noting where it came from."""
    run_id, previous = run.info.run_id, run.data.tags.get(PARENT_TAG)
    retrying(client.set_tag, run_id, REUSED_TAG, how)
    if previous and previous != parent.run_id:
        retrying(client.set_tag, run_id, ADOPTED_FROM_TAG, previous)
        retrying(client.set_tag, run_id, PARENT_TAG, parent.run_id)
        retrying(client.set_tag, previous, CONTINUED_BY_TAG, parent.run_id)
        end_if_abandoned(client, previous)


def end_if_abandoned(client, parent_id: str) -> None:
    """End the earlier sweep's parent ``parent_id`` KILLED when it is still RUNNING with a lease no live process
    holds (its launcher was killed hard); a parent without a lease (made by an older version) is left as it is."""
    from .tracking.lease import TAG, Lease

    run = retrying(client.get_run, parent_id)
    lease = Lease.parse(run.data.tags.get(TAG))
    if lease is None or run.info.status != "RUNNING" or lease.live() is not None:
        return
    retrying(client.set_tag, parent_id, FAILURE_TAG, "the sweep stopped before its end (its launcher is gone)")
    retrying(client.set_terminated, parent_id, "KILLED")
    print(f"The earlier sweep's parent run {parent_id} was still RUNNING, its launcher gone: it ended KILLED.",
          flush=True)


def stored_result(client, run, tracking_uri: str) -> RunResult:
    """A skipped job's result, read from its earlier run: its status and final loss (NaN when it has none)."""
    final = run.data.metrics.get(FINAL_LOSS, math.nan)
    steps = last_logged_steps(client, run).get(LOSS, 0)
    return RunResult(run.info.run_id, run.info.status, float(final), int(steps), tracking_uri,
                     run.info.experiment_id, run.data.tags.get(FAILURE_TAG))


def run_or_reuse(cfg, *, label: str, parent, client, reuse: bool, **run_arguments) -> RunResult:
    """:func:`experiments.runner.run` for one job's run, unless it is a sweep's (``reuse``) and an earlier run of its
    configuration can be skipped or resumed instead (the module's text); one line says which."""
    if not reuse or parent is None or rerun_setting(cfg) == "all" or cfg.get("resume"):
        return run(cfg, parent=parent, client=client, **run_arguments)
    from .tracking import open_client

    client = client or open_client(parent.tracking_uri)
    try:
        found = earlier_runs(client, cfg, parent)
    except Exception as error:
        if not is_unreachable(error):
            raise
        found = []  # the store went away: the run itself spools (tracking.spool) or says so
    earlier = choose(client, found, label)
    if earlier is None:
        return run(cfg, parent=parent, client=client, **run_arguments)
    found = earlier.run
    if earlier.action == "skip":
        adopt(client, found, parent, "finished")
        result = stored_result(client, found, parent.tracking_uri)
        print(redact(f"Job {label}: skipped, run {found.info.run_id} already {_verdict(found, result)} "
                     "(sweep.rerun=all runs it again)."), flush=True)
        return result
    return _resume(cfg, found, label, parent, client, run_arguments)


def _verdict(run, result: RunResult) -> str:
    if run.info.status == "FINISHED":
        return f"finished it: final loss {result.final_loss!r}"
    return f"ran it to its end: FAILED, {run.data.tags.get(FAILURE_TAG)}"


def _resume(cfg, found, label: str, parent, client, run_arguments) -> RunResult:
    """Continue ``found`` in place; a run that cannot be resumed after all (another process claimed it a moment
    ago) is said and the job runs anew."""
    import os

    from omegaconf import open_dict

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # a bar per checkpoint read: noise here
    run_id = found.info.run_id
    checkpoint = found.data.tags.get("checkpoint_step")
    where = f"its newest checkpoint (step {checkpoint})" if checkpoint else "step 0 (it saved no checkpoint)"
    print(redact(f"Job {label}: resuming run {run_id} ({found.info.status}) from {where}."), flush=True)
    resumed = cfg.copy()
    with open_dict(resumed):
        resumed.resume = run_id
        resumed.repeats = 1  # this one run (a job's repeats are each looked up on their own)
    try:
        # no overrides: the run continues with its own configuration (keys outside its params may differ)
        result = run(resumed, parent=parent, client=client, launch_dir=run_arguments.get("launch_dir"))
    except ConfigError as error:  # raised before the run was written to: it stays where it is
        print(redact(f"Job {label}: run {run_id} could not be resumed ({error}); this job runs anew."), flush=True)
        return run(cfg, parent=parent, client=client, **run_arguments)
    except BaseException:
        adopt(client, found, parent, "resumed")  # interrupted again: the new parent has what it did
        raise
    adopt(client, found, parent, "resumed")
    return result
