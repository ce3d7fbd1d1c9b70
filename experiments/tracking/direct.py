"""A run's own calls on a local SQLite store made straight with ``sqlite3`` and file copies, so that a run's process
need not import MLflow at all (its import alone takes most of a short run's start-up and memory).

:class:`DirectClient` answers the calls a run makes from its creation to its end (find its experiment, create the
run with its tags, log params and tags, set its status, copy its artifacts into the run's artifact folder, delete
its old checkpoints) with the same rows and files MLflow's own ``SqlAlchemyStore`` and local artifact repository
write: tests/test_direct_store.py creates runs both ways and compares everything MLflow reads back. Every other call,
and any call outside the plain case (a name MLflow would refuse, a deleted run, a param logged again with another
value, a run renamed, an artifact location that is not a local folder), is passed to an ``MlflowClient`` made on
first need, which gives MLflow's own answer. A new experiment is created here too when the runner names its
artifact folder (a local store's experiments keep their artifacts beside the database).

Used only where its rows are known to be MLflow's (:func:`direct_client`): an SQLite store in a file, already at
the schema revision of the installed MLflow, one the tests cover (:data:`.bulk.REVISIONS`), and MLflow's workspaces
off. A new store, a store needing a migration, another MLflow and every other kind of store go through MLflow.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import artifact_files
from .bulk import REVISIONS
from .names import (MAX_ARTIFACT_LOCATION_LENGTH, MAX_EXPERIMENT_NAME_LENGTH, MAX_EXPERIMENT_TAG_VALUE_LENGTH,
                    MAX_PARAM_VALUE_LENGTH, MAX_PARAMS_OR_TAGS_PER_BATCH, MAX_TAG_VALUE_LENGTH, is_valid_name)
from .sqlite import read_state

WORKSPACE = "default"  # the workspace of every experiment while MLflow's workspaces are off
RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"
TRACE_ARCHIVAL_TAGS = frozenset({"mlflow.trace.archivalRetention", "mlflow.trace.archiveNow"})
STATUSES = frozenset({"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"})
ARTIFACTS_FOLDER = "artifacts"
LOCK_TIMEOUT = 20.0  # seconds SQLite waits on a lock (MLflow's busy timeout); the callers retry beyond it


_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*=\s*["'](\w+)["']""", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def installed_head() -> str | None:
    """The schema head of the installed MLflow (its newest migration), read from its migration scripts without
    importing MLflow; None when that cannot be told."""
    from importlib.util import find_spec

    try:
        spec = find_spec("mlflow")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    revisions, parents = set(), set()
    for folder in spec.submodule_search_locations:
        for script in Path(folder, "store", "db_migrations", "versions").glob("*.py"):
            for kind, revision in _REVISION_LINE.findall(script.read_text(errors="replace")):
                (revisions if kind == "revision" else parents).add(revision)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def direct_client(uri: str, database: Path, lock_timeout: float) -> "DirectClient | None":
    """A :class:`DirectClient` for the SQLite store ``database`` when it is ready for the installed MLflow at a
    revision this module writes, else None (the caller opens the store through MLflow)."""
    head = installed_head()
    if head not in REVISIONS or os.environ.get("MLFLOW_ENABLE_WORKSPACES", "").strip().lower() in ("true", "1"):
        return None
    if not read_state(database, lock_timeout).ready(head):
        return None
    client = DirectClient(uri, database)
    try:
        usable = not client.has_other_workspaces()  # MLflow refuses such a store with workspaces off: it says so
    except sqlite3.DatabaseError:  # MLflow's path waits for a locked store and reports what else is wrong
        usable = False
    if not usable:
        client.close()
        return None
    return client


