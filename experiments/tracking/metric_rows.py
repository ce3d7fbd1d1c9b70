"""The SQL side of the fast metrics path: one batch's rows written into a SQLite store's ``metrics`` and
``latest_metrics`` tables in one transaction, either on a connection of the writing process or in a process of its
own (:class:`RowProcess`).

Why a process: SQLite's insert work for a long run's points (about a second for 200,000 of them, most of it in
maintaining the ``metrics`` table's indexes) is C code that gives up the GIL, but every statement has to take it
back, and a thread that needs the GIL back while the optimisation loop holds it waits for the interpreter's switch
interval. Measured on 2 cores: a 210,000-row insert that takes 0.74 s alone took 3.6 s beside one busy Python
thread. A process of its own has no such wait, so the loop and the store's work really overlap.

This module imports only the standard library, so the process starts in a few tens of milliseconds; it peaks at
about 45 MB, mostly the Python values of a batch of up to 50,000 points. It is run by file path
(``python -I metric_rows.py <database>``), reads requests from stdin and answers on stdout (pickled through
:mod:`multiprocessing.connection`), and ignores SIGINT and SIGTERM (a Ctrl-C in a terminal reaches the whole
process group; the run decides what happens to its points and closes the pipe, which ends this process after the
write in hand).

The semantics, the same wherever the rows are written (the tests compare them with ``log_batch`` point for point):
points go only to a run whose ``lifecycle_stage`` is active; a point already stored or given twice is skipped by the
insert itself (``INSERT OR IGNORE``); a key's latest value is replaced only by a strictly greater
``(step, timestamp, value)``. Table and column names come from MLflow's own table definitions, handed over by the
writing side (:class:`Statements`).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, fields

ROWS_PER_INSERT = 500  # 3,000 parameters a statement, far below SQLite's limit of 32,766
KEY_BATCH = 500  # keys per SELECT on latest_metrics, as MLflow does
LOCK_TIMEOUT = 20.0  # seconds SQLite waits on a lock before "database is locked" (MLflow's busy_timeout)


@dataclass(frozen=True)
class Statements:
    """The SQL of a batch, built from MLflow's table definitions: ``insert_head`` is ``INSERT OR IGNORE INTO
    metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES`` as compiled for the store, ``row`` its
    ``(?, ?, ?, ?, ?, ?)``, then the names of ``runs`` and ``latest_metrics`` and their columns."""

    insert_head: str
    row: str
    runs: str
    runs_id: str
    runs_stage: str
    latest: str
    latest_columns: tuple  # key, value, timestamp, step, is_nan, run_uuid (the order of a metrics row)


@dataclass
class Batch:
    """A batch's rows as columns: ``codes`` index ``keys`` (int32), ``values`` float64 (NaN stored as 0, infinities
    as the largest finite double), ``timestamps`` and ``steps`` int64, ``is_nan`` int8, all as bytes; ``newest``:
    key -> its row ``(key, value, timestamp, step, is_nan, run_uuid)`` with the greatest ``(step, timestamp,
    value)``."""

    run_id: str
    keys: list
    codes: bytes
    values: bytes
    timestamps: bytes
    steps: bytes
    is_nan: bytes
    newest: dict

    def __len__(self) -> int:
        return len(self.codes) // 4


class Inactive(Exception):
    """The run is deleted (or missing): its points are not written."""


class RowWriter:
    """Writes batches on one sqlite3 connection (opened by :func:`connect`)."""

    def __init__(self, connection: sqlite3.Connection, statements: Statements) -> None:
        self.connection = connection
        self.sql = statements
        self._inserts: dict[int, str] = {}

    def write(self, batch: Batch) -> None:
        """The batch in one transaction; raises :class:`Inactive`, or sqlite3's errors (nothing written)."""
        connection = self.connection
        connection.execute("BEGIN IMMEDIATE")  # the write lock now: waited for, never a deadlock later
        try:
            stage = connection.execute(f'SELECT "{self.sql.runs_stage}" FROM "{self.sql.runs}" '
                                       f'WHERE "{self.sql.runs_id}" = ?', (batch.run_id,)).fetchone()
            if stage is None or stage[0] != "active":
                raise Inactive(batch.run_id)
            self._insert(batch)
            self._update_latest(batch.run_id, batch.newest)
        except BaseException:
            connection.rollback()
            raise
        connection.commit()

    def _insert(self, batch: Batch) -> None:
        keys = batch.keys
        codes = memoryview(batch.codes).cast("i").tolist()
        values = memoryview(batch.values).cast("d").tolist()
        timestamps = memoryview(batch.timestamps).cast("q").tolist()
        steps = memoryview(batch.steps).cast("q").tolist()
        is_nan = memoryview(batch.is_nan).cast("b").tolist()
        count = len(codes)
        for first in range(0, count, ROWS_PER_INSERT):
            last = min(first + ROWS_PER_INSERT, count)
            rows = last - first
            flat = [None] * (6 * rows)
            flat[0::6] = [keys[c] for c in codes[first:last]]
            flat[1::6] = values[first:last]
            flat[2::6] = timestamps[first:last]
            flat[3::6] = steps[first:last]
            flat[4::6] = is_nan[first:last]
            flat[5::6] = [batch.run_id] * rows
            self.connection.execute(self._statement(rows), flat)

    def _statement(self, rows: int) -> str:
        statement = self._inserts.get(rows)
        if statement is None:
            statement = self._inserts[rows] = f"{self.sql.insert_head} {', '.join([self.sql.row] * rows)}"
        return statement

    def _update_latest(self, run_id: str, newest: dict) -> None:
        """Each key's row in ``newest`` written when the key has no latest value yet or it is strictly greater in
        ``(step, timestamp, value)`` than the stored one (MLflow's rule)."""
        table, (key, value, timestamp, step, is_nan, run) = self.sql.latest, self.sql.latest_columns
        keys = sorted(newest)
        stored = {}
        for i in range(0, len(keys), KEY_BATCH):
            chunk = keys[i:i + KEY_BATCH]
            found = self.connection.execute(
                f'SELECT "{key}", "{step}", "{timestamp}", "{value}" FROM "{table}" WHERE "{run}" = ? AND "{key}" IN '
                f'({", ".join("?" * len(chunk))})', (run_id, *chunk))
            stored.update({k: (s, t, v) for k, s, t, v in found})
        new = [newest[k] for k in keys if k not in stored]
        greater = [(*newest[k][1:5], run_id, k) for k in keys if k in stored and _order(newest[k]) > stored[k]]
        if new:
            self.connection.executemany(
                f'INSERT INTO "{table}" ("{key}", "{value}", "{timestamp}", "{step}", "{is_nan}", "{run}") '
                f'VALUES (?, ?, ?, ?, ?, ?)', new)
        if greater:
            self.connection.executemany(
                f'UPDATE "{table}" SET "{value}" = ?, "{timestamp}" = ?, "{step}" = ?, "{is_nan}" = ? '
                f'WHERE "{run}" = ? AND "{key}" = ?', greater)


