"""Metric points written straight into an MLflow SQL store's tables: the same rows ``log_batch`` writes, at the
speed of the database rather than of MLflow's per-point Python.

``MlflowClient.log_batch`` on a SQL store validates each point, builds an ORM object per point, adds them to a
session and merges the latest value of each key one by one: about 10,000 points per second on SQLite, where the
database itself takes more than ten times that. :func:`log_points` writes the same rows through MLflow's own table
definitions (``SqlMetric.__table__``, ``SqlLatestMetric.__table__``) on the store's own engine, with SQLAlchemy
Core: one bulk insert into ``metrics`` and one pass over ``latest_metrics`` per batch, in one transaction. The rows
are built column by column in numpy from the steps' blocks (:mod:`.points`), not point by point in Python.

It keeps MLflow's semantics, so everything MLflow reads back is what ``log_batch`` would have stored (the tests
compare the two point for point): NaN is stored as 0 with ``is_nan``, +/-infinity as the largest finite double;
identical points of one batch are stored once, as is a point already stored (a spool sent twice): the insert skips
them, as ``log_batch`` does; a key's latest value is the point with the greatest ``(step, timestamp, value)``, an
existing one replaced only by a strictly greater one; points go only to a run that is not deleted. Each key is
checked once with MLflow's own validation.

Used only where it is known to write what MLflow expects: a ``SqlAlchemyStore`` on SQLite whose schema revision
is one of :data:`REVISIONS` (those the tests cover). Anything else (an ``mlflow server``, PostgreSQL or MySQL named
directly by URI, another revision) goes through ``log_batch``, and the first such fall-back of a process says so
in one line on stderr (a server, the usual way to reach PostgreSQL, is written through its own API silently).
"""

from __future__ import annotations

import math
import sys
import threading
import weakref

from .points import columns

# MLflow's schema revisions (alembic heads) whose metrics and latest_metrics tables this module writes; a store on
# any other revision is written through log_batch. dc11669786a5 is the head of MLflow 3.17.
REVISIONS = frozenset({"dc11669786a5"})
DIALECTS = frozenset({"sqlite"})
LOG_BATCH_LIMIT = 1000  # metrics per log_batch call
COLUMNS = ("key", "value", "timestamp", "step", "is_nan", "run_uuid")  # a metrics row's tuple
ROWS_PER_INSERT = 500  # 3,000 parameters a statement, far below SQLite's limit of 32,766
KEY_BATCH = 500  # keys per SELECT on latest_metrics, as MLflow does, to stay under bind-parameter limits
_LARGEST = 1.7976931348623157e308

