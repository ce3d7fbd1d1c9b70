"""A sweep's launcher and its jobs, wherever they run, agree through the sweep folder.

- Its own folder: a timestamped ``hydra.sweep.dir`` (the default ``multirun/<date>/<HH-MM-SS>``) is claimed with an
  atomic ``mkdir``; a sweep started in the same second as another gets ``<HH-MM-SS>-1`` (``-2``, ...), so no two
  sweeps share a folder, a parent file or a parent run. A folder given without ``${now:...}`` is used as given.
- Stopping: when the launching process gets Ctrl-C or SIGTERM it writes ``.stop`` in the folder. A job running in
  another process (a joblib worker, a submitit or Ray job, on any machine sharing the folder) sees it within half a
  second and stops as if it had been signalled itself: its run ends KILLED with what it logged stored. A job not
  started yet sees it and does not start. Each running job is listed in ``.running/`` while it runs; the launcher
  waits until that is empty (or, on this machine, its processes are gone), ends the parent KILLED and exits, taking
  its idle workers with it. A second signal stops the jobs at once (:class:`~experiments.signals.StopNow`).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from . import signals

STOP = ".stop"
RUNNING = ".running"
POLL_SECONDS = 0.5

_launcher_pid: int | None = None  # set in the launching process (a basic launcher runs its jobs there too)


def claim_folder(configured: str, timestamped: bool) -> str:
    """The sweep's folder, created: ``configured`` itself if it is new (or not ``timestamped``: given explicitly),
    else the first of ``configured-1``, ``configured-2``, ... that this call creates."""
    base = Path(configured)
    if not timestamped:
        return configured
    base.parent.mkdir(parents=True, exist_ok=True)
    candidate, n = base, 0
    while True:
        try:
            candidate.mkdir()
            return str(candidate)
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")


def is_launcher_process() -> bool:
    return _launcher_pid == os.getpid()


def stop_requested(sweep_dir: str | Path) -> int | None:
    """The signal the sweep was stopped by, if its launcher wrote ``.stop``."""
    try:
        return int(json.loads((Path(sweep_dir) / STOP).read_text())["signal"])
    except (OSError, ValueError, KeyError):
        return None


class Launcher:
    """The launching process's side: its signal handler (installed once the parent run exists)."""

    def __init__(self, sweep_dir: str, jobs_in_process: bool) -> None:
        global _launcher_pid
        _launcher_pid = os.getpid()
        self.sweep_dir = Path(sweep_dir)
        # a sweep stopped earlier in this folder left its stop request: this sweep's jobs must not take it as theirs
        (self.sweep_dir / STOP).unlink(missing_ok=True)
        self.jobs_in_process = jobs_in_process
        self.launched = False  # until the parent run exists, a signal is acted on after (never inside the store)

    def install(self, ray: bool = False) -> None:
        if ray:
            _keep_sigterm_under_ray()
        if threading.current_thread() is threading.main_thread():
            for signum in signals.SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    signal.signal(signum, self.handle)

    def handle(self, signum, frame) -> None:
        if signals.received():
            signals.handle(signum, frame)  # a second signal: StopNow (a third exits)
            return
        signals.handle(signum, frame)
        (self.sweep_dir / STOP).write_text(json.dumps({"signal": int(signum)}))
        if self.jobs_in_process or not self.launched:
            return  # acted on at the next check: the job in this process stops at its next step, like a single run
        try:
            self.wait_for_jobs()
        except signals.StopNow:
            self.stop_jobs_at_once()
            raise
        raise signals.Interrupted(signum)

    def wait_for_jobs(self) -> None:
        """Until no job runs (each ends KILLED after storing what it logged)."""
        told = False
        while jobs := running_jobs(self.sweep_dir):
            if not told:
                print(f"Stopping the sweep: waiting for {len(jobs)} running job(s) to store what they logged and end "
                      "KILLED (signal again to stop them at once).", file=sys.stderr, flush=True)
                told = True
            time.sleep(0.1)

    def stop_jobs_at_once(self) -> None:
        """A second signal: the jobs on this machine get it too (they spool what is not stored and stop); they are
        given a few seconds to write their spools."""
        host = socket.gethostname()
        for job in running_jobs(self.sweep_dir):
            if job["host"] == host:
                for _ in range(2):  # a job that has not seen the first stop request yet needs two
                    try:
                        os.kill(job["pid"], signal.SIGINT)
                    except ProcessLookupError:
                        pass
        deadline = time.monotonic() + 10
        while running_jobs(self.sweep_dir) and time.monotonic() < deadline:
            time.sleep(0.1)


def _keep_sigterm_under_ray() -> None:
    """``ray.init`` (inside the Ray launcher) replaces the launching process's SIGTERM handling twice: a Python
    handler that exits at once and, in its core worker, a crash handler that aborts; either leaves the jobs running.
    Both are kept out of this process (Ray's workers keep theirs: a job replaces it only while it runs)."""
    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    import ray._private.ray_constants as constants
    import ray._private.utils as utils

    constants.RAY_DISABLE_FAILURE_SIGNAL_HANDLER = os.environ["RAY_DISABLE_FAILURE_SIGNAL_HANDLER"] == "1"
    replace = utils.set_sigterm_handler

    def set_sigterm_handler(handler) -> None:
        if not is_launcher_process():
            replace(handler)

    utils.set_sigterm_handler = set_sigterm_handler


def running_jobs(sweep_dir: Path) -> list[dict]:
    """The jobs listed in ``.running/``; on this machine, a listed process that is gone (killed hard) is dropped."""
    folder = Path(sweep_dir) / RUNNING
    host = socket.gethostname()
    jobs = []
    for path in folder.glob("*.json") if folder.is_dir() else ():
        try:
            job = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if job["host"] == host and not _alive(job["pid"]):
            path.unlink(missing_ok=True)
            continue
        jobs.append(job)
    return jobs


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Job:
    """A job of a sweep running in a process of its launcher's (not the launching process): this module's
    signal handling for its duration (:class:`signals.scope`), its entry in ``.running/``, and a thread that
    turns the launcher's ``.stop`` into a stop request. ``refused``: the sweep was stopped before it began."""

    def __init__(self, sweep_dir: str | Path) -> None:
        self.sweep_dir = Path(sweep_dir)
        self.entry = self.sweep_dir / RUNNING / f"{socket.gethostname()}-{os.getpid()}.json"
        self.refused = False
        self._done = threading.Event()
        self._scope = signals.scope()

    def __enter__(self) -> "Job":
        self._scope.__enter__()
        self.entry.parent.mkdir(parents=True, exist_ok=True)
        self.entry.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
        # after the entry exists: a launcher that wrote .stop before it either sees the entry or is seen here
        self.refused = stop_requested(self.sweep_dir) is not None
        self._watcher = threading.Thread(target=self._watch, name="sweep-stop-watcher", daemon=True)
        self._watcher.start()
        return self

    def _watch(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            signum = stop_requested(self.sweep_dir)
            if signum is not None:
                signals.request(signum, "the sweep was stopped")
                return

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._watcher.join()
        self.entry.unlink(missing_ok=True)
        self._scope.__exit__(*exc)
