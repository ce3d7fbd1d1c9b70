"""How a run answers the signals that stop it."""

from __future__ import annotations

import signal
import threading


def sigterm_as_interrupt() -> None:
    """SIGTERM (a scheduler or ``kill``) ends a run like Ctrl-C: KILLED, everything logged so far flushed."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        def interrupt(signum, frame):
            raise KeyboardInterrupt(f"signal {signum}")

        signal.signal(signal.SIGTERM, interrupt)
