"""How a run answers the signals that stop it. Ctrl-C (SIGINT) and SIGTERM: a run ends KILLED with everything it
logged stored, and the command exits with 130 (SIGINT) or 143 (SIGTERM) after one line saying what happened, never
a traceback.

The handler only records the signal; the runner acts on it at its own safe points (:func:`check`: between start-up
phases, at every step, between plots). So an interruption never lands inside MLflow or SQLAlchemy, which can swallow
a ``KeyboardInterrupt`` or be left half-way through a write, and it is never lost: once recorded, every later
check raises it. The final flush has no check: a first signal there lets it finish and the run ends KILLED.

A second signal stops at once, wherever the process is (:class:`StopNow`): what the store has not received yet is
written to the run's spool (``python -m experiments.sync`` or ``resume=`` delivers it). A third one in the command's
own process exits on the spot.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_code(signum: int) -> int:
    """The shell's convention for a process stopped by a signal: 128 + its number (130 SIGINT, 143 SIGTERM)."""
    return 128 + int(signum)


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


class Interrupted(KeyboardInterrupt):
    """The process was asked to stop (``signum``): the run in progress ends KILLED after storing what it logged."""

    def __init__(self, signum: int, reason: str | None = None) -> None:
        self.signum = int(signum)
        self.reason = reason or signal_name(signum)
        super().__init__(self.reason)

    @property
    def exit_code(self) -> int:
        return exit_code(self.signum)


class StopNow(Interrupted):
    """A second signal: stop at once; what the store has not received goes to the run's spool."""


class _State:
    def __init__(self) -> None:
        self.signum: int | None = None  # the first signal (or stop request) received
        self.reason: str | None = None
        self.signalled = False  # a signal itself came (not only the sweep's stop request)
        self.stopping_now = False  # a second signal came
        self.top_level = False  # this process is the command's own (a third signal exits it at once)
        self.scoped = False  # inside a scope (a sweep's job around its runs)
        self.notes: list[str] = []  # what the interruption left, for the command's last line


_state = _State()


def received() -> bool:
    """Whether this process (or, in a sweep's job, its sweep) was asked to stop."""
    return _state.signum is not None


def request(signum: int, reason: str) -> None:
    """Ask this process to stop as if it had received ``signum`` (a sweep's job learning that its sweep stops)."""
    if _state.signum is None:
        _state.reason = reason
        _state.signum = signum


def check() -> None:
    """Raise :class:`Interrupted` if a stop was asked for (called at the runner's safe points)."""
    if _state.signum is not None:
        raise Interrupted(_state.signum, _state.reason)


def note(text: str) -> None:
    """Record what the interruption left (``run <id> KILLED after 41 steps``) for the command's closing line."""
    if text:
        _state.notes.append(text)


def handle(signum, frame) -> None:
    """The handler: record the first signal, raise :class:`StopNow` on the second, exit on a third. A sweep's stop
    request is not a signal: a job that learnt of it and then gets the signal itself (Ctrl-C reaches the launcher and
    its workers alike, in either order) still stops gracefully."""
    if not _state.signalled:
        _state.signalled = True
        if _state.signum is None:
            _state.signum = signum
            _state.reason = signal_name(signum)
        return
    if not _state.stopping_now:
        _state.stopping_now = True
        raise StopNow(signum, f"{signal_name(signum)}, a second time")
    if _state.top_level:  # a third: the spool is being written or the command hangs; leave now
        os.write(2, f"{signal_name(signum)} a third time: exiting now.\n".encode())
        os._exit(exit_code(_state.signum))


def install() -> None:
    """The command's handling (``run.py``, first thing): SIGINT and SIGTERM for the whole process. A signal the
    parent process told this one to ignore (a shell does for background jobs) stays ignored."""
    for signum in SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, handle)
    _state.top_level = True


class scope:
    """This module's handling for the duration of a run or a sweep's job, in a process whose command is not
    ``run.py`` (``run(cfg)`` called from Python, a joblib worker, a submitit or Ray job): the handlers and a fresh
    state while it lasts, the process's own restored after (a worker's launcher ignores SIGTERM, a script's Ctrl-C
    raises at once). Under ``run.py`` it changes nothing: the command's handling goes on across its jobs."""

    def __enter__(self) -> "scope":
        global _state
        self.saved_state = None
        self.saved_handlers = {}
        if _state.top_level or _state.scoped:
            return self
        self.saved_state, _state = _state, _State()
        _state.scoped = True
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                current = signal.getsignal(signum)
                self.saved_handlers[signum] = current
                if not (signum == signal.SIGINT and current is signal.SIG_IGN):
                    signal.signal(signum, handle)
        return self

    def __exit__(self, *exc) -> None:
        global _state
        for signum, previous in self.saved_handlers.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        if self.saved_state is not None:
            _state = self.saved_state


def closing_line(error: Interrupted | KeyboardInterrupt) -> str:
    """The command's last line after an interruption: what stopped it and what that left."""
    signum = getattr(error, "signum", _state.signum or signal.SIGINT)
    how = "stopped at once" if isinstance(error, StopNow) or _state.stopping_now else "interrupted"
    left = "; ".join(_state.notes) if _state.notes else "no run had been created"
    return f"{how.capitalize()} by {signal_name(signum)}: {left}."


def exit_interrupted(error: KeyboardInterrupt) -> None:
    """Print the closing line and exit with 130 (SIGINT) or 143 (SIGTERM); no traceback."""
    signum = getattr(error, "signum", _state.signum or signal.SIGINT)
    for ignored in (signal.SIGINT, signal.SIGTERM):  # one more Ctrl-C while exiting must not kill by the signal
        signal.signal(ignored, signal.SIG_IGN)
    print(closing_line(error), file=sys.stderr, flush=True)
    sys.exit(exit_code(signum))
