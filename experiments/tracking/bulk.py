"""Metric points written straight into an MLflow SQL store's tables: the same rows ``log_batch`` writes, at the
speed of the database rather than of MLflow's per-point Python.

``MlflowClient.log_batch`` on a SQL store validates each point, builds an ORM object per point, adds them to a
session and merges the latest value of each key one by one: about 10,000 points per second on SQLite, where the
database itself takes more than ten times that. :func:`log_points` writes the same rows with SQL compiled from
MLflow's own table definitions (``SqlMetric``, ``SqlLatestMetric``, ``SqlRun``; kept here as text for the schema
revisions it covers, and checked against MLflow's definitions by the tests): multi-row inserts into ``metrics``
and one pass over ``latest_metrics`` per batch, in one transaction (:mod:`.metric_rows`, on a connection of this
process for a short run, in a process of its own for a long one). The batch is built column by column in numpy
from the steps' blocks (:mod:`.points`), not point by point in Python.

It keeps MLflow's semantics, so everything MLflow reads back is what ``log_batch`` would have stored (the tests
compare the two point for point): NaN is stored as 0 with ``is_nan``, +/-infinity as the largest finite double;
identical points of one batch are stored once, as is a point already stored (a spool sent twice): the insert skips
them, as ``log_batch`` does; a key's latest value is the point with the greatest ``(step, timestamp, value)``, an
existing one replaced only by a strictly greater one; points go only to a run that is not deleted. Each key is
checked once, by MLflow's rule (:mod:`.names`; MLflow's own validation for a key that fails it, which then raises
MLflow's error).

Used only where it is known to write what MLflow expects: a ``SqlAlchemyStore`` on SQLite whose schema revision
is one of :data:`REVISIONS` (those the tests cover), or the store of a :class:`~.direct.DirectClient` (which is
made only for such a store). Anything else (an ``mlflow server``, PostgreSQL or MySQL named
directly by URI, another revision) goes through ``log_batch``, and the first such fall-back of a process says so
in one line on stderr (a server, the usual way to reach PostgreSQL, is written through its own API silently).
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import sys
import threading
import weakref

from .metric_rows import Batch, Inactive, ProcessGone, RowProcess, RowWriter, Statements, connect
from .names import is_valid_name
from .points import columns

# MLflow's schema revisions (alembic heads) whose metrics and latest_metrics tables this module writes; a store on
# any other revision is written through log_batch. dc11669786a5 is the head of MLflow 3.17.
REVISIONS = frozenset({"dc11669786a5"})
# Their SQL, as MLflow's table definitions compile for SQLite (the same for every revision above;
# tests/test_bulk_metrics.py compiles them from MLflow's models and compares).
STATEMENTS = Statements(
    insert_head='INSERT OR IGNORE INTO metrics ("key", value, timestamp, step, is_nan, run_uuid) VALUES',
    row="(?, ?, ?, ?, ?, ?)", runs="runs", runs_id="run_uuid", runs_stage="lifecycle_stage", latest="latest_metrics",
    latest_columns=("key", "value", "timestamp", "step", "is_nan", "run_uuid"))
DIALECTS = frozenset({"sqlite"})
LOG_BATCH_LIMIT = 1000  # metrics per log_batch call
COLUMNS = ("key", "value", "timestamp", "step", "is_nan", "run_uuid")  # a metrics row's tuple
_LARGEST = 1.7976931348623157e308

_lock = threading.Lock()
_writers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # store -> its writer, or None: log_batch
_told = set()  # reasons already printed (one line per reason and process)


@atexit.register
def _close_writers() -> None:
    """End the writer processes (each after the write in hand)."""
    for writer in list(_writers.values()):
        if writer is not None:
            writer.close()


def log_points(client, run_id: str, points: list) -> None:
    """Store ``points``, a list of ``(key, value, timestamp_ms, step)``, as metrics of ``run_id``."""
    writer = writer_for(client)
    if writer is None or not writer.write(run_id, points):
        _log_batch(client, run_id, points)


def _log_batch(client, run_id: str, points: list) -> None:
    """``log_batch`` in calls of at most 1000 points (its limit)."""
    from mlflow.entities import Metric

    points = list(points)  # once: a Points' slice would list every point again
    for i in range(0, len(points), LOG_BATCH_LIMIT):
        client.log_batch(run_id, metrics=[Metric(k, v, ts, step) for k, v, ts, step in points[i:i + LOG_BATCH_LIMIT]],
                         synchronous=True)


def writer_for(client) -> "BulkWriter | None":
    """The fast writer for ``client``'s store, or None when that store is written through ``log_batch``."""
    database = getattr(client, "database", None)  # a DirectClient: its store is one this module writes
    store = client if database else _store_of(client)
    if store is None:
        return None
    with _lock:
        if store not in _writers:
            writer, reason = (BulkWriter(database), "") if database else BulkWriter.for_store(store)
            _writers[store] = writer
            if writer is None and reason:
                _tell(reason)
        return _writers[store]


def _store_of(client):
    tracking = getattr(client, "_tracking_client", None)
    return getattr(tracking, "store", None)


def _tell(reason: str) -> None:
    if reason not in _told:
        _told.add(reason)
        print(f"Metrics are written through MLflow's log_batch ({reason}).", file=sys.stderr, flush=True)


