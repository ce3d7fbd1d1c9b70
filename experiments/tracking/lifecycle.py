"""An MLflow run from creation to a final status, whatever happens in between.

``TrackedRun.start(...)`` creates the run (params, tags, parent) and its background metric writer; leaving the
``with`` block ends it: FINISHED, FAILED (an exception, or :meth:`fail` for a diverged run: the reason is tagged)
or KILLED (Ctrl-C), always after flushing every metric logged so far. A run is never left RUNNING by this process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from .store import retrying
from .writer import BatchWriter, mlflow_sink

PARENT_TAG = "mlflow.parentRunId"
FAILURE_TAG = "failure_reason"
MAX_PARAMS_PER_CALL = 100  # MLflow's log_batch limit for params
MAX_PARAM_LENGTH = 6000


class TrackedRun:
    def __init__(self, client, run_id: str, experiment_id: str, batch_size: int = 1000) -> None:
        self.client = client
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.writer = BatchWriter(mlflow_sink(client, run_id), batch_size=batch_size)
        self.status: str | None = None
        self._failure: str | None = None

    @classmethod
    def start(cls, client, experiment_id: str, run_name: str, tags: Mapping[str, str] = (),
              params: Mapping[str, object] = (), parent_run_id: str | None = None,
              batch_size: int = 1000) -> "TrackedRun":
        tags = dict(tags)
        if parent_run_id:
            # Explicit, never start_run(nested=True): a joblib worker has no active run to nest under.
            tags[PARENT_TAG] = parent_run_id
        info = retrying(client.create_run, experiment_id, run_name=run_name, tags=tags).info
        run = cls(client, info.run_id, experiment_id, batch_size)
        try:
            run.log_params(params)
        except BaseException:
            run.end("FAILED")
            raise
        return run

    def log_params(self, params: Mapping[str, object]) -> None:
        from mlflow.entities import Param

        items = [Param(str(k), str(v)[:MAX_PARAM_LENGTH]) for k, v in dict(params).items()]
        for i in range(0, len(items), MAX_PARAMS_PER_CALL):
            retrying(self.client.log_batch, self.run_id, params=items[i:i + MAX_PARAMS_PER_CALL], synchronous=True)

    def log_metrics(self, step: int, keys, values, timestamp_ms: int | None = None) -> None:
        """Queue one step's points (written in the background)."""
        self.writer.add(step, int(time.time() * 1000) if timestamp_ms is None else timestamp_ms, keys, values)

    def set_tag(self, key: str, value: object) -> None:
        retrying(self.client.set_tag, self.run_id, key, str(value))

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        retrying(self.client.log_artifact, self.run_id, str(path), artifact_path)

    def fail(self, reason: str) -> None:
        """Mark the run to end FAILED with ``reason`` tagged (e.g. a non-finite loss at some step)."""
        self._failure = reason

    def end(self, status: str) -> None:
        """Flush the metrics, then set the final status (the status is set even when flushing fails)."""
        if self.status is not None:
            return
        try:
            self.writer.close()
        except BaseException as error:
            status = "FAILED"
            self._failure = self._failure or f"writing metrics failed: {error}"
            raise
        finally:
            if self._failure and status == "FINISHED":
                status = "FAILED"
            if self._failure:
                retrying(self.client.set_tag, self.run_id, FAILURE_TAG, self._failure[:5000])
            retrying(self.client.set_terminated, self.run_id, status)
            self.status = status

    def __enter__(self) -> "TrackedRun":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.end("FINISHED")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end("KILLED")
        else:
            self._failure = self._failure or f"{exc_type.__name__}: {exc}"
            self.end("FAILED")
