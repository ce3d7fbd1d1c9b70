"""The MLflow side of the runner: which store (``store``), fast metric writing (``writer``), run lifecycle
(``lifecycle``)."""

from .lifecycle import FAILURE_TAG, PARENT_TAG, TrackedRun
from .store import get_or_create_experiment, open_client, resolve_uri, ui_command
from .writer import BatchWriter, mlflow_sink

__all__ = ["BatchWriter", "FAILURE_TAG", "PARENT_TAG", "TrackedRun", "get_or_create_experiment", "mlflow_sink",
           "open_client", "resolve_uri", "ui_command"]
