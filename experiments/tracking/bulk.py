"""Metric points written straight into an MLflow SQL store's tables: the same rows ``log_batch`` writes, at the
speed of the database rather than of MLflow's per-point Python.

``MlflowClient.log_batch`` on a SQL store validates each point, builds an ORM object per point, adds them to a
session and merges the latest value of each key one by one: about 10,000 points per second on SQLite, where the
database itself takes more than ten times that. :func:`log_points` writes the same rows through MLflow's own table
definitions (``SqlMetric.__table__``, ``SqlLatestMetric.__table__``) on the store's own engine, with SQLAlchemy
Core: one bulk insert into ``metrics`` and one pass over ``latest_metrics`` per batch, in one transaction.

It keeps MLflow's semantics, so everything MLflow reads back is what ``log_batch`` would have stored (the tests
compare the two point for point): NaN is stored as 0 with ``is_nan``, +/-infinity as the largest finite double;
identical points of one batch are stored once; a key's latest value is the point with the greatest
``(step, timestamp, value)``, an existing one replaced only by a strictly greater one; points go only to a run that
is not deleted. Each key is checked once with MLflow's own validation.

Used only where it is known to write what MLflow expects: a ``SqlAlchemyStore`` on SQLite whose schema revision
is one of :data:`REVISIONS` (those the tests cover). Anything else (an ``mlflow server``, PostgreSQL or MySQL named
directly by URI, another revision) goes through ``log_batch``, and the first such fall-back of a process says so
in one line on stderr (a server, the usual way to reach PostgreSQL, is written through its own API silently). A batch the fast path cannot insert as a whole (a point already stored, as when a spool is sent
twice) is handed to ``log_batch``, which skips what is already there.
"""

from __future__ import annotations

import itertools
import math
import sys
import threading
import weakref

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


def sanitized(value: float) -> tuple[float, bool]:
    """``(stored value, is_nan)`` as MLflow stores a metric value."""
    if math.isnan(value):
        return 0.0, True
    if math.isinf(value):
        return (_LARGEST if value > 0 else -_LARGEST), False
    return value, False


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

    def write(self, run_id: str, points: list) -> bool:
        """Store ``points`` in one transaction; False (nothing written) when they must go through log_batch."""
        import sqlalchemy

        rows = self._rows(run_id, points)
        if not rows:
            return True
        try:
            with self.engine.begin() as connection:
                if not self._run_is_active(connection, run_id):
                    return False  # log_batch raises MLflow's own error for it
                self._insert_rows(connection, rows)
                self._update_latest(connection, run_id, rows)
        except sqlalchemy.exc.IntegrityError:
            return False  # a point already stored: log_batch stores the rest and skips it
        return True

    def _rows(self, run_id: str, points: list) -> list[tuple]:
        """The ``metrics`` rows, as tuples in the order of the compiled insert's columns (see :data:`COLUMNS`)."""
        import numpy as np

        if not points:
            return []
        keys, values, timestamps, steps = zip(*points)
        for key in set(keys) - self._valid_keys:
            self._validate_key(key)
        array = np.asarray(values, dtype=np.float64)
        is_nan = np.isnan(array)
        if is_nan.any() or np.isinf(array).any():
            array = np.where(is_nan, 0.0, np.clip(array, -_LARGEST, _LARGEST))
        stored, nan_flags = array.tolist(), is_nan.tolist()
        timestamps, steps = map(int, timestamps), map(int, steps)
        rows = list(zip(keys, stored, timestamps, steps, nan_flags, [run_id] * len(keys)))
        if len(set(rows)) < len(rows):  # MLflow stores identical points of one batch once
            rows = list(dict.fromkeys(rows))
        return rows

    def _insert_rows(self, connection, rows: list[tuple]) -> None:
        """Insert ``rows`` with multi-row INSERT statements of up to :data:`ROWS_PER_INSERT` rows: one database call
        per statement rather than per row (each call gives up and takes back the GIL, which the optimisation
        thread feels)."""
        for i in range(0, len(rows), ROWS_PER_INSERT):
            chunk = rows[i:i + ROWS_PER_INSERT]
            connection.exec_driver_sql(self._insert(len(chunk)), tuple(itertools.chain.from_iterable(chunk)))

    def _insert(self, count: int) -> str:
        """MLflow's ``metrics`` insert compiled for the store's database (qmark parameters, columns in the order of
        :data:`COLUMNS`), with ``count`` rows of values."""
        statement = self._insert_sql.get(count)
        if statement is None:
            compiled = self.metrics.insert().values({name: None for name in COLUMNS}).compile(
                dialect=self.engine.dialect, column_keys=list(COLUMNS))
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

    def _update_latest(self, connection, run_id: str, rows: list[tuple]) -> None:
        """Each key's latest point: the greatest ``(step, timestamp, value)`` of the batch, written when there is
        none yet or it is strictly greater than the stored one (MLflow's rule, first of equals kept)."""
        import sqlalchemy

        newest: dict[str, tuple] = {}
        for row in rows:
            best = newest.get(row[0])
            if best is None or _order(row) > _order(best):
                newest[row[0]] = row
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
