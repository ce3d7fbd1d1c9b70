"""Credentials in tracking URIs are used, never written or printed.

A tracking URI may carry a user and password (``http://alice:s3cret@host:5000``, ``postgresql://user:pw@db/mlflow``,
``mysql+pymysql://...``). Wherever the runner writes or prints a URI (params, tags, the run's name, ``config.yaml``,
Hydra's ``.hydra/*.yaml``, the sweep's parent file, a spool's journal, messages), the whole user-info part is
replaced by ``***`` (``http://***@host:5000``: the user too, since some services put a token there).

The run still connects with the real URI: ``run.py`` takes ``tracking.uri=<URI with credentials>`` off the command
line before Hydra sees it, hands Hydra the redacted URI, and keeps the real one in the process environment as
``MLFLOW_TRACKING_URI`` (MLflow's own variable, which launchers pass on to their workers). :func:`reveal` turns a
redacted URI back into the real one when the environment holds a URI that redacts to it.
"""

from __future__ import annotations

import os
import re

from .errors import ConfigError

MASK = "***"
ENVIRONMENT = "MLFLOW_TRACKING_URI"
# scheme://userinfo@ : the user-info ends at the last "@" before the path (a password may hold an unescaped "@").
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s'\"<>]+)@")


def redact(text: str) -> str:
    """``text`` with the user info of every URI in it replaced by ``***``."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", str(text))


def has_credentials(text: str) -> bool:
    return any(m["userinfo"] != MASK for m in _USERINFO.finditer(str(text)))


def redact_tree(tree):
    """A config's plain form (dicts, lists, scalars) with every string redacted."""
    if isinstance(tree, dict):
        return {key: redact_tree(value) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(redact_tree(value) for value in tree)
    return redact(tree) if isinstance(tree, str) else tree


def reveal(uri: str) -> str:
    """The real URI behind a redacted one (``http://***@host``): the environment's ``MLFLOW_TRACKING_URI`` when it
    redacts to ``uri``; ``uri`` itself when it was never redacted; a ConfigError when the credentials are unknown."""
    if f"://{MASK}@" not in str(uri):
        return uri
    real = os.environ.get(ENVIRONMENT, "")
    if real and redact(real) == uri:
        return real
    raise ConfigError(f"The tracking URI {uri} had credentials, which are never stored. Give the full URI again in "
                      f"the environment ({ENVIRONMENT}=<uri with credentials>), or --tracking-uri for "
                      "`python -m experiments.sync`.")


def take_from_command_line(argv: list[str]) -> list[str]:
    """``argv`` with the credentials of ``tracking.uri=<URI>`` replaced by ``***``; the real URI goes to the
    environment (:data:`ENVIRONMENT`) for this process and the jobs it starts."""
    out = []
    for argument in argv:
        key, sep, value = argument.partition("=")
        if sep and key.lstrip("+") == "tracking.uri" and has_credentials(value):
            real = value.strip().strip("'\"")
            if "," in value and value.strip()[:1] not in "'\"":
                raise ConfigError(f"{redact(argument)} is not allowed: a sweep over tracking URIs cannot carry "
                                  f"credentials. Give one URI, or its credentials in {ENVIRONMENT} or "
                                  "MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD.")
            os.environ[ENVIRONMENT] = real
            argument = f"{key}='{redact(real)}'"
        out.append(argument)
    return out