_lock = threading.Lock()
_writers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # store -> its writer, or None: log_batch
_told = set()  # reasons already printed (one line per reason and process)


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
    store = _store_of(client)
    if store is None:
        return None
    with _lock:
        if store not in _writers:
            writer, reason = BulkWriter.for_store(store)
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
    """Writes metric rows for one SQL store (its engine, its tables)."""

    def __init__(self, engine) -> None:
        from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlRun

        self.engine = engine
        self.metrics = SqlMetric.__table__
        self.latest = SqlLatestMetric.__table__
        self.runs = SqlRun.__table__
        self._valid_keys: set[str] = set()
        self._insert_sql: dict[int, str] = {}

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
        revision = schema_revision(engine)
        if revision not in REVISIONS:
            return None, (f"the store's schema revision {revision} is not one the fast path was checked on "
                          f"({', '.join(sorted(REVISIONS))})")
        return cls(engine), ""

    def write(self, run_id: str, points) -> bool:
        """Store ``points`` in one transaction; False (nothing written) when they must go through log_batch."""
        import sqlalchemy

        rows = self._rows(run_id, points)
        if rows is None:
            return True
        try:
            with self.engine.begin() as connection:
                if not self._run_is_active(connection, run_id):
                    return False  # log_batch raises MLflow's own error for it
                self._insert_rows(connection, rows.flat)
                self._update_latest(connection, run_id, rows.newest())
        except sqlalchemy.exc.IntegrityError:
            return False  # another writer of the run got a key's latest value in first: log_batch merges it
        return True

    def _rows(self, run_id: str, points) -> "_Rows | None":
        """The batch as ``metrics`` rows (None when empty), keys checked with MLflow's validation once each."""
        if not len(points):
            return None
        rows = _Rows(run_id, *columns(points))
        for key in rows.distinct_keys - self._valid_keys:
            self._validate_key(key)
        return rows

    def _insert_rows(self, connection, flat: list) -> None:
        """Insert the rows (``flat``: their values one after another, in the order of :data:`COLUMNS`) with
        multi-row INSERT statements of up to :data:`ROWS_PER_INSERT` rows: one database call per statement rather
        than per row (each call gives up and takes back the GIL, which the optimisation thread feels)."""
        width = len(COLUMNS)
        count = len(flat) // width
        for first in range(0, count, ROWS_PER_INSERT):
            rows = min(ROWS_PER_INSERT, count - first)
            connection.exec_driver_sql(self._insert(rows), tuple(flat[first * width:(first + rows) * width]))

    def _insert(self, count: int) -> str:
        """MLflow's ``metrics`` insert compiled for the store's database (qmark parameters, columns in the order of
        :data:`COLUMNS`), with ``count`` rows of values."""
        statement = self._insert_sql.get(count)
        if statement is None:
            insert = self.metrics.insert().prefix_with("OR IGNORE")  # points stored already are skipped
            compiled = insert.values({name: None for name in COLUMNS}).compile(dialect=self.engine.dialect,
                                                                                column_keys=list(COLUMNS))
            assert tuple(compiled.positiontup) == COLUMNS and self.engine.dialect.paramstyle == "qmark"
            head, _, values = str(compiled).partition(" VALUES ")
            statement = f"{head} VALUES {', '.join([values] * count)}"
            self._insert_sql[count] = statement
        return statement

    def _validate_key(self, key: str) -> None:
        from mlflow.utils.validation import _validate_metric_name

        _validate_metric_name(key)
        self._valid_keys.add(key)

    def _run_is_active(self, connection, run_id: str) -> bool:
        import sqlalchemy

        stage = connection.execute(sqlalchemy.select(self.runs.c.lifecycle_stage)
                                   .where(self.runs.c.run_uuid == run_id)).scalar()
        return stage == "active"

    def _update_latest(self, connection, run_id: str, newest: dict[str, tuple]) -> None:
        """Each key's latest point (``newest``: key -> its row with the batch's greatest ``(step, timestamp,
        value)``) written when there is none yet or it is strictly greater than the stored one (MLflow's rule)."""
        import sqlalchemy

        latest = self.latest.c
        keys = sorted(newest)
        stored = {}
        for i in range(0, len(keys), KEY_BATCH):
            query = (sqlalchemy.select(latest.key, latest.step, latest.timestamp, latest.value)
                     .where(latest.run_uuid == run_id, latest.key.in_(keys[i:i + KEY_BATCH])))
            stored.update({r.key: (r.step, r.timestamp, r.value) for r in connection.execute(query)})
        as_dict = [dict(zip(COLUMNS, newest[k])) for k in keys if k not in stored]
        updates = [{"b_key": k, "b_value": newest[k][1], "b_timestamp": newest[k][2], "b_step": newest[k][3],
                    "b_is_nan": newest[k][4], "b_run": run_id}
                   for k in keys if k in stored and _order(newest[k]) > stored[k]]
        if as_dict:
            connection.execute(self.latest.insert(), as_dict)
        if updates:
            bind = sqlalchemy.bindparam
            connection.execute(
                self.latest.update().where(latest.run_uuid == bind("b_run"), latest.key == bind("b_key"))
                .values(value=bind("b_value"), step=bind("b_step"), timestamp=bind("b_timestamp"),
                        is_nan=bind("b_is_nan")), updates)


class _Rows:
    """A batch's ``metrics`` rows, built column by column in numpy (no Python object per point on the way but the
    values the database driver binds)."""

    def __init__(self, run_id: str, keys: list, values, timestamps, steps) -> None:
        import numpy as np

        is_nan = np.isnan(values)
        if is_nan.any() or np.isinf(values).any():
            values = np.where(is_nan, 0.0, np.clip(values, -_LARGEST, _LARGEST))
        self.keys, self.values, self.timestamps, self.steps, self.is_nan = keys, values, timestamps, steps, is_nan
        table = np.empty((len(keys), len(COLUMNS)), dtype=object)
        table[:, 0] = keys
        table[:, 1] = values  # as Python floats and ints: what the driver binds
        table[:, 2] = timestamps
        table[:, 3] = steps
        table[:, 4] = is_nan
        table[:, 5] = run_id
        self.flat = table.ravel().tolist()
        self.distinct_keys = set(keys)

    def newest(self) -> dict[str, tuple]:
        """key -> its row with the greatest ``(step, timestamp, value)``, the first of equals."""
        import numpy as np

        codes = dict.fromkeys(self.keys)
        for code, key in enumerate(codes):
            codes[key] = code
        key_codes = np.fromiter(map(codes.__getitem__, self.keys), dtype=np.int64, count=len(self.keys))
        first_last = -np.arange(len(self.keys))  # among equals, the first point sorts last
        order = np.lexsort((first_last, self.values, self.timestamps, self.steps, key_codes))
        grouped = key_codes[order]
        ends = order[np.flatnonzero(np.append(grouped[1:] != grouped[:-1], True))]
        width = len(COLUMNS)
        return {self.keys[i]: tuple(self.flat[i * width:(i + 1) * width]) for i in ends.tolist()}


def _order(row: tuple) -> tuple:
    return row[3], row[2], row[1]  # (step, timestamp, value)


def schema_revision(engine) -> str | None:
    """The store's alembic revision, None when it has none."""
    import sqlalchemy

    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).scalar()
    except sqlalchemy.exc.SQLAlchemyError:
        return None
