"""The store a run's ``tracking.*`` settings ask for: where records spool, where artifacts go, which experiment."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .faults import is_unreachable, retrying
from .lifecycle import Spooling
from .store import check_artifact_location, default_artifact_location, get_or_create_experiment


def spooling_for(cfg, launch_dir: Path):
    """``tracking.spool``, ``.spool_dir`` (default ``<launch_dir>/mlflow-spool``) and ``.retry_timeout``."""
    tracking_cfg = cfg.tracking
    root = Path(launch_dir, tracking_cfg.get("spool_dir") or "mlflow-spool").resolve()
    return Spooling(root, float(tracking_cfg.get("retry_timeout", 300)), bool(tracking_cfg.get("spool", False)))


def artifact_location_for(cfg, uri: str, experiment: str, launch_dir: Path) -> str | None:
    """``tracking.artifact_location`` (a relative path is taken from ``launch_dir``), else the store's default."""
    configured = cfg.tracking.get("artifact_location")
    if not configured:
        return default_artifact_location(uri, experiment)
    configured = str(configured)
    if "://" in configured or configured.startswith("file:"):
        return configured
    return Path(launch_dir, configured).resolve().as_uri()


def experiment_for(client, name: str, location: str | None, configured: bool, spooling) -> str | None:
    """The experiment's id, created if needed; its artifact folder checked writable before the run starts.

    ``configured``: ``location`` was asked for (``tracking.artifact_location``), so an existing experiment with
    another location is an error rather than silently used. None when the store is away and the run may start
    anyway (``tracking.spool=true``: the experiment is made when the spooled run is created)."""
    try:
        existing = retrying(client.get_experiment_by_name, name)
        if existing is not None and configured and existing.artifact_location.rstrip("/") != str(location).rstrip("/"):
            raise ConfigError(
                f"tracking.artifact_location={location} cannot apply: the experiment {name!r} already exists, with "
                f"its artifacts in {existing.artifact_location}. An artifact location is set when an experiment is "
                "created: choose a new one with tracking.experiment=<name>, or drop tracking.artifact_location.")
        check_artifact_location(existing.artifact_location if existing else location, name)
        experiment_id = get_or_create_experiment(client, name, location)
    except ConfigError:
        raise
    except Exception as error:
        if spooling.at_start and is_unreachable(error):
            return None
        raise
    return experiment_id