class BulkWriter:
    """Writes metric rows for one SQLite store: on a connection of this process until ``process_from`` points
    have been written or come in one batch, then in a process of its own (:class:`.metric_rows.RowProcess`) for
    good; the same SQL either way (:class:`.metric_rows.RowWriter`). A short run (the default 100 steps write
    about 2,000 points) starts no process; a long one pays its start (a few tens of milliseconds, on the other
    core) once."""

    process_from = 3_000

    def __init__(self, database: str) -> None:
        self.database = database
        self.statements = STATEMENTS
        self._valid_keys: set[str] = set()
        self._lock = threading.Lock()  # one batch at a time (the runs of a process share their store's writer)
        self._here: RowWriter | None = None
        self._process: RowProcess | None = None
        self._process_failed = False
        self._written = 0

    @classmethod
    def for_store(cls, store) -> tuple["BulkWriter | None", str]:
        """A writer for ``store``, or ``(None, why not)``; "" when there is nothing to say (not a SQL store)."""
        try:
            from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
        except ImportError:
            return None, ""
        if not isinstance(store, SqlAlchemyStore):
            return None, ""  # a server or a file store: log_batch is the only way in
        engine = store.engine
        if engine.dialect.name not in DIALECTS:
            return None, f"the fast path covers SQLite stores, not {engine.dialect.name}"
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None, "the fast path covers SQLite stores in a file named by path"
        revision = schema_revision(engine)
        if revision not in REVISIONS:
            return None, (f"the store's schema revision {revision} is not one the fast path was checked on "
                          f"({', '.join(sorted(REVISIONS))})")
        return cls(os.path.abspath(database)), ""

    def write(self, run_id: str, points) -> bool:
        """Store ``points`` in one transaction; False (nothing written) when they must go through log_batch."""
        if not len(points):
            return True
        batch = _batch(run_id, *columns(points))
        for key in set(batch.keys) - self._valid_keys:
            self._validate_key(key)
        try:
            with self._lock:
                self._store(batch)
                self._written += len(batch)
        except (Inactive, sqlite3.IntegrityError):
            return False  # a deleted run (log_batch raises MLflow's own error for it), or another writer of the
            # run got a key's latest value in first (log_batch merges it)
        return True

    def _store(self, batch: Batch) -> None:
        """``batch`` written by the writer's process once there is reason for one, else on this process's own
        connection; also there if the process is gone (the batch it may have been writing was rolled back by
        SQLite, and a point stored already is skipped)."""
        long_run = self._process is not None or max(len(batch), self._written) >= self.process_from
        if long_run and not self._process_failed:
            if self._process is None:
                self._process = RowProcess(self.database, self.statements)
            try:
                return self._process.write(batch)
            except ProcessGone as gone:
                self._process_failed = True
                _tell(f"{gone}; they are written by the run's own process from now on")
        if self._here is None:
            self._here = RowWriter(connect(self.database), self.statements)
        self._here.write(batch)

    def close(self) -> None:
        """End the writer's process, if it started one, after the write in hand (a later large batch starts
        another). Not under the writer's lock: a run stopped at once does not wait for that write here."""
        process, self._process = self._process, None
        if process is not None:
            process.close()

    def _validate_key(self, key: str) -> None:
        if not is_valid_name(key):
            from mlflow.utils.validation import _validate_metric

            _validate_metric(key, 0.0, 0, 0)  # MLflow's error for the name (log_batch's check: its length too)
        self._valid_keys.add(key)


def _batch(run_id: str, keys: list, values, timestamps, steps) -> Batch:
    """The points (as :func:`.points.columns` gives them: float64 values, int64 timestamps and steps) as a
    :class:`.metric_rows.Batch`: built column by column in numpy (no Python object per point on the way).

    The rows are put in key order, stably (each key's points keep the order they were logged in, so whatever MLflow
    reads back for a key, rowid order included, is as ``log_batch`` leaves it): the ``metrics`` table's primary key
    and its ``(run_uuid, key, step)`` index start with the key, and rows that arrive key by key go to the same few
    index pages one after another instead of to every key's page at every step (about a third less insert work).
    Each key's newest row is its last one when its steps rise strictly (a run's usual case); otherwise one lexsort
    finds it."""
    import numpy as np

    is_nan = np.isnan(values)
    if is_nan.any() or np.isinf(values).any():
        values = np.where(is_nan, 0.0, np.clip(values, -_LARGEST, _LARGEST))
    codes = dict.fromkeys(keys)
    for code, key in enumerate(codes):
        codes[key] = code
    distinct = list(codes)
    key_codes = np.fromiter(map(codes.__getitem__, keys), dtype=np.int32, count=len(keys))
    by_key = np.argsort(key_codes, kind="stable")
    grouped = key_codes[by_key]
    last_of_key = np.append(grouped[1:] != grouped[:-1], True)
    ordered = steps[by_key]
    if np.all((ordered[1:] > ordered[:-1]) | last_of_key[:-1]):  # compared, not subtracted: no int64 overflow
        ends = by_key[last_of_key].tolist()
    else:
        first_last = -np.arange(len(keys))  # among equals, the first point sorts last
        order = np.lexsort((first_last, values, timestamps, steps, key_codes))
        ends = order[np.flatnonzero(last_of_key)].tolist()  # key_codes[order] is grouped the same way
    newest = {keys[i]: (keys[i], float(values[i]), int(timestamps[i]), int(steps[i]), bool(is_nan[i]), run_id)
              for i in ends}
    return Batch(run_id=run_id, keys=distinct, codes=grouped.tobytes(), values=values[by_key].tobytes(),
                 timestamps=timestamps[by_key].tobytes(), steps=steps[by_key].tobytes(),
                 is_nan=is_nan[by_key].astype(np.int8).tobytes(), newest=newest)


def schema_revision(engine) -> str | None:
    """The store's alembic revision, None when it has none."""
    import sqlalchemy

    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).scalar()
    except sqlalchemy.exc.SQLAlchemyError:
        return None