@dataclass(frozen=True)
class ExperimentRow:
    """What the run's start reads of an experiment."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    artifact_uri: str
    status: str
    start_time: int
    lifecycle_stage: str = "active"


@dataclass(frozen=True)
class CreatedRun:
    """``create_run``'s answer, shaped like MLflow's ``Run`` as far as the runner reads it (``.info``)."""

    info: RunInfo


class _Delegate(Exception):
    """The call is not the plain case: MLflow makes it (and answers as it does)."""


class DirectClient:
    """The calls of a run on the SQLite store ``database`` (see the module docstring); ``tracking_uri`` as given."""

    def __init__(self, tracking_uri: str, database: str | os.PathLike) -> None:
        self.tracking_uri = tracking_uri
        self.database = str(database)
        self._lock = threading.Lock()  # one connection, used by the run's threads in turn
        self._connection: sqlite3.Connection | None = None
        self._artifact_uris: dict[str, str] = {}
        self._mlflow_client = None

    # --- everything else: MLflow ---------------------------------------------------------------------------------

    def mlflow(self):
        """The ``MlflowClient`` on the same store, made (and MLflow imported) on first need."""
        if self._mlflow_client is None:
            from mlflow.tracking import MlflowClient

            self._mlflow_client = MlflowClient(tracking_uri=self.tracking_uri)
        return self._mlflow_client

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.mlflow(), name)

    # --- experiments ---------------------------------------------------------------------------------------------

    def get_experiment_by_name(self, name: str) -> ExperimentRow | None:
        row = self._read('SELECT experiment_id, name, artifact_location, lifecycle_stage FROM experiments '
                         'WHERE name = ? AND workspace = ?', (name, WORKSPACE))
        return None if row is None else ExperimentRow(str(row[0]), row[1], row[2], row[3])

    def create_experiment(self, name: str, artifact_location: str | None = None, tags=None) -> str:
        """A new active experiment with ``tags`` (a dict of text), as ``MlflowClient.create_experiment`` makes it,
        when its artifact location is a plain local folder. A location MLflow derives itself (none given), a name,
        tag or length MLflow refuses, and a name taken already (another process made it first) go to MLflow, which
        answers with its own error."""
        tags = dict(tags or {})
        try:
            if (not isinstance(name, str) or not name or len(name) > MAX_EXPERIMENT_NAME_LENGTH
                    or not artifact_location or artifact_files.local_folder(artifact_location) is None
                    or len(artifact_location) > MAX_ARTIFACT_LOCATION_LENGTH
                    or os.environ.get("MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH")
                    or not all(_plain_experiment_tag(k, v) for k, v in tags.items())):
                raise _Delegate
            now = _now_ms()
            with self._writing() as connection:
                try:
                    experiment_id = connection.execute(
                        "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, "
                        "last_update_time, workspace) VALUES (?, ?, 'active', ?, ?, ?)",
                        (name, artifact_location, now, now, WORKSPACE)).lastrowid
                except sqlite3.IntegrityError:  # the name is taken
                    raise _Delegate from None
                connection.executemany("INSERT INTO experiment_tags (key, value, experiment_id) VALUES (?, ?, ?)",
                                       [(k, v, experiment_id) for k, v in tags.items()])
        except _Delegate:
            return self.mlflow().create_experiment(name, artifact_location=artifact_location, tags=tags or None)
        return str(experiment_id)

    def has_other_workspaces(self) -> bool:
        return self._read("SELECT 1 FROM experiments WHERE workspace IS NOT NULL AND workspace != ? LIMIT 1",
                          (WORKSPACE,)) is not None

    # --- runs ----------------------------------------------------------------------------------------------------

    def create_run(self, experiment_id: str, start_time: int | None = None, tags=None, run_name: str | None = None):
        """A new RUNNING run with ``tags`` (and ``mlflow.runName``), as ``MlflowClient.create_run`` makes it."""
        tags = dict(tags or {})
        named = tags.get(RUN_NAME_TAG)
        try:
            if not run_name or (named is not None and named != run_name) or not _all_text(tags):
                raise _Delegate
            start_time = start_time or _now_ms()
            experiment = _int(experiment_id)
            run_id = uuid.uuid4().hex
            with self._writing() as connection:
                row = connection.execute("SELECT artifact_location, lifecycle_stage FROM experiments WHERE "
                                         "experiment_id = ? AND workspace = ?", (experiment, WORKSPACE)
                                         ).fetchone()
                if row is None or row[1] != "active" or artifact_files.local_folder(row[0]) is None:
                    raise _Delegate
                artifact_uri = artifact_files.joined(row[0], run_id, ARTIFACTS_FOLDER)
                connection.execute(
                    "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
                    "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, "
                    "deleted_time) VALUES (?, ?, 'UNKNOWN', '', '', ?, 'RUNNING', ?, NULL, '', 'active', ?, ?, NULL)",
                    (run_id, run_name, tags.get(USER_TAG, "unknown"), start_time, artifact_uri, experiment))
                rows = [(key, value, run_id) for key, value in tags.items()]
                if named is None:
                    rows.append((RUN_NAME_TAG, run_name, run_id))
                connection.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", rows)
        except _Delegate:
            return self.mlflow().create_run(experiment_id, start_time=start_time, tags=tags, run_name=run_name)
        self._artifact_uris[run_id] = artifact_uri
        return CreatedRun(RunInfo(run_id, str(experiment_id), run_name, artifact_uri, "RUNNING", start_time))

    def log_params(self, run_id: str, params) -> None:
        """``params``, ``(key, value)`` pairs of text, as ``log_batch(run_id, params=...)`` stores them: a param
        already there with the same value is left, one with another value is MLflow's error."""
        params = [(k, v) for k, v in params]
        keys = [k for k, _ in params]
        try:
            if (len(params) > MAX_PARAMS_OR_TAGS_PER_BATCH or len(set(keys)) != len(keys)
                    or not all(is_valid_name(k) and isinstance(v, str) and len(v) <= MAX_PARAM_VALUE_LENGTH
                               for k, v in params)):
                raise _Delegate
            if not params:
                return
            with self._writing() as connection:
                self._check_active(connection, run_id)
                stored = dict(connection.execute(
                    f"SELECT key, value FROM params WHERE run_uuid = ? AND key IN ({', '.join('?' * len(keys))})",
                    (run_id, *keys)))
                if any(stored.get(k, v) != v for k, v in params):
                    raise _Delegate
                connection.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                                       [(k, v, run_id) for k, v in params if k not in stored])
        except _Delegate:
            from mlflow.entities import Param

            self.mlflow().log_batch(run_id, params=[Param(k, v) for k, v in params], synchronous=True)

    def log_batch(self, run_id: str, metrics=(), params=(), tags=(), synchronous=None) -> None:
        """Params and tags (``.key``, ``.value``) here; a batch with metrics goes to MLflow (the runner's metric
        points go through :mod:`.bulk`)."""
        params, tags = list(params), list(tags)
        if metrics or not all(_plain_tag(t.key, t.value) for t in tags):  # checked whole first, as MLflow does
            self.mlflow().log_batch(run_id, metrics=list(metrics), params=params, tags=tags,
                                    synchronous=True if synchronous is None else synchronous)
            return
        if params:
            self.log_params(run_id, [(p.key, p.value) for p in params])
        for tag in tags:
            self.set_tag(run_id, tag.key, tag.value)

    def set_tag(self, run_id: str, key: str, value, synchronous=None) -> None:
        value = str(value)
        try:
            if not _plain_tag(key, value):
                raise _Delegate
            with self._writing() as connection:
                self._check_active(connection, run_id)
                connection.execute("INSERT OR REPLACE INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                                   (key, value, run_id))
        except _Delegate:
            self.mlflow().set_tag(run_id, key, value)

    def set_terminated(self, run_id: str, status: str | None = None, end_time: int | None = None) -> None:
        status = status or "FINISHED"
        try:
            if status not in STATUSES:
                raise _Delegate
            with self._writing() as connection:
                self._check_active(connection, run_id)
                connection.execute("UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ?",
                                   (status, end_time or _now_ms(), run_id))
        except _Delegate:
            self.mlflow().set_terminated(run_id, status, end_time=end_time)

    # --- artifacts -----------------------------------------------------------------------------------------------

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        """A copy of the file ``local_path`` in the run's artifact folder (under ``artifact_path``), as MLflow's local
        artifact repository makes it (:func:`.artifact_files.copy_into`)."""
        folder = self._artifact_folder(run_id, artifact_path)
        if folder is None or not artifact_files.can_copy(local_path):
            self.mlflow().log_artifact(run_id, local_path, artifact_path)
            return
        artifact_files.copy_into(folder, local_path)

    def delete_local_artifact(self, run_id: str, artifact_path: str) -> bool:
        """Remove one artifact (a file or a folder) of the run from its local artifact folder (nothing when it is
        not there); False, removing nothing, when the run's artifacts are not in a plain local folder."""
        folder = self._artifact_folder(run_id, artifact_path)
        if folder is None:
            return False
        artifact_files.remove(folder)
        return True

    def _artifact_folder(self, run_id: str, artifact_path: str | None) -> Path | None:
        """The local folder of the run's ``artifact_path``, None when MLflow must decide (an artifact location that
        is not a local folder, or a path that is not a plain relative one)."""
        if artifact_path and not artifact_files.is_plain_relative(artifact_path):
            return None
        uri = self._artifact_uris.get(run_id)
        if uri is None:
            row = self._read("SELECT artifact_uri FROM runs WHERE run_uuid = ?", (run_id,))
            if row is None:
                return None
            uri = self._artifact_uris[run_id] = row[0]
        root = artifact_files.local_folder(uri)
        if root is None:
            return None
        return root / artifact_path if artifact_path else root

    # --- the connection ------------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self.database, timeout=LOCK_TIMEOUT, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA foreign_keys = ON")  # as MLflow's own sessions
            self._connection = connection
        return self._connection

    def _read(self, sql: str, parameters: tuple):
        with self._lock:
            return self._connect().execute(sql, parameters).fetchone()

    def _writing(self):
        return _Transaction(self)

    @staticmethod
    def _check_active(connection: sqlite3.Connection, run_id: str) -> None:
        row = connection.execute("SELECT lifecycle_stage FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()
        if row is None or row[0] != "active":
            raise _Delegate  # MLflow's own error: no such run, or the run is deleted

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


class _Transaction:
    """``with client._writing() as connection``: one write transaction (the write lock taken at its start, so it is
    waited for rather than met halfway), committed at the end or rolled back on any exception."""

    def __init__(self, client: DirectClient) -> None:
        self.client = client

    def __enter__(self) -> sqlite3.Connection:
        self.client._lock.acquire()
        try:
            self.connection = self.client._connect()
            self.connection.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._end()
            raise
        return self.connection

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.connection.execute("COMMIT")  # a busy COMMIT leaves the transaction open: rolled back below
            except BaseException:
                self._end()
                raise
        self._end()

    def _end(self) -> None:
        """Roll back whatever is still open (nothing after a commit), then let the next caller in."""
        try:
            connection = self.client._connection
            if connection is not None and connection.in_transaction:
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # a connection that cannot even roll back: SQLite ends the transaction when it is closed
        finally:
            self.client._lock.release()


def _now_ms() -> int:
    return int(time.time() * 1000)


def _int(experiment_id) -> int:
    try:
        return int(experiment_id)
    except (TypeError, ValueError):
        raise _Delegate from None


def _plain_tag(key, value) -> bool:
    """A tag MLflow takes as it is, that does not rename the run."""
    return (is_valid_name(key) and key != RUN_NAME_TAG and isinstance(value, str)
            and len(value) <= MAX_TAG_VALUE_LENGTH)


def _plain_experiment_tag(key, value) -> bool:
    """An experiment tag MLflow takes as it is (the two that configure trace archival have values it parses)."""
    return (is_valid_name(key) and key not in TRACE_ARCHIVAL_TAGS and isinstance(value, str)
            and len(value) <= MAX_EXPERIMENT_TAG_VALUE_LENGTH)


def _all_text(tags: dict) -> bool:
    return all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items())
