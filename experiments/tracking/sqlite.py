"""An SQLite tracking store made ready for MLflow once, however many processes open it at the same time.

MLflow creates and migrates a new SQLite store in whichever process opens it first, without a lock: processes
started together on a fresh folder all run the schema migration at once and break it (``table _alembic_tmp_tags
already exists``), leaving a store every later run fails on. Here a store is created and migrated under an OS file
lock beside the database (``mlflow.db.lock``), by one process; the others wait for the lock, then find it ready.

A store whose migration was cut short (leftover ``_alembic_tmp_*`` tables, or a schema revision other than this
MLflow's) is rebuilt when it holds no run and no experiment of its own (nothing to lose: the state that concurrent
first use leaves), and otherwise reported, untouched, as a :class:`~experiments.errors.StoreError` (exit 3).

A database held locked by another process is waited for up to ``lock_timeout`` seconds (``tracking.lock_timeout``),
then reported, naming the process that holds it where the system says (Linux's ``/proc/locks``).
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, DiskFull, StoreError
from .disk import FULL_TEXTS, is_disk_full
from .disk import reason as full_reason

LOCK_SUFFIX = ".lock"
DEFAULT_LOCK_TIMEOUT = 60.0
IN_MEMORY_HINT = ("An in-memory SQLite database lives only as long as the process: the run would be lost the "
                  "moment it ends")


def database_path(uri: str) -> Path | None:
    """The database file of an ``sqlite:///`` URI (an absolute path), None for any other store."""
    if not uri.startswith("sqlite:") or is_in_memory(uri):
        return None
    return Path(uri[len("sqlite:///"):].split("?")[0])


def is_in_memory(uri: str) -> bool:
    """Whether an ``sqlite:`` URI names a database that vanishes with the process (``:memory:``, no path at all,
    ``mode=memory``)."""
    if not uri.startswith("sqlite:"):
        return False
    path = uri[len("sqlite:"):].lstrip("/")
    return path in ("", ":memory:") or path.startswith((":memory:", "file::memory:")) or "mode=memory" in path


@dataclass
class StoreState:
    """What a database file holds, read without changing it."""

    exists: bool
    tables: set[str] = field(default_factory=set)
    revisions: list[str] = field(default_factory=list)
    runs: int = 0  # counted only for a store that is not ready (see count_records)
    experiments: int = 0  # other than MLflow's own "Default" (id 0)
    records: int = 0  # rows of the user's anywhere, leftover copies included

    @property
    def leftovers(self) -> list[str]:
        return sorted(t for t in self.tables if t.startswith("_alembic_tmp_"))

    def ready(self, head: str) -> bool:
        return self.revisions == [head] and not self.leftovers and {"experiments", "runs"} <= self.tables

    @property
    def holds_data(self) -> bool:
        return self.records > 0


