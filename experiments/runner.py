"""One run: build the objective and the optimizer from a config, minimise, record every step in MLflow.

``run(cfg)`` is plain Python (no Hydra needed): ``run(OmegaConf.load(...))`` works as well as ``python run.py``.

The steps themselves, what each records, checkpoints and the restore from one are :mod:`experiments.loop`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import signals, startup
from .config import CONFIG_HASH_TAG, config_hash, experiment_params, plain, validate
from .credentials import redact, redact_tree
from .loop import Loop
from .preflight import check_spool_dir
from .problem import build_problem
from .tags import default_run_name, run_tags, varying_overrides
from .tracking.config import artifact_location_for, experiment_for, spooling_for


@dataclass
class RunResult:
    run_id: str
    status: str  # FINISHED or FAILED (KILLED propagates KeyboardInterrupt)
    final_loss: float
    steps_done: int
    tracking_uri: str
    experiment_id: str | None
    failure: str | None = None
    spool: Path | None = None  # where the records the store has not received wait (the store went away)


def run(cfg, *, overrides: Sequence[str] = (), launch_dir: str | Path | None = None, parent=None,
        run_name: str | None = None, extra_tags: Mapping[str, str] = (), client=None) -> RunResult:
    """Minimise ``cfg.objective`` with ``cfg.optimizer`` for ``cfg.steps`` steps, recorded as one MLflow run.

    ``overrides`` (the command line's ``key=value`` list) names the run and is tagged; ``launch_dir`` anchors the
    default SQLite store (default: the current directory); ``parent`` (a :class:`tracking.parent.ParentRun`) makes it
    a child run of a sweep, in the parent's store and experiment. With ``cfg.resume`` set to a run id, that run is
    continued from its newest checkpoint instead (:mod:`experiments.resume`).

    Ctrl-C or SIGTERM (:mod:`experiments.signals`) raises :class:`~experiments.signals.Interrupted` (a
    ``KeyboardInterrupt``) after the run, if it exists, ended KILLED with what it logged stored.
    """
    with signals.scope():
        return _run(cfg, overrides=overrides, launch_dir=launch_dir, parent=parent, run_name=run_name,
                    extra_tags=extra_tags, client=client)


def _run(cfg, *, overrides, launch_dir, parent, run_name, extra_tags, client) -> RunResult:
    from . import budget, resume, tracking

    validate(cfg)
    launch_dir = Path(launch_dir or Path.cwd())
    spooling = spooling_for(cfg, launch_dir)
    check_spool_dir(spooling.root)
    uri = parent.tracking_uri if parent is not None else tracking.resolve_uri(cfg.tracking.get("uri"), launch_dir)
    resumption = None
    if cfg.get("resume"):
        # a resume reads the store first
        client = client or _open_client(cfg, uri)
        resumption = resume.prepare(client, cfg, overrides, uri, spooling.root)
        cfg = resumption.cfg
        validate(cfg)
    experiment = str(cfg.tracking.experiment)
    location = artifact_location_for(cfg, uri, experiment, launch_dir)
    sizes, data_bytes = budget.objective_shape(cfg.objective)  # a machine too small is told before any allocation
    budget.check(cfg, budget.estimate(cfg, sizes, data_bytes, budget.local_places(uri, location)))
    signals.check()
    problem = build_problem(cfg)  # every user error surfaces here, before any run exists
    resolved = redact_tree(plain(cfg))  # what is written of the config: params, config.yaml
    signals.check()
    client = client or _open_client(cfg, uri, allow_unreachable=spooling.at_start, direct=True)
    signals.check()
    if resumption is not None:
        experiment_id = resumption.experiment_id
    elif parent is not None:
        experiment_id = parent.experiment_id
    else:
        experiment_id = experiment_for(client, experiment, location, bool(cfg.tracking.get("artifact_location")),
                                       spooling)
    signals.check()
    with tempfile.TemporaryDirectory(prefix="run-artifacts-") as scratch:
        if resumption is not None:
            tracked = _resumed_run(client, cfg, resumption, experiment_id, uri, spooling)
        else:
            name = redact(run_name or cfg.tracking.get("run_name") or default_run_name(
                cfg, varying_overrides(overrides, parent.constant) if parent is not None else overrides))
            params = experiment_params(resolved)
            tags = run_tags(cfg, overrides, {**dict(extra_tags), CONFIG_HASH_TAG: config_hash(params)})
            tracked = tracking.TrackedRun.start(
                client, experiment_id, name, tags=tags, params=params,
                parent_run_id=parent.run_id if parent else None, batch_size=int(cfg.tracking.batch_size),
                tracking_uri=uri, spooling=spooling, experiment_name=experiment, artifact_location=location,
                lease=_lease(cfg))
        loop = Loop(cfg, problem, tracked, Path(scratch))
        startup.release()  # start-up is over: the collector runs again for the loop's own garbage
        try:
            with tracked:
                signals.check()  # a signal while the run was being created: it ends KILLED at once
                _record_and_run(loop, resolved, resumption)
        except KeyboardInterrupt:
            signals.note(_stopped(tracked, loop))
            raise
        result = RunResult(tracked.run_id, tracked.status, loop.final_loss, loop.steps_done, uri, experiment_id,
                           loop.failure, None if tracked.stored else tracked.spool_dir)
    print_summary(result, cfg)
    return result


def _open_client(cfg, uri, allow_unreachable=False, direct=False):
    from . import tracking

    return tracking.open_client(uri, allow_unreachable=allow_unreachable, direct=direct,
                                http_timeout=float(cfg.tracking.get("http_timeout", 30)),
                                lock_timeout=float(cfg.tracking.get("lock_timeout", 60)))


def _lease(cfg):
    """This process's claim on the run it writes, renewed every ``lease_heartbeat`` seconds."""
    from .tracking.lease import Lease

    return Lease.configured(cfg.tracking)


def _resumed_run(client, cfg, resumption, experiment_id, uri, spooling):
    from . import tracking

    tracked = tracking.TrackedRun.resume(client, resumption.run_id, experiment_id, uri, spooling,
                                         int(cfg.tracking.batch_size), lease=_lease(cfg))
    tracked.set_tag("resumed_from_step", resumption.step)
    return tracked


def _record_and_run(loop: Loop, resolved: dict, resumption) -> None:
    """Inside the run: its config artifact, then the loop (restored when resuming), then its artifacts."""
    if resumption is None:
        config_path = loop.scratch / "config.yaml"
        from omegaconf import OmegaConf

        config_path.write_text(OmegaConf.to_yaml(OmegaConf.create(resolved)))
        loop.tracked.log_artifact(config_path)
    if resumption is not None:
        loop.restore(resumption)
    try:
        loop.run()
    finally:
        loop.save_artifacts()


def _stopped(tracked, loop: Loop) -> str:
    """What an interruption left of this run, for the command's last line (a run stopped at once says it)."""
    if tracked.abandoned:
        return ""
    where = ("everything it logged is stored" if tracked.stored else
             f"what the store has not received is kept in {tracked.spool_dir}")
    return (f"run {tracked.run_id} ended {tracked.status} after {loop.steps_done} steps, {where} "
            f"(python run.py resume={tracked.run_id} continues it)")


def print_summary(result: RunResult, cfg) -> None:
    from .tracking import where_to_view

    verdict = "finished" if result.status == "FINISHED" else f"FAILED ({result.failure})"
    where = (where_to_view(result.tracking_uri, result.experiment_id, result.run_id) if result.spool is None else
             f"Its records wait in {result.spool} for the store (python -m experiments.sync {result.spool})")
    print(redact(f"run {result.run_id} {verdict}: final loss {result.final_loss!r} after {result.steps_done} steps "
                 f"({cfg.optimizer.name} on {cfg.objective.name}). {where}"), flush=True)
