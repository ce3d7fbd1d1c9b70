"""``resume=<run id>``: continue a run that stopped before its end (killed, interrupted, failed) in the same run.

The run's own configuration (its ``config.yaml`` artifact) is used: a command may repeat its overrides, or give
only ``resume=<id>``, but an override that contradicts the stored configuration is refused (the trajectory would
not be the one the run started). Keys that do not change the trajectory may differ: ``resume`` itself, the
progress bar, checkpointing, ``sweep.rerun`` and the ``tracking`` options (the run already has its store and
experiment).

The run continues from its newest checkpoint that loads (``checkpoint/step-<k>.npz``, see
:mod:`experiments.checkpoint`), or from step 0 when it has none. Points the run had already logged are not logged
twice: for each metric key the store's latest step is known, and the resumed run logs only later steps. Since a
run is deterministic, the result is the trajectory an uninterrupted run gives, bit for bit.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import checkpoint, recording
from .config import flatten, plain
from .errors import ConfigError

# and the keys below them
MAY_DIFFER = ("resume", "resume_force", "logging.progress", "checkpoint", "tracking", "limits", "sweep")
RESUMABLE = ("RUNNING", "KILLED", "FAILED", "SCHEDULED")


@dataclass
class Resumption:
    run_id: str
    experiment_id: str
    cfg: object
    state: dict | None  # the newest checkpoint's tree, None: start over at step 0
    last_steps: dict[str, int] = field(default_factory=dict)  # metric key -> latest step already stored
    checkpoints: list[str] = field(default_factory=list)  # the run's checkpoint files, oldest first

    @property
    def step(self) -> int:
        return int(self.state["step"]) if self.state else 0


def override_keys(overrides) -> set[str]:
    """``["optimizer=adam", "+objective.init.x=1", "~a.b"]`` -> ``{"optimizer", "objective.init.x", "a.b"}``."""
    keys = set()
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        keys.add(key)
    return keys


def _may_differ(key: str) -> bool:
    return any(key == k or key.startswith(k + ".") for k in MAY_DIFFER)


def merged_config(cfg, stored: dict, overrides) -> object:
    """The stored configuration, with the keys that may differ taken from ``cfg``; a ConfigError when an explicit
    override contradicts it."""
    from omegaconf import OmegaConf, open_dict

    given, kept = flatten(plain(cfg)), flatten(stored)
    explicit = override_keys(overrides) - {"resume"}
    conflicts = []
    for key in sorted(set(given) | set(kept)):
        if _may_differ(key) or given.get(key) == kept.get(key):
            continue
        if any(key == e or key.startswith(e + ".") for e in explicit):
            conflicts.append(f"{key}={given.get(key, '(absent)')} (the run has {kept.get(key, '(absent)')})")
    if conflicts:
        raise ConfigError(
            f"resume={cfg.resume}: these overrides contradict the configuration the run was started with: "
            f"{'; '.join(conflicts)}. A resumed run continues with its own configuration: repeat the original "
            "command with resume=<run id>, or give only resume=<run id>.")
    out = OmegaConf.create(stored)
    with open_dict(out):
        for key in MAY_DIFFER:
            value = OmegaConf.select(cfg, key)
            if value is not None or OmegaConf.select(out, key) is not None:
                OmegaConf.update(out, key, OmegaConf.to_container(value) if OmegaConf.is_config(value) else value,
                                 force_add=True)
    return out


def prepare(client, cfg, overrides=(), tracking_uri: str = "", spool_root: Path | None = None) -> Resumption:
    """Everything needed to continue run ``cfg.resume``, read from the store; a ConfigError if it cannot be.

    A run another process still writes is refused (its lease, :mod:`.tracking.lease`) before anything is read or
    sent. If the run left a spool in ``spool_root`` (it was killed while the store was away), that is uploaded
    first."""
    run_id = str(cfg.resume)
    run = _stored_run(client, run_id, tracking_uri)
    refuse_if_alive(run, bool(cfg.get("resume_force", False)))
    claim = claim_lease(client, run_id, cfg)
    try:
        return _prepare(client, cfg, overrides, tracking_uri, spool_root, run_id, run)
    except BaseException:
        _release(client, run_id, claim)
        raise


def claim_lease(client, run_id: str, cfg):
    """Write this process's claim on the run, wait, read it back: a ConfigError when another resume claimed it in
    the meantime (two resumes started together: the later claim wins, the earlier one gives way)."""
    from .tracking.lease import CLAIM_SETTLE, TAG, Lease

    claim = Lease.configured(cfg.get("tracking")).as_claim()
    client.set_tag(run_id, TAG, claim.text())
    time.sleep(CLAIM_SETTLE)
    now = Lease.parse(client.get_run(run_id).data.tags.get(TAG))
    if not claim.same_holder(now):
        who = f"process {now.pid} on {now.host}" if now is not None else "another process"
        raise ConfigError(f"resume={run_id}: {who} is resuming this run at the same moment, so this one stopped "
                          "before writing anything. One writer per run keeps every point exactly once.")
    return claim


def _release(client, run_id: str, claim) -> None:
    """Give a claim back when this resume stops before writing (best effort: a dead holder's claim is dead too)."""
    from .tracking.lease import TAG, Lease

    try:
        if claim.same_holder(Lease.parse(client.get_run(run_id).data.tags.get(TAG))):
            client.set_tag(run_id, TAG, claim.released().text())
    except Exception:  # noqa: BLE001 - the store went away: the claim dies with this process
        pass


def _prepare(client, cfg, overrides, tracking_uri, spool_root, run_id, run) -> Resumption:
    from .tracking import spool

    # Only the spool this runner made for this run, by its id (32 hex digits, checked): never a folder given in
    # ``resume=`` itself, and never one without the spool's marker.
    if spool_root is not None and spool.is_spool(Path(spool_root) / run_id):
        try:
            left = spool.Spool.open(Path(spool_root) / run_id)
        except spool.JournalError as error:
            raise ConfigError(f"resume={run_id}: its spool {error}") from None
        report = spool.replay(left, client)
        print(f"resume={run_id}: first sent the {report.operations} operations its spool kept.", flush=True)
        run = _stored_run(client, run_id, tracking_uri)
    status = run.info.status
    if run.info.lifecycle_stage == "deleted" or status not in RESUMABLE:
        state = "deleted" if run.info.lifecycle_stage == "deleted" else status
        raise ConfigError(f"resume={run_id}: the run is {state}; only a run that stopped before its end "
                          f"({', '.join(RESUMABLE)}) can be resumed.")
    with tempfile.TemporaryDirectory(prefix="resume-") as scratch:
        try:
            local = client.download_artifacts(run_id, "config.yaml", scratch)
        except Exception as error:  # noqa: BLE001
            raise ConfigError(f"resume={run_id}: the run has no config.yaml artifact to continue from "
                              f"({str(error).splitlines()[0][:200]}); it was not made by this runner.") from None
        stored = _stored_config(run_id, local)
        merged = merged_config(cfg, stored, overrides)
        last_steps = last_logged_steps(client, run)
        names = checkpoint_files(client, run_id)
        state = newest_usable(client, run_id, names, last_steps, int(merged.logging.every), Path(scratch),
                              measure_every(merged))
    return Resumption(run_id, run.info.experiment_id, merged, state, last_steps, [n.rsplit("/", 1)[-1] for n in names])


def _stored_config(run_id: str, path: str) -> dict:
    """The run's ``config.yaml`` as a dict; a ConfigError when it is not the YAML mapping this runner wrote."""
    from omegaconf import OmegaConf

    try:
        stored = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except Exception as error:  # noqa: BLE001 - yaml's and OmegaConf's errors alike: the file is not usable
        reason = " ".join(str(error).split())[:300]
        raise ConfigError(f"resume={run_id}: the run's config.yaml artifact cannot be read ({type(error).__name__}: "
                          f"{reason}), so the configuration to continue with is unknown. Only a run this runner "
                          "made, with its config.yaml intact, can be resumed.") from None
    if not isinstance(stored, dict) or "optimizer" not in stored or "objective" not in stored:
        raise ConfigError(f"resume={run_id}: the run's config.yaml artifact is not a configuration of this runner "
                          "(no optimizer and objective in it), so it cannot be resumed.")
    return stored


def _stored_run(client, run_id: str, tracking_uri: str):
    try:
        return client.get_run(run_id)
    except Exception as error:  # noqa: BLE001 - MlflowException RESOURCE_DOES_NOT_EXIST, a malformed id, ...
        raise ConfigError(f"resume={run_id}: there is no such run in the tracking store "
                          f"{tracking_uri} ({str(error).splitlines()[0][:200]}). Give the id of the run to "
                          "continue (the summary line and the MLflow UI show it).") from None


def refuse_if_alive(run, force: bool = False) -> None:
    """A ConfigError when the store has ``run`` RUNNING and its lease may still be held by a live process: two
    processes writing one run would interleave their points."""
    from .tracking.lease import TAG, Lease

    lease = Lease.parse(run.data.tags.get(TAG))
    if force or lease is None or (run.info.status != "RUNNING" and lease.state == "held"):
        return  # (a held lease on an ended run: one written before leases were released at the end)
    why = lease.live()
    if why is None:
        return
    run_id = run.info.run_id
    raise ConfigError(
        f"resume={run_id}: the run is still being written by another process: {why}. Two processes writing one "
        f"run would interleave their points, so nothing was changed. Let it finish, or stop it (Ctrl-C, or kill "
        f"{lease.pid} on {lease.host}: it ends KILLED and can then be resumed). If that process is really gone "
        f"(its machine lost) and you cannot wait for its lease to expire, add resume_force=true.")


def checkpoint_files(client, run_id: str) -> list[str]:
    """The run's checkpoint artifacts (``checkpoint/step-<k>.npz``), oldest first."""
    try:
        files = client.list_artifacts(run_id, checkpoint.ARTIFACT_DIR)
    except Exception:  # noqa: BLE001 - no checkpoint directory
        return []
    return sorted((f.path for f in files if checkpoint.step_of(f.path) is not None), key=checkpoint.step_of)


def measure_every(cfg) -> int:
    """Steps between two points of the objective's own measures (``Objective.evaluate``): the recorded steps that
    are multiples of its ``eval_every`` (the config's, else the class's)."""
    from . import objectives

    every = int(cfg.logging.every)
    try:
        default = getattr(objectives.get(cfg.objective.name), "eval_every", 1)
    except ConfigError:
        default = 1
    return math.lcm(every, int(cfg.objective.get("eval_every", default)))


def stored_before(last_steps: dict[str, int], step: int, every: int, measures_every: int) -> bool:
    """Whether the store holds every point recorded before ``step``: each key up to the last step it is logged at
    before it (every ``every`` steps; the objective's own measures every ``measures_every``)."""
    for key, last in last_steps.items():
        cadence = measures_every if recording.is_objective_measure(key) else every
        if last < (step - 1) // cadence * cadence:
            return False
    return True


def newest_usable(client, run_id: str, names: list[str], last_steps: dict[str, int], every: int,
                  scratch: Path, measures_every: int | None = None) -> dict | None:
    """The newest checkpoint that loads whole (a file cut short by a kill is skipped) and that the stored metrics
    reach: every step recorded before it must be in the store, else the run would have a gap."""
    from mlflow.exceptions import MlflowException

    from .trajectory import check_consecutive

    for path in reversed(names):
        if not stored_before(last_steps, checkpoint.step_of(path), every, measures_every or every):
            continue
        try:
            state = checkpoint.load(client.download_artifacts(run_id, path, str(scratch)))
            state["history_parts"] = [  # the recorded rows it continues from, a stretch per earlier checkpoint
                checkpoint.load(client.download_artifacts(run_id, f"{checkpoint.ARTIFACT_DIR}/{name}", str(scratch)))
                for name in state.get("history", [])]
            check_consecutive([part["trajectory"] for part in state["history_parts"]
                               if part["trajectory"] is not None])
            return state
        except (ValueError, OSError, MlflowException):  # cut short by a kill, or a stretch it names is missing or
            continue  # does not follow the one before: an older checkpoint
    return None


def last_logged_steps(client, run) -> dict[str, int]:
    """Metric key -> the latest step the store holds for it (each key is logged in increasing step order)."""
    metrics = getattr(run.data, "_metric_objs", None)
    if metrics is not None:
        return {m.key: int(m.step) for m in metrics}
    return {key: max(m.step for m in client.get_metric_history(run.info.run_id, key)) for key in run.data.metrics}
