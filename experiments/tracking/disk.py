"""A full disk (ENOSPC, or EDQUOT: a quota reached) under the store, the spool or the run's scratch folder.

It is its own condition, never taken for a store that went away: spooling a run's records onto the disk that just
filled up would only fail again, and waiting does not free space. A run that meets it stops where it is, ends FAILED
with the reason tagged where the store can still take that, and says what was and was not kept
(:class:`~experiments.errors.DiskFull`, exit code 4).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from pathlib import Path

FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
FULL_TEXTS = ("database or disk is full", "no space left on device", "disk quota exceeded")


def full_disk_error(error: BaseException | None) -> BaseException | None:
    """The error in ``error``'s chain (causes, contexts) that says a disk is full, or None."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, OSError) and error.errno in FULL_ERRNOS:
            return error
        if any(text in str(error).lower() for text in FULL_TEXTS):
            return error
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def is_disk_full(error: BaseException | None) -> bool:
    return full_disk_error(error) is not None


def reason(error: BaseException) -> str:
    """``No space left on device (/mnt/runs/mlflow.db)`` or SQLite's ``database or disk is full``."""
    found = full_disk_error(error) or error
    if isinstance(found, OSError) and found.errno in FULL_ERRNOS:
        where = f" ({found.filename})" if found.filename else ""
        return f"{os.strerror(found.errno)}{where}"
    if FULL_TEXTS[0] in str(found).lower():
        return f"SQLite: {FULL_TEXTS[0]}"
    text = str(found).strip()
    return text.splitlines()[0][:200] if text else "disk full"


def mark_failed(client, run_id: str | None, failure: str, database: Path | None, failure_tag: str) -> bool:
    """End run ``run_id`` FAILED with ``failure`` tagged; True when the store has the status.

    Through MLflow first. When the disk is still too full for that and the store is the SQLite file ``database``,
    the run's row is updated in place with SQLite's rollback journal held in memory: a journal file needs free
    blocks, an update in place needs none. (A crash during that one-page write could damage the page; it is the
    only write that can still be made, and only ever made on a disk that is full.)
    """
    if run_id is None:
        return False
    try:
        client.set_tag(run_id, failure_tag, failure[:5000])
    except Exception:  # noqa: BLE001 - the status matters more than the tag; try it regardless
        pass
    try:
        client.set_terminated(run_id, "FAILED")
        return True
    except Exception as error:  # noqa: BLE001
        if database is None or not is_disk_full(error):
            return False
    return _mark_failed_in_place(database, run_id, failure, failure_tag)


def _mark_failed_in_place(database: Path, run_id: str, failure: str, failure_tag: str) -> bool:
    try:
        connection = sqlite3.connect(database, timeout=10, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        connection.execute("PRAGMA journal_mode = MEMORY")
        connection.execute("UPDATE runs SET status = 'FAILED', end_time = ? WHERE run_uuid = ?",
                           (int(time.time() * 1000), run_id))
        try:  # a new tag row may need a page the disk cannot give: the status is in already
            connection.execute("INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                               (failure_tag, failure[:5000], run_id))
        except sqlite3.Error:
            pass
        return True
    except sqlite3.Error:
        return False
    finally:
        connection.close()
