"""Every tracking operation of one run, delivered to the store in order, and never lost when the store goes away.

While the store answers, an operation is sent at once by the thread that submits it (or, when another thread is
sending, by that thread right after its own). When a send fails because the store is unreachable (connection
refused or reset, a timeout, a 5xx answer, SQLite still locked after the quick retries), the outbox goes offline:
the operation and every later one are written to the run's spool on disk (:mod:`.spool`) and kept in order, and
the sends are retried with exponential backoff (0.5 s doubling to 30 s) by the thread writing metrics, so the
optimisation never waits for the store. When the store answers again the backlog goes first, then normal service.
:meth:`Outbox.finish` keeps retrying until ``retry_timeout`` seconds have passed; if the store is still away then,
the spool stays on disk for ``python -m experiments.sync``.

A full disk (under the store, or under the spool while offline) is neither: the outbox stops sending and
spooling, keeps what is queued in memory, and raises :class:`~experiments.errors.DiskFull` to the caller once
(``disk_full`` holds the error; later submits are only queued). The run ends as :mod:`.disk` describes.

Any other error (the store refusing an operation) is raised to the caller as before.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from pathlib import Path

from ..credentials import redact
from ..errors import DiskFull
from .disk import is_disk_full
from .disk import reason as full_reason
from .faults import describe, is_unreachable, retrying
from .spool import Spool, apply, offline_key

FIRST_DELAY = 0.5
MAX_DELAY = 30.0


class Outbox:
    """``submit(record)`` for each operation (a :mod:`.spool` record); ``finish(retry_timeout)`` at the end.

    ``run_id`` is None until a ``create_run`` record went through (a run started while the store was away);
    ``key`` names the run's spool directory under ``spool_root``.
    """

    def __init__(self, client, tracking_uri: str, spool_root: str | Path, run_id: str | None = None,
                 log=None) -> None:
        self.client = client
        self.tracking_uri = redact(tracking_uri)  # for messages and the spool: never its credentials
        self.run_id = run_id
        self.key = run_id or offline_key()
        self.spool_root = Path(spool_root)
        self.spool: Spool | None = None
        self.last_error: BaseException | None = None
        self.log = log or (lambda text: print(redact(text), file=sys.stderr, flush=True))
        self._lock = threading.Lock()
        self._queue: deque[dict] = deque()
        self._seq = 0
        self._sending = False
        self._offline = False
        self._abandoned = False  # stopped at once: nothing more is sent (abandon)
        self._delay = FIRST_DELAY
        self._next_attempt = 0.0
        self.disk_full: BaseException | None = None
        self.stored_points = 0  # metric points the store acknowledged
        self.last_stored_step: int | None = None
        self.stored_artifacts: list[str] = []  # artifact paths the store holds (acknowledged, not deleted since)

    @property
    def offline(self) -> bool:
        return self._offline

    @property
    def spool_dir(self) -> Path:
        return self.spool_root / self.key

    def submit(self, record: dict, retry: bool = True) -> None:
        """Send ``record`` now if the store is there, else spool it. ``retry=False``: while offline, do not try
        the store from this thread (the optimisation's thread, which must not wait for a server)."""
        with self._lock:
            record = {"seq": self._seq, **record}
            self._seq += 1
            self._queue.append(record)
            if self.disk_full is not None:
                return
            if self._offline:
                self._guard_disk(self._spill, record)
            if self._abandoned:
                return
            if self._sending or (self._offline and (not retry or time.monotonic() < self._next_attempt)):
                return
            self._sending = True
        self._send_queue()

    def finish(self, retry_timeout: float) -> bool:
        """Send everything still queued, retrying for up to ``retry_timeout`` s; True when all of it is stored
        (the spool, if any, is then removed), False when the store stayed away (the spool stays on disk)."""
        deadline = time.monotonic() + retry_timeout
        while self.disk_full is None:
            with self._lock:
                if not self._queue and not self._sending:
                    break
                start = not self._sending and time.monotonic() >= self._next_attempt
                if start:
                    self._sending = True
            if start:
                self._send_queue()
                continue
            now = time.monotonic()
            if now >= deadline:
                break
            time.sleep(min(max(self._next_attempt - now, 0.01), deadline - now, 0.5))
        with self._lock:
            done = not self._queue
            if self.spool is not None:
                if done:
                    self.spool.remove()
                    self.spool = None
                else:
                    self.spool.close()
            return done

    def abandon(self, records: list[dict]) -> int:
        """Stop sending: every operation not yet stored, then ``records``, is written to the spool (an operation
        being sent right now too: sending it twice is harmless); returns how many operations the spool holds.
        Later submissions go to the spool only."""
        with self._lock:
            self._abandoned = True
            for record in records:
                self._queue.append({"seq": self._seq, **record})
                self._seq += 1
            self._guard_disk(self._spill_all)
            return len(self._queue)

    def _spill_all(self) -> None:
        """(lock held) Every queued record to the spool, which is then closed."""
        if self.spool is None:
            self.spool = Spool.create(self.spool_root, self.key, self.tracking_uri, self.run_id)
        self._offline = True
        for record in self._queue:
            self._spill(record)
        self.spool.close()

    def _send_queue(self) -> None:
        """Send queued records in order until the queue is empty or the store fails (called with ``_sending``)."""
        while True:
            with self._lock:
                if not self._queue or self._abandoned:
                    self._sending = False
                    return
                record = self._queue[0]
            try:
                run_id = retrying(apply, self.client, self.run_id, record, self.spool_dir if self.spool else None)
            except Exception as error:
                with self._lock:
                    self._sending = False
                    if is_disk_full(error):
                        self._stop(error)
                    if not is_unreachable(error):
                        self._queue.popleft()  # refused: reported, not retried forever
                        raise
                    self._guard_disk(self._go_offline, error)
                return
            with self._lock:
                if self._abandoned:  # stopped at once while it was being sent: the spool holds it too (harmless)
                    self._sending = False
                    return
                self._queue.popleft()
                self._count_stored(record)
                _drop_temporary(record)
                if record["op"] == "create_run":
                    self.run_id = run_id
                    if self.spool is not None:
                        self.spool.created(run_id)
                if self.spool is not None:
                    self.spool.ack(record["seq"])
                if self._offline:
                    self._offline = False
                    self._delay = FIRST_DELAY
                    self.log(f"The tracking store {self.tracking_uri} answers again: sending the "
                              f"{len(self._queue) + 1} operations kept while it was away.")

    def _count_stored(self, record: dict) -> None:
        if record["op"] == "metrics" and record["points"]:
            self.stored_points += len(record["points"])
            self.last_stored_step = record["points"][-1][3]
        elif record["op"] == "artifact":
            self.stored_artifacts.append(_artifact_name(record))
        elif record["op"] == "delete_artifact":
            gone = record["artifact_path"]
            self.stored_artifacts = [a for a in self.stored_artifacts if a != gone and not a.startswith(gone + "/")]

    def unsent(self) -> tuple[int, list[str]]:
        """(metric points, artifact file names) queued and not stored."""
        with self._lock:
            points = sum(len(r["points"]) for r in self._queue if r["op"] == "metrics")
            return points, [_artifact_name(r) for r in self._queue if r["op"] == "artifact"]

    def _guard_disk(self, write, *args) -> None:
        """(lock held) ``write(*args)`` to the spool; a full disk stops the outbox."""
        try:
            write(*args)
        except OSError as error:
            if is_disk_full(error):
                self._stop(error)
            raise

    def _stop(self, error: BaseException) -> None:
        """(lock held) A full disk: nothing more is sent or spooled; the caller gets DiskFull."""
        self.disk_full = self.disk_full or error
        if self.spool is not None:
            self.spool.close()
        raise DiskFull(f"the disk is full ({full_reason(error)})") from error

    def _go_offline(self, error: BaseException) -> None:
        """(lock held) Spool every queued record and schedule the next attempt."""
        self.last_error = error
        if not self._offline:
            self._offline = True
            if self.spool is None:
                self.spool = Spool.create(self.spool_root, self.key, self.tracking_uri, self.run_id)
            for record in self._queue:
                self._spill(record)
            self.log(f"The tracking store {self.tracking_uri} is unreachable ({describe(error)}). The run goes on; "
                      f"its records are kept in {self.spool_dir} and sent when the store answers again.")
        else:
            self._delay = min(2 * self._delay, MAX_DELAY)
        self._next_attempt = time.monotonic() + self._delay

    def _spill(self, record: dict) -> None:
        """(lock held) Write ``record`` to the spool, with a copy of the file it uploads."""
        if record.get("_spooled"):
            return
        if record["op"] == "artifact" and Path(record["file"]).is_absolute():
            original = record["file"]
            record["file"] = self.spool.keep_file(original, record["seq"])
            _drop_temporary({**record, "file": original})
        self.spool.append({k: v for k, v in record.items() if not k.startswith("_")})
        record["_spooled"] = True


def _artifact_name(record: dict) -> str:
    """``checkpoint/step-000001000.npz``: where an artifact record puts its file in the run."""
    name = Path(record["file"]).name
    return f"{record['artifact_path']}/{name}" if record.get("artifact_path") else name


def _drop_temporary(record: dict) -> None:
    """Delete the local file of a temporary artifact once it is uploaded or copied into the spool (not a spool
    copy: those go with the spool). ``_temporary`` is the run's scratch folder: only a file inside it is deleted."""
    scratch = record.get("_temporary")
    if not scratch or record.get("_spooled"):
        return
    path = Path(record["file"])
    if path.resolve().is_relative_to(Path(scratch).resolve()):
        path.unlink(missing_ok=True)
