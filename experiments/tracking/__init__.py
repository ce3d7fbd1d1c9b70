"""The MLflow side of the runner: which store (``store``), fast metric writing (``writer``), run lifecycle
(``lifecycle``), delivery that survives a store going away (``outbox``, ``spool``), the store a run's ``tracking.*``
settings ask for (``config``).

The modules are layered, each importing only those below it (tests/test_tracking_layers.py): ``disk``, ``lease`` <
``sqlite`` < ``faults`` (what a store's errors mean) < ``store`` < ``spool`` < ``outbox``, ``writer`` < ``lifecycle``
< ``config``, ``parent``."""

from .lifecycle import FAILURE_TAG, PARENT_TAG, Spooling, TrackedRun
from .store import (check_artifact_location, get_or_create_experiment, open_client, resolve_uri, ui_command,
                    where_to_view)
from .writer import BatchWriter, mlflow_sink

__all__ = ["BatchWriter", "FAILURE_TAG", "PARENT_TAG", "Spooling", "TrackedRun", "check_artifact_location",
           "get_or_create_experiment", "mlflow_sink", "open_client", "resolve_uri", "ui_command",
           "where_to_view"]