def _order(row: tuple) -> tuple:
    return row[3], row[2], row[1]  # (step, timestamp, value)


def connect(database: str) -> sqlite3.Connection:
    """A connection to the store's file as MLflow's sessions configure theirs (case-sensitive LIKE, a lock waited
    for up to :data:`LOCK_TIMEOUT` seconds), except for foreign keys: every row :class:`RowWriter` writes names the
    run it has just found active in the same write-locked transaction, so SQLite's check of each point against
    ``runs`` (a lookup per row, about a quarter of the insert work) could never fail. Transactions are begun
    explicitly."""
    connection = sqlite3.connect(database, timeout=LOCK_TIMEOUT, check_same_thread=False)
    connection.execute("PRAGMA foreign_keys = OFF")
    connection.execute("PRAGMA case_sensitive_like = true")
    return connection


class RowProcess:
    """This module run as a process of its own for one database: :meth:`write` sends it a batch and waits for the
    answer (raising what the write raised there); :meth:`close` ends it. A process that is gone raises
    :class:`ProcessGone` (the batch, if it was being written, was rolled back by SQLite)."""

    def __init__(self, database: str, statements: Statements) -> None:
        from multiprocessing.connection import Connection

        self._process = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__), database],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        self._send = Connection(os.dup(self._process.stdin.fileno()), readable=False)
        self._receive = Connection(os.dup(self._process.stdout.fileno()), writable=False)
        self._process.stdin.close()
        self._process.stdout.close()
        self._lock = threading.Lock()
        self._send.send(_plain(statements))

    def write(self, batch: Batch) -> None:
        with self._lock:
            try:
                self._send.send(_plain(batch))
                answer = self._receive.recv()
            except (OSError, EOFError) as error:
                raise ProcessGone(f"the metrics writer process ended ({error})") from error
        if answer is not None:
            kind, message = answer
            raise Inactive(message) if kind == "Inactive" else getattr(sqlite3, kind, sqlite3.Error)(message)

    def close(self, timeout: float = 10.0) -> None:
        """Close its pipe and wait up to ``timeout`` seconds for it to end. It ends by itself after the write in
        hand (never interrupted: a run stopped at once does not wait for it beyond ``timeout``)."""
        for connection in (self._send, self._receive):
            try:
                connection.close()
            except OSError:
                pass
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass


def _plain(record) -> tuple:
    """A dataclass's fields as a tuple: what crosses the pipe (the process runs this file as ``__main__``, where the
    dataclasses of the package's module cannot be unpickled)."""
    return tuple(getattr(record, field.name) for field in fields(record))


class ProcessGone(Exception):
    """The metrics writer process is no longer there."""


def serve(database: str) -> None:
    """The process's side: batches from stdin written one at a time, each answered on stdout with None or
    ``(error class name, message)``, until stdin closes."""
    from multiprocessing.connection import Connection

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    receive, send = Connection(0, writable=False), Connection(1, readable=False)
    try:
        writer = RowWriter(connect(database), Statements(*receive.recv()))
        while True:
            batch = Batch(*receive.recv())
            try:
                writer.write(batch)
            except Inactive as error:
                send.send(("Inactive", str(error)))
            except sqlite3.Error as error:
                send.send((type(error).__name__, str(error)))
            else:
                send.send(None)
    except (EOFError, OSError):  # the writing process closed the pipe, or is gone
        return


if __name__ == "__main__":
    serve(sys.argv[1])
