"""A run's lease: what tells ``resume=<run id>`` that some process is still writing the run.

A run holds a lease from its start (or its resumption) to its end: the run's tag ``lease``, a JSON text naming the
holder (host name, boot id, process id and start time) with the time of its last renewal and how long it stays
valid without one. A background thread renews it every ``tracking.lease_heartbeat`` seconds: one small tag write
per heartbeat is all the store traffic it adds, and it works the same against an SQLite file or a server that
runs on other machines.

``resume=`` of a run the store still has RUNNING reads the lease and refuses while it may be live:

- held on this machine (same host name and boot) by a process that still exists: live, whatever its age;
- held on this machine by a process that is gone: dead at once (a run killed hard resumes immediately);
- held on another machine: live until ``timeout`` seconds after its last renewal (the holder's
  ``tracking.lease_timeout``; the two machines' clocks are assumed to agree within a few seconds).

``resume_force=true`` skips the check, for a holder known to be gone before its lease expires.

A lease is in one of three states: ``held`` by a run that is writing, ``claim`` made by ``resume=`` before it
writes anything (so that two resumes of one run started at the same moment cannot both go on: each writes its
claim, waits :data:`CLAIM_SETTLE` seconds and goes on only if the tag still holds its own claim), and ``released``
when the run ended (its final status written). A released lease is never live; a claim or a held lease is live
while its holder may be.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

TAG = "lease"
CLAIM_SETTLE = 1.0  # seconds between writing a claim and reading it back: longer than one tag write takes


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _process_start(pid: int) -> str:
    """The process's start time since boot (``/proc/<pid>/stat`` field 22), "" where /proc does not show it; it
    tells a live process from a later one that got the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]  # fields after the command name start at field 3


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


@dataclass(frozen=True)
class Lease:
    host: str
    boot: str
    pid: int
    process_start: str
    renewed: float  # unix time of the last renewal (the holder's clock)
    timeout: float  # seconds the lease stays valid without a renewal
    heartbeat: float  # seconds between renewals
    state: str = "held"  # held, claim or released (leases written before states existed read as held)

    @classmethod
    def mine(cls, heartbeat: float, timeout: float) -> "Lease":
        """A lease held by this process, renewed now."""
        pid = os.getpid()
        return cls(socket.gethostname(), _boot_id(), pid, _process_start(pid), time.time(), float(timeout),
                   float(heartbeat))

    @classmethod
    def configured(cls, tracking) -> "Lease":
        """A lease held by this process, renewed every ``tracking.lease_heartbeat`` seconds and valid
        ``tracking.lease_timeout`` seconds without a renewal (a run's ``tracking`` settings)."""
        tracking = tracking or {}
        return cls.mine(float(tracking.get("lease_heartbeat", 30)), float(tracking.get("lease_timeout", 90)))

    @classmethod
    def parse(cls, text: str | None) -> "Lease | None":
        """The lease in a ``lease`` tag; None when there is none or it cannot be read."""
        try:
            fields = json.loads(text)
            return cls(**{name: fields[name] for name in cls.__dataclass_fields__ if name in fields})
        except (TypeError, ValueError, KeyError):
            return None

    def text(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    def renewed_now(self) -> "Lease":
        return replace(self, renewed=time.time())

    def as_claim(self) -> "Lease":
        return replace(self, state="claim", renewed=time.time())

    def released(self) -> "Lease":
        return replace(self, state="released", renewed=time.time())

    def same_holder(self, other: "Lease | None") -> bool:
        return other is not None and (self.host, self.boot, self.pid, self.process_start) == (
            other.host, other.boot, other.pid, other.process_start)

    def on_this_machine(self) -> bool:
        return self.host == socket.gethostname() and self.boot == _boot_id()

    def live(self, now: float | None = None) -> str | None:
        """Why the lease may still be held (a phrase for a message), or None when it is provably dead."""
        now = time.time() if now is None else now
        if self.state == "released":
            return None
        if self.on_this_machine():
            alive = _pid_exists(self.pid) and (not self.process_start or _process_start(self.pid) in
                                               ("", self.process_start))
            return f"process {self.pid} on this machine ({self.host}) is still running" if alive else None
        if now - self.renewed < self.timeout:
            return (f"process {self.pid} on {self.host} renewed its lease {max(now - self.renewed, 0):.0f} s ago "
                    f"(it expires {self.timeout:g} s after its last renewal, at "
                    f"{time.strftime('%H:%M:%S %Z', time.localtime(self.renewed + self.timeout))})")
        return None


class Heartbeat:
    """Renews ``lease`` through ``write(text)`` every ``lease.heartbeat`` seconds until :meth:`stop`."""

    def __init__(self, write: Callable[[str], None], lease: Lease) -> None:
        self._write = write
        self._lease = lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="run-lease-heartbeat", daemon=True)

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self._lease.heartbeat):
            try:
                self._write(self._lease.renewed_now().text())
            except Exception:  # noqa: BLE001 - a refused tag write must not end the run; the next one may pass
                pass

    def stop(self) -> None:
        """Stop renewing; returns once no renewal is in flight (none can then follow the run's final status)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

