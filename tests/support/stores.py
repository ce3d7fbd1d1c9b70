"""Tracking stores in trouble, for tests: an SQLite database another process holds locked, one whose schema
migration was cut short, and a small tmpfs (mounted by the test, always unmounted) to fill up or make read-only."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN " + sys.argv[2])
print("locked", flush=True)
time.sleep(float(sys.argv[3]))
connection.execute("COMMIT")
"""


@contextlib.contextmanager
def locked(database: Path, seconds: float, mode: str = "EXCLUSIVE") -> Iterator[subprocess.Popen]:
    """Another process holding ``database`` in a ``BEGIN <mode>`` transaction for ``seconds`` (or until the block
    ends); yields that process, once the lock is taken."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(database), mode, str(seconds)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "locked"
        yield process
    finally:
        process.kill()
        process.wait()


def cut_short_migration(database: Path) -> None:
    """Leave ``database`` (a ready MLflow store) as concurrent first use left stores before they were locked: an
    older schema revision recorded, and a copy table of MLflow's batch migration left behind."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("UPDATE alembic_version SET version_num = 'a8c4a736bde6'")
        connection.execute("CREATE TABLE _alembic_tmp_tags (key VARCHAR(250), value VARCHAR(5000))")
    finally:
        connection.close()


@contextlib.contextmanager
def tmpfs(parent: Path, size: str = "4m", read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on a new folder in ``parent`` (skips the test where mounting is not allowed),
    unmounted and removed at the end whatever happens."""
    mount_point = parent / f"tmpfs-{uuid.uuid4().hex[:8]}"
    mount_point.mkdir()
    options = f"size={size},mode=0777" + (",ro" if read_only else "")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        os.rmdir(mount_point)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the filesystem of ``folder`` up to ``leave`` bytes free, with one file."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(folder / "filler", "wb") as filler:
        with contextlib.suppress(OSError):
            filler.write(b"\0" * max(free - leave, 0))
