"""An MLflow run from creation to a final status, whatever happens in between.

``TrackedRun.start(...)`` creates the run (params, tags, parent) and its background metric writer; leaving the
``with`` block ends it: FINISHED, FAILED (an exception, or :meth:`fail` for a diverged run: the reason is tagged)
or KILLED (Ctrl-C), always after flushing every metric logged so far. A run is never left RUNNING by this process.

A run started or resumed with a :class:`~.lease.Lease` holds it (the tag ``lease``, renewed in the background) until
it ends, so that ``resume=`` can tell a live run from a dead one.

Every operation goes through the run's :class:`~.outbox.Outbox`: if the store goes away mid-run, the run goes on
and its records wait in a spool on disk until the store is back (or until ``python -m experiments.sync``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import signals
from ..errors import DiskFull
from . import disk
from .faults import describe, is_unreachable, retrying
from .lease import TAG as LEASE_TAG
from .lease import Heartbeat, Lease
from .outbox import Outbox
from .sqlite import database_path
from .store import start_failure
from .writer import BatchWriter

PARENT_TAG = "mlflow.parentRunId"
FAILURE_TAG = "failure_reason"
MAX_PARAMS_PER_CALL = 100  # MLflow's log_batch limit for params
MAX_PARAM_LENGTH = 6000


@dataclass(frozen=True)
class Spooling:
    """Where and how long a run keeps what the store cannot take (``tracking.spool_dir``, ``.retry_timeout``);
    ``at_start``: a run may also start while the store is unreachable (``tracking.spool``)."""

    root: Path
    retry_timeout: float = 300.0
    at_start: bool = False


def now_ms() -> int:
    return int(time.time() * 1000)


class TrackedRun:
    def __init__(self, outbox: Outbox, experiment_id: str | None, batch_size: int = 1000,
                 retry_timeout: float = 300.0) -> None:
        self.outbox = outbox
        self.experiment_id = experiment_id
        self.retry_timeout = retry_timeout
        self.writer = BatchWriter(self._send_points, batch_size=batch_size)
        self.status: str | None = None
        self.stored = True  # False when the store stayed away at the end: the spool holds the rest
        self._failure: str | None = None
        self._heartbeat: Heartbeat | None = None
        self._lease: Lease | None = None
        self.abandoned = False  # stopped at once: the spool holds what the store has not received

    @property
    def run_id(self) -> str:
        """The MLflow run id (or, for a run the store has not seen yet, its spool's name)."""
        return self.outbox.run_id or self.outbox.key

    @property
    def spool_dir(self) -> Path:
        return self.outbox.spool_dir

    @classmethod
    def start(cls, client, experiment_id: str | None, run_name: str, tags: Mapping[str, str] = (),
              params: Mapping[str, object] = (), parent_run_id: str | None = None, batch_size: int = 1000,
              tracking_uri: str = "", spooling: Spooling | None = None, experiment_name: str | None = None,
              artifact_location: str | None = None, lease: Lease | None = None) -> "TrackedRun":
        """Create the run. With ``spooling.at_start`` and the store unreachable, the run is created later (its
        ``create_run`` waits in the spool with the rest), in experiment ``experiment_name``. ``lease``: held from
        the run's creation (a tag of it) to its end."""
        tags = dict(tags)
        if lease is not None:
            tags[LEASE_TAG] = lease.text()
        if parent_run_id:
            # Explicit, never start_run(nested=True): a joblib worker has no active run to nest under.
            tags[PARENT_TAG] = parent_run_id
        spooling = spooling or Spooling(Path.cwd() / "mlflow-spool")
        run_id = None
        if experiment_id is not None:
            try:
                run_id = retrying(client.create_run, experiment_id, run_name=run_name, tags=tags,
                                  patient=True).info.run_id
            except Exception as error:
                if not (spooling.at_start and is_unreachable(error)):
                    failure = start_failure(tracking_uri or client.tracking_uri, error)
                    if failure is error:
                        raise
                    raise failure from None
        outbox = Outbox(client, tracking_uri, spooling.root, run_id=run_id)
        run = cls(outbox, experiment_id, batch_size, spooling.retry_timeout)
        if run_id is None:
            outbox.submit({"op": "create_run", "experiment": experiment_name, "artifact_location": artifact_location,
                           "run_name": run_name, "tags": tags, "start_time": now_ms()})
        try:
            run.log_params(params)
        except BaseException as error:
            run.end("KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED")
            raise
        if lease is not None:
            run._hold(lease)
        return run

    @classmethod
    def resume(cls, client, run_id: str, experiment_id: str, tracking_uri: str, spooling: Spooling,
               batch_size: int = 1000, lease: Lease | None = None) -> "TrackedRun":
        """Continue the existing run ``run_id``: it is RUNNING again (holding ``lease``, taken first) until it
        ends."""
        run = cls(Outbox(client, tracking_uri, spooling.root, run_id=run_id), experiment_id, batch_size,
                  spooling.retry_timeout)
        if lease is not None:
            run.outbox.submit({"op": "tag", "key": LEASE_TAG, "value": lease.text()})
        run.outbox.submit({"op": "status", "status": "RUNNING"})
        if lease is not None:
            run._hold(lease)
        return run

    def _hold(self, lease: Lease) -> None:
        self._lease = lease
        self._heartbeat = Heartbeat(lambda text: self.set_tag(LEASE_TAG, text), lease).start()

    def _send_points(self, points: list) -> None:
        self.outbox.submit({"op": "metrics", "points": points})

    def log_params(self, params: Mapping[str, object]) -> None:
        items = [[str(k), str(v)[:MAX_PARAM_LENGTH]] for k, v in dict(params).items()]
        for i in range(0, len(items), MAX_PARAMS_PER_CALL):
            self.outbox.submit({"op": "params", "params": items[i:i + MAX_PARAMS_PER_CALL]})

    def log_metrics(self, step: int, keys, values, timestamp_ms: int | None = None) -> None:
        """Queue one step's points (written in the background)."""
        self.writer.add(step, now_ms() if timestamp_ms is None else timestamp_ms, keys, values)

    def set_tag(self, key: str, value: object) -> None:
        self.outbox.submit({"op": "tag", "key": key, "value": str(value)}, retry=False)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None, scratch: Path | None = None) -> None:
        """Upload ``path`` (now, or from the spool later: a copy is kept if the store is away). ``scratch``: the
        run's own scratch folder holding ``path``, which is deleted once uploaded or copied into the spool (a file
        outside that folder never is)."""
        record = {"op": "artifact", "file": str(Path(path).resolve()), "artifact_path": artifact_path}
        if scratch is not None:
            record["_temporary"] = str(Path(scratch).resolve())
        self.outbox.submit(record, retry=False)

    def delete_artifact(self, artifact_path: str) -> None:
        self.outbox.submit({"op": "delete_artifact", "artifact_path": artifact_path}, retry=False)

    def fail(self, reason: str) -> None:
        """Mark the run to end FAILED with ``reason`` tagged (e.g. a non-finite loss at some step)."""
        self._failure = reason

    def end(self, status: str) -> None:
        """Flush the metrics, then set the final status (the status is set even when flushing fails), then wait
        up to ``retry_timeout`` for a store that went away; ``stored`` says whether everything reached it.

        A Ctrl-C or SIGTERM during the flush lets it finish and the run ends KILLED (an interrupted run does not
        wait for a store that went away: its spool keeps the rest); a second one stops at once (:meth:`abandon`)."""
        if self.status is not None:
            return
        try:
            if self._heartbeat is not None:
                self._heartbeat.stop()  # the final status ends the lease: nothing renews it after
            self._flush_and_end(status)
        except signals.StopNow:
            self.abandon()
            raise

    def _flush_and_end(self, status: str) -> None:
        try:
            self.writer.close()
        except signals.StopNow:
            raise
        except BaseException as error:  # the status is set even when flushing fails
            self._failure = self._failure or f"writing metrics failed: {error}"
            self._set_status("FAILED")
            raise
        self._set_status(status)

    def _set_status(self, status: str) -> None:
        if signals.received() and status == "FINISHED":
            status = "KILLED"
        if self._failure and status == "FINISHED":
            status = "FAILED"
        interrupted = False
        try:
            if self._failure:
                self.outbox.submit({"op": "tag", "key": FAILURE_TAG, "value": self._failure[:5000]})
            if self._lease is not None:  # released once every point is written, just before the final status
                self.outbox.submit({"op": "tag", "key": LEASE_TAG, "value": self._lease.released().text()})
            self.outbox.submit({"op": "status", "status": status, "end_time": now_ms()})
            self.status = status
            interrupted = status == "KILLED" and self.outbox.offline
            self.stored = self.outbox.finish(0 if interrupted else self.retry_timeout)
        except DiskFull:
            pass  # met while ending: stopped on just below
        if self.outbox.disk_full is not None:
            self._stop_on_full_disk()
        if not self.stored and not interrupted:
            self.outbox.log(self.unsent_message())

    def abandon(self) -> None:
        """Stop at once (a second Ctrl-C): what the store has not received (metric points still buffered, queued
        operations, the final status KILLED) is written to the spool, and noted for the command's last line."""
        if self.abandoned or (self.status is not None and self.stored):
            return
        self.abandoned = True
        points = self.writer.abandon()
        records = [{"op": "metrics", "points": points[i:i + 1000]} for i in range(0, len(points), 1000)]
        records.append({"op": "status", "status": "KILLED", "end_time": now_ms()})
        operations = self.outbox.abandon(records)
        self.status, self.stored = "KILLED", False
        signals.note(f"run {self.run_id} is KILLED, but the store has not received {len(points)} metric points "
                     f"and {operations - len(records)} other operations, nor its final status: they are kept in "
                     f"{self.spool_dir} (python -m experiments.sync {self.spool_dir} delivers them; resume= "
                     f"sends them first)")

    def _stop_on_full_disk(self) -> None:
        """The store's or the spool's disk is full: end the run FAILED where the store can still take it
        (:func:`.disk.mark_failed`) and raise DiskFull saying what was and was not kept."""
        why = disk.reason(self.outbox.disk_full)
        self._failure = f"disk full: {why}"
        self.status, self.stored = "FAILED", False
        marked = disk.mark_failed(self.outbox.client, self.outbox.run_id, self._failure,
                                  database_path(self.outbox.tracking_uri), FAILURE_TAG)
        raise DiskFull(self.full_disk_message(why, marked)) from None

    def full_disk_message(self, why: str, marked: bool) -> str:
        points, artifacts = self.outbox.unsent()
        if marked:
            status = f"The run is marked FAILED, with the reason in its {FAILURE_TAG} tag."
        elif self.outbox.run_id is None:
            status = "The store never received the run itself."
        else:
            status = ("The store could not take even the final status, so the run still shows RUNNING there; "
                      "resuming it (below) ends it properly.")
        spool = (f" What was spooled before the disk filled stays in {self.spool_dir} (python -m experiments.sync "
                 f"{self.spool_dir} uploads it once there is space)." if self.spool_dir.is_dir() else "")
        return (f"A disk the run writes to is full ({why}), so run {self.run_id} stopped. {status} "
                f"{self.kept(points, artifacts)}{spool} Free space on that disk (or point tracking.uri=, "
                "tracking.spool_dir= or TMPDIR elsewhere), then continue the run from its newest stored checkpoint "
                f"(from step 0 without one) with: python run.py resume={self.run_id}")

    def kept(self, unsent_points: int, unsent_artifacts: list[str]) -> str:
        """What the store holds of this run, and what it does not."""
        outbox = self.outbox
        if outbox.stored_points:
            points = f"{outbox.stored_points} metric points, from step 0 to step {outbox.last_stored_step}"
            later = f"the points of the steps after {outbox.last_stored_step} ({unsent_points} were waiting)"
        else:
            points, later = "no metric point", f"every metric point ({unsent_points} were waiting)"
        artifacts, lost = listed(outbox.stored_artifacts), listed(unsent_artifacts)
        return (f"Kept in the store {outbox.tracking_uri}: its parameters, {points}; artifacts: {artifacts}. Not "
                f"kept: {later}; artifacts: {lost}.")

    def unsent_message(self) -> str:
        """What to tell the user when the store stayed away (``stored`` is False)."""
        reason = describe(self.outbox.last_error) if self.outbox.last_error else "no answer"
        return (f"The tracking store {self.outbox.tracking_uri} did not come back within {self.retry_timeout:g} s "
                f"({reason}). Nothing is lost: what it has not received of run {self.run_id} (metrics, artifacts "
                f"and the final status {self.status}) is kept in {self.spool_dir}. Upload it when the store is back "
                f"with: python -m experiments.sync {self.spool_dir}")

    def __enter__(self) -> "TrackedRun":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.end("FINISHED")
            signals.check()  # interrupted during the flush: the run is KILLED, and the command stops
        elif issubclass(exc_type, signals.StopNow):
            self.abandon()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end("KILLED")
        elif disk.is_disk_full(exc) and self.outbox.disk_full is None:  # the scratch folder's disk, not the store's
            self._failure = f"disk full: {disk.reason(exc)}"
            self.end("FAILED")
            raise DiskFull(self.full_disk_message(disk.reason(exc), self.stored)) from None
        else:
            self._failure = self._failure or f"{exc_type.__name__}: {exc}"
            self.end("FAILED")


_NUMBERED = re.compile(r"(.*-)(\d+)(\.\w+)$")


def listed(names: list[str]) -> str:
    """Artifact names for a message, in order; the numbered files of one series (``checkpoint/history-<k>.npz``,
    one per checkpoint of a long run) as one entry once there are more than two of them."""
    series: dict[tuple[str, str], list[str]] = {}
    for name in names:
        numbered = _NUMBERED.match(name)
        if numbered:
            series.setdefault((numbered.group(1), numbered.group(3)), []).append(name)
    shown, summed_up = [], set()
    for name in names:
        numbered = _NUMBERED.match(name)
        key = (numbered.group(1), numbered.group(3)) if numbered else None
        members = series.get(key)
        if members is None or len(members) <= 2:
            shown.append(name)
        elif key not in summed_up:
            summed_up.add(key)
            ordered = sorted(members, key=lambda member: int(_NUMBERED.match(member).group(2)))
            shown.append(f"{ordered[0]} to {ordered[-1]} ({len(members)} files)")
    return ", ".join(shown) or "none"
