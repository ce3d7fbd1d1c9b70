"""The MLflow side of the runner: which store (``store``), fast metric writing (``writer``), run lifecycle
(``lifecycle``), delivery that survives a store going away (``outbox``, ``spool``)."""

from .lifecycle import FAILURE_TAG, PARENT_TAG, Spooling, TrackedRun
from .store import check_artifact_location, get_or_create_experiment, open_client, resolve_uri, ui_command
from .writer import BatchWriter, mlflow_sink

__all__ = ["BatchWriter", "FAILURE_TAG", "PARENT_TAG", "Spooling", "TrackedRun", "check_artifact_location",
           "get_or_create_experiment", "mlflow_sink", "open_client", "resolve_uri", "ui_command"]