class QuietHandledErrors(logging.Filter):
    """Drops MLflow's ERROR records (each with a full traceback) for SQL sessions that failed on a locked database
    or a full disk: the runner waits out the one and stops cleanly on the other, each reported in one paragraph."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage().lower()
        return not ("database is locked" in text or any(full in text for full in FULL_TEXTS))


def quiet_handled_errors() -> None:
    logger = logging.getLogger("mlflow.store.db.utils")
    if not any(isinstance(f, QuietHandledErrors) for f in logger.filters):
        logger.addFilter(QuietHandledErrors())


def check_location(path: Path) -> None:
    """A ConfigError at once (not after MLflow's ~100 s of retries) when ``path`` cannot be an SQLite store: a
    folder, under a file, or in a folder that cannot be created or written to (SQLite writes its journal and this
    module its lock file beside the database)."""
    if path.is_dir():
        raise ConfigError(f"The SQLite store {path} is a folder, not a database file. Give a file path "
                          f"such as tracking.uri=sqlite:///{path / 'mlflow.db'}.")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(lock_path(path), "a"):
            pass
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    except OSError as error:
        if is_disk_full(error):
            raise DiskFull(f"The disk under the SQLite store {path} is full ({full_reason(error)}), so nothing was "
                           "run. Free some space there, or point tracking.uri= at a store on another disk.") from None
        where = error.filename or folder
        raise ConfigError(f"The SQLite store {path} cannot be written: {error.strerror or error} ({where}). "
                          "Point tracking.uri= (or MLFLOW_TRACKING_URI) at a database in a folder this user can "
                          "write to, or run from such a folder (the default store is ./mlflow.db).") from None


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + LOCK_SUFFIX)


def read_state(path: Path, lock_timeout: float, counted: bool = False) -> StoreState:
    """The tables and schema revision of the database at ``path`` (``counted``: and how much of the user's it
    holds), waiting up to ``lock_timeout`` s for a lock another process holds."""
    if not path.exists() or path.stat().st_size == 0:
        return StoreState(exists=False)
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=lock_timeout)
        try:
            state = StoreState(exists=True)
            state.tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "alembic_version" in state.tables:
                state.revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
            if counted:
                count_records(connection, state)
            return state
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise store_error(path, error, lock_timeout) from None


# Rows MLflow writes itself when it creates a store: they are not the user's.
OWN_ROWS = {"alembic_version": "1", "workspaces": "1", "experiments": "experiment_id = 0",
            "_alembic_tmp_experiments": "experiment_id = 0"}


def count_records(connection: sqlite3.Connection, state: StoreState) -> None:
    """Count the user's rows in every table, the copies a cut-short migration left included (a migration cut
    between dropping ``runs`` and renaming its copy leaves the runs only in ``_alembic_tmp_runs``)."""
    for table in state.tables:
        if table.startswith("sqlite_"):
            continue
        own = OWN_ROWS.get(table)
        where = f" WHERE NOT ({own})" if own else ""
        rows = connection.execute(f'SELECT count(*) FROM "{table}"{where}').fetchone()[0]
        state.records += rows
        if table in ("runs", "_alembic_tmp_runs"):
            state.runs = max(state.runs, rows)
        elif table in ("experiments", "_alembic_tmp_experiments"):
            state.experiments = max(state.experiments, rows)


def store_error(path: Path, error: BaseException, lock_timeout: float) -> ConfigError | StoreError | DiskFull:
    """The error to report for an SQLite failure on ``path``: locked (past ``lock_timeout``), a full disk, not a
    database, or another store problem."""
    if is_disk_full(error):
        return DiskFull(f"The disk under the SQLite store {path} is full ({full_reason(error)}), so nothing was run. "
                        "Free some space there, or point tracking.uri= at a store on another disk.")
    while error.__cause__ or error.__context__:  # SQLAlchemy and MLflow wrap sqlite3's own error
        error = error.__cause__ or error.__context__
    text = (str(error).strip().splitlines() or [""])[0]
    if "locked" in text.lower():
        return StoreError(f"The SQLite store {path} is locked by another process{holders(path)} and was still "
                          f"locked after {lock_timeout:g} s (tracking.lock_timeout), so nothing was run. Run again "
                          "when that process is done, or wait longer with tracking.lock_timeout=<seconds>.")
    if "not a database" in text.lower():
        return ConfigError(f"{path} is not an SQLite database (sqlite3: {text}), so it cannot be the tracking "
                           "store. Point tracking.uri= at an MLflow store or a new file.")
    return StoreError(f"The SQLite store {path} cannot be used: {type(error).__name__}: {text}. Nothing was run.")


def holders(path: Path) -> str:
    """`` (process 123: python run.py ...)`` for the processes holding a POSIX lock on ``path``, from Linux's
    /proc/locks; empty where that is not known."""
    try:
        inode = path.stat().st_ino
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return ""
    pids = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 6 and fields[1] in ("POSIX", "OFDLCK") and fields[5].rsplit(":", 1)[-1] == str(inode):
            if fields[4].isdigit() and int(fields[4]) not in (os.getpid(), *pids):
                pids.append(int(fields[4]))
    described = [f"process {pid}{_command(pid)}" for pid in pids[:3]]
    return f" ({', '.join(described)})" if described else ""


def _command(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    command = " ".join(" ".join(w.decode(errors="replace").split()) for w in words if w)
    return f": {command[:120]}" if command else ""


def head_revision() -> str:
    """The schema revision this MLflow creates and expects."""
    from mlflow.store.db.utils import _get_latest_schema_revision

    return _get_latest_schema_revision()


def prepare(uri: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, open_store=None) -> None:
    """Make the SQLite store of ``uri`` ready for MLflow: created and migrated (``open_store()``, which must open
    it through MLflow) under the store's file lock, or repaired (see the module docstring). Other stores: nothing.

    Errors: :class:`ConfigError` for a path that cannot hold a store, :class:`StoreError` for a store locked past
    ``lock_timeout``, half-migrated with runs in it, or that MLflow cannot open.
    """
    path = database_path(uri)
    if path is None:
        return
    check_location(path)
    quiet_handled_errors()
    head = head_revision()
    if read_state(path, lock_timeout).ready(head):
        return
    from filelock import FileLock, Timeout

    try:
        with FileLock(lock_path(path), timeout=lock_timeout):
            state = read_state(path, lock_timeout, counted=True)
            if state.ready(head):
                return
            if state.exists and state.tables:
                repair(path, state, head, lock_timeout)
            if open_store is not None:
                open_store()
    except Timeout:
        raise StoreError(f"The SQLite store {path} is being created or migrated by another process"
                         f"{holders(lock_path(path))} that has held its lock ({lock_path(path).name}) for "
                         f"{lock_timeout:g} s (tracking.lock_timeout), so nothing was run. Run again when it is "
                         "done, or wait longer with tracking.lock_timeout=<seconds>.") from None


def mlflow_tables() -> set[str]:
    """The tables an MLflow store may hold (its tracking and registry models, Alembic's bookkeeping): a database
    with any other table (but a cut-short migration's ``_alembic_tmp_*`` and SQLite's own) is not only a store."""
    import mlflow.store.model_registry.sqlalchemy_store  # noqa: F401 - registers the registry's tables
    import mlflow.store.tracking.sqlalchemy_store  # noqa: F401 - registers the tracking tables
    from mlflow.store.db.base_sql_model import Base

    return set(Base.metadata.tables) | {"alembic_version"}


def repair(path: Path, state: StoreState, head: str, lock_timeout: float) -> None:
    """(Store lock held) Empty a half-migrated store that holds nothing of the user's, so MLflow creates it anew;
    refuse, untouched, one that holds runs or experiments."""
    found = ", ".join(state.revisions) or "none"
    if state.leftovers:
        problem = (f"its schema migration was cut short (schema revision {found}, this MLflow's is {head}; leftover "
                   f"tables {', '.join(state.leftovers)})")
    else:
        problem = (f"its schema is not this MLflow's (revision {found}, this MLflow's is {head}): an older MLflow "
                   "wrote it, or a migration was cut short")
    foreign = sorted(t for t in state.tables - mlflow_tables() if not t.startswith(("_alembic_tmp_", "sqlite_")))
    if foreign:  # a database of someone else's (or one they added to), even with its tables empty: never emptied
        raise StoreError(
            f"The SQLite store {path} cannot be used: {problem}, and it holds tables MLflow does not make "
            f"({', '.join(foreign[:8])}{', ...' if len(foreign) > 8 else ''}), so it was left as it is and nothing "
            "was run. Point tracking.uri= at an MLflow store or a new file.")
    if state.holds_data:
        raise StoreError(
            f"The SQLite store {path} cannot be used: {problem}; it holds data ({state.runs} runs, "
            f"{state.experiments} experiments, {state.records} records in all), so it was left as it is and nothing "
            f"was run. Back it up (copy the file), then migrate it with `mlflow db upgrade sqlite:///{path}`; if "
            "that fails, restore the copy and open it with the MLflow version that wrote it.")
    try:
        connection = sqlite3.connect(path, timeout=lock_timeout, isolation_level=None)
        try:
            connection.execute("PRAGMA foreign_keys = OFF")
            for table in sorted(state.tables):
                if not table.startswith("sqlite_"):
                    connection.execute(f'DROP TABLE IF EXISTS "{table}"')
            connection.execute("VACUUM")
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise store_error(path, error, lock_timeout) from None
    print(f"The SQLite store {path} held nothing of the user's, and {problem}: it was created anew.",
          file=sys.stderr, flush=True)
