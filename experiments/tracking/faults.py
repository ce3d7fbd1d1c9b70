"""What a store's errors mean for a run: busy for a moment (retry at once, :func:`retrying`), unreachable (spool and
retry later, :func:`is_unreachable`), or a refusal (raised); and the short reason a message gives (:func:`describe`).

Below every module of the tracking package but ``disk`` (a full disk is neither busy nor unreachable) and ``sqlite``
(whose default lock timeout it starts from).
"""

from __future__ import annotations

import time

from .disk import is_disk_full
from .sqlite import DEFAULT_LOCK_TIMEOUT


def is_transient(error: BaseException) -> bool:
    """A store error worth retrying: SQLite's lock contention or a store that is briefly unavailable."""
    if is_disk_full(error):  # MLflow labels it TEMPORARILY_UNAVAILABLE too, but waiting frees no space
        return False
    text = str(error).lower()
    code = getattr(error, "error_code", "")
    return "database is locked" in text or "temporarily_unavailable" in str(code).lower()


# How long the start of a run waits its turn on a locked SQLite store (``tracking.lock_timeout``, set by
# store.open_client): process-wide, like MLflow's own HTTP settings, so every start-up call honours it.
_start_patience = [DEFAULT_LOCK_TIMEOUT]


def set_start_patience(seconds: float) -> None:
    _start_patience[0] = seconds


def start_patience() -> float:
    return _start_patience[0]


def retrying(call, *args, attempts: int = 12, first_delay: float = 0.05, patient: bool = False, **kwargs):
    """``call(*args, **kwargs)``, retried with exponential backoff (capped at 2 s) while the store says it is busy:
    ``attempts`` times (~13 s), or, ``patient`` (the calls that start a run), for ``tracking.lock_timeout`` s."""
    delay = first_delay
    deadline = time.monotonic() + _start_patience[0] if patient else None
    attempt = 0
    while True:
        attempt += 1
        try:
            return call(*args, **kwargs)
        except Exception as error:
            out_of_time = time.monotonic() + delay > deadline if patient else attempt >= attempts
            if out_of_time or not is_transient(error):
                raise
            time.sleep(delay)
            delay = min(2 * delay, 2.0)


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` means the store could not be reached (worth spooling and retrying), not a refusal."""
    if is_disk_full(error):  # its own condition (.disk): spooling onto a full disk would fail too
        return False
    seen = 0
    while error is not None and seen < 8:
        text = str(error)
        name = type(error).__name__
        if name in ("ConnectionError", "ConnectTimeout", "ReadTimeout", "Timeout", "ChunkedEncodingError",
                    "NewConnectionError", "MaxRetryError", "ProtocolError", "RemoteDisconnected",
                    "ConnectionRefusedError", "ConnectionResetError", "BrokenPipeError"):
            return True
        if "API request to" in text and ("failed with exception" in text or "failed with timeout" in text):
            return True
        if "failed with error code 5" in text or getattr(error, "error_code", "") == "TEMPORARILY_UNAVAILABLE":
            return True
        if is_transient(error):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def describe(error: BaseException) -> str:
    """A short reason for a message: the innermost cause's name and text, first line only."""
    inner = error
    while inner.__cause__ or inner.__context__:
        inner = inner.__cause__ or inner.__context__
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else ""
    return f"{type(inner).__name__}: {text}"[:300]
