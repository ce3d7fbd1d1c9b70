"""Which metric, param and tag names MLflow accepts, and its length limits, decided without importing MLflow.

The runner's own writers (:mod:`.bulk`, :mod:`.direct`) write a name themselves only when it passes this check; any
other name goes to MLflow, whose own validation then answers with its own error. tests/test_direct_store.py checks
that this rule agrees with MLflow's on valid and invalid names alike.
"""

from __future__ import annotations

import posixpath
import re

MAX_KEY_LENGTH = 250  # metric, param and tag names
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_PARAMS_OR_TAGS_PER_BATCH = 100
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20000
MAX_ARTIFACT_LOCATION_LENGTH = 2048  # an experiment's; MLflow's default (MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH sets it)

_ALLOWED = re.compile(r"^[/\w.\- :]*$")  # alphanumerics, _, -, ., space, colon and slash (POSIX systems)


def is_valid_name(name) -> bool:
    """Whether MLflow takes ``name`` as a metric, param or tag name as it is: allowed characters only, no longer
    than 250, and a name that stays itself as a normalised relative path (no ``..``, ``./``, ``//``, leading
    ``/``)."""
    if not isinstance(name, str) or len(name) > MAX_KEY_LENGTH or not _ALLOWED.match(name):
        return False
    normal = posixpath.normpath(name)
    return normal == name and normal != "." and not normal.startswith(("..", "/"))
