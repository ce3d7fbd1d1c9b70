"""Which MLflow store a run writes to, and getting an experiment in it safely from many processes at once."""

from __future__ import annotations

import os
import shlex
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from ..errors import ConfigError, StoreError, TrackingUnavailable
from .direct import direct_client
from .disk import is_disk_full
from .faults import describe, is_transient, is_unreachable, retrying, set_start_patience, start_patience
from .sqlite import (DEFAULT_LOCK_TIMEOUT, IN_MEMORY_HINT, check_location, database_path, is_in_memory, prepare,
                     store_error)

DEFAULT_DB_NAME = "mlflow.db"
KNOWN_SCHEMES = ("sqlite", "file", "http", "https", "postgresql", "mysql", "mssql", "databricks", "")


def resolve_uri(configured: str | None, launch_dir: str | os.PathLike) -> str:
    """The tracking URI of a run: ``tracking.uri`` if set, else ``$MLFLOW_TRACKING_URI``, else an SQLite file
    ``mlflow.db`` in ``launch_dir`` (the directory the command was run from).

    Local stores are made absolute against ``launch_dir``, never against the process's current directory, so jobs
    that Hydra runs in per-job folders all write to the one store (hydra issue #830).
    """
    from ..credentials import reveal

    uri = reveal(configured or os.environ.get("MLFLOW_TRACKING_URI") or "")
    if not uri:
        return sqlite_uri(Path(launch_dir) / DEFAULT_DB_NAME)
    scheme = urlparse(uri).scheme
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    if scheme.split("+")[0] not in KNOWN_SCHEMES:
        raise ConfigError(
            f"tracking.uri={uri!r} has the unknown scheme {scheme!r}. Use an MLflow tracking URI: "
            "sqlite:////absolute/path.db, a directory (file:///path or a plain path), http(s)://host:port of an "
            "`mlflow server`, or a database URI (postgresql://, mysql://, mssql://)."
        )
    if scheme == "sqlite":
        if is_in_memory(uri):
            raise ConfigError(f"tracking.uri={uri!r} is an in-memory SQLite database. {IN_MEMORY_HINT}, so it is "
                              "refused. Use a file (sqlite:////absolute/path.db, or leave tracking.uri unset for "
                              "./mlflow.db) or a tracking server.")
        path = uri[len("sqlite:///"):]
        if not os.path.isabs(path):
            return sqlite_uri(Path(launch_dir) / path)
        return uri
    if scheme == "":
        return Path(launch_dir, uri).resolve().as_uri()
    return uri


def sqlite_uri(path: str | os.PathLike) -> str:
    return "sqlite:///" + str(Path(path).resolve())


UI_ADDRESS = "http://127.0.0.1:5000"  # where `mlflow ui --host 127.0.0.1` serves, its default port


def ui_command(uri: str) -> str:
    """The shell command that opens the MLflow UI on ``uri``'s runs (loopback only), or how to reach a server."""
    if uri.startswith(("http://", "https://")):
        return f"open {ui_address(uri)} in a browser"
    return f"mlflow ui --backend-store-uri {shlex.quote(uri)} --host 127.0.0.1"


def ui_address(uri: str) -> str:
    """The UI's address for the store ``uri``: an http(s) tracking server itself (without user and password),
    else the one ``ui_command`` serves."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https"):
        return UI_ADDRESS
    host = parsed.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = f"{host}:{parsed.port}" if parsed.port else host
    return f"{parsed.scheme}://{netloc}{parsed.path.rstrip('/')}"


def run_link(uri: str, experiment_id: str, run_id: str) -> str:
    """The address of run ``run_id`` in the UI's model-training view (it opens in its GenAI view otherwise)."""
    return f"{ui_address(uri)}/#/experiments/{experiment_id}/runs/{run_id}?workflowType=machine_learning"


def where_to_view(uri: str, experiment_id: str | None, run_id: str) -> str:
    """``View it at <link> (served by: mlflow ui ...)``: the closing lines' pointer to a run."""
    if experiment_id is None:
        return f"View it: {ui_command(uri)}"
    link = run_link(uri, experiment_id, run_id)
    if uri.startswith(("http://", "https://")):
        return f"View it at {link}"
    return f"View it at {link} (served by: {ui_command(uri)})"


def start_failure(uri: str, error: BaseException) -> BaseException:
    """What to raise when a call that starts a run failed on the store ``uri``: for an SQLite store still locked
    after ``tracking.lock_timeout``, a StoreError naming the holder, on a full disk DiskFull; else ``error``."""
    path = database_path(uri)
    if path is not None and (is_transient(error) or is_disk_full(error)):
        return store_error(path, error, start_patience())
    return error


def default_artifact_location(uri: str, name: str) -> str | None:
    """For an SQLite store, artifacts go beside the database file (``mlruns/<experiment>``) wherever the command runs;
    other stores keep their own default (a server's artifact root)."""
    if database_path(uri) is None:
        return None
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "experiment"
    return (Path(uri[len("sqlite:///"):]).parent / "mlruns" / safe).as_uri()


# What the MLflow UI shows of an experiment the runner creates: its description (the experiment page's "About"
# text) and its kind (a model-training experiment, not a GenAI one). Charts and columns are the browser's own
# settings (its local storage), which no client can preset: docs/runner.md says which clicks set them.
EXPERIMENT_TAGS = {
    "mlflow.note.content": (
        "Optimizer trajectories recorded by `python run.py`: one run per optimizer configuration on this objective "
        "(a sweep: a parent run and a child run per job). On a run's *Model metrics* tab the sections `Objective` "
        "(loss, loss_gap, distance_to_optimum) and `Optimizer` (grad_norm, lr, update_norm, update_cosine) come "
        "first, then `Summary` and one section per tensor kind (`param`, `grad`, the optimizer's state). Params "
        "are what defines a run (the optimizer's hyperparameters, the objective's settings, steps, seed, dtype, "
        "the scheduler); the whole configuration is the artifact `config.yaml`, every element at every step "
        "`trajectory.npz`."),
    "mlflow.experimentKind": "custom_model_development",
}


def get_or_create_experiment(client, name: str, artifact_location: str | None = None) -> str:
    """The id of experiment ``name``, created if missing; safe when several processes race to create it."""
    for _ in range(5):
        experiment = retrying(client.get_experiment_by_name, name, patient=True)
        if experiment is not None:
            if experiment.lifecycle_stage == "deleted":
                raise ConfigError(
                    f"The MLflow experiment {name!r} is deleted in this store. Restore it (`mlflow experiments "
                    f"restore --experiment-id {experiment.experiment_id}`) or choose another name with "
                    "tracking.experiment=<name>."
                )
            return experiment.experiment_id
        try:
            return retrying(client.create_experiment, name, artifact_location=artifact_location,
                            tags=EXPERIMENT_TAGS, patient=True)
        except Exception as error:  # another process created it first: read it back
            if "already exists" not in str(error).lower() and "unique constraint" not in str(error).lower():
                raise
    raise RuntimeError(f"could not get or create the MLflow experiment {name!r}")


def configure_http(timeout_seconds: float | None = None) -> None:
    """HTTP settings of MLflow's client for this process, unless the environment sets them: no retries inside
    MLflow (a dead server would hold each request for minutes; the runner retries with its own backoff while it
    spools) and ``timeout_seconds`` per request."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    if timeout_seconds is not None:
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(timeout_seconds)))


def open_client(uri: str, allow_unreachable: bool = False, http_timeout: float | None = None,
                lock_timeout: float = DEFAULT_LOCK_TIMEOUT, direct: bool = False):
    """An ``MlflowClient`` on ``uri`` with the store's schema in place (SQLite: created or migrated now, by one
    process at a time, or repaired: :mod:`.sqlite`).

    ``direct``: for a run's own writes, a :class:`~.direct.DirectClient` instead where the store allows one (a
    local SQLite store already at the installed MLflow's schema revision, one it covers), so that the run's
    process does not import MLflow.

    The store is asked once, so that an unreachable server stops the command at once with
    :class:`TrackingUnavailable` (naming the URI), before any work, unless ``allow_unreachable`` (``tracking.spool``):
    the client is then returned and the run spools until the server answers. An SQLite path that cannot hold a
    store (a folder, an unwritable folder) is a :class:`ConfigError`, found before MLflow's minutes of retries; an
    SQLite store locked past ``lock_timeout`` s, half-migrated with runs in it or otherwise failing is a
    :class:`StoreError`.
    """
    from ..credentials import has_credentials

    configure_http(http_timeout)
    set_start_patience(lock_timeout)
    if has_credentials(uri):  # MLflow prints "View run ... at: <the URI with its password>" when a run ends
        os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    path = database_path(uri)
    if direct and path is not None:
        check_location(path)
        client = direct_client(uri, path, lock_timeout)
        if client is not None:
            return client
    from mlflow.tracking import MlflowClient

    client = None

    def open_store():
        nonlocal client
        client = MlflowClient(tracking_uri=uri)  # an SQLite store is opened (and its folder made) here
        retrying(client.search_experiments, max_results=1, patient=True)  # forces the schema creation/migration

    try:
        refuse_if_nothing_listens(uri)
        if path is not None:
            prepare(uri, lock_timeout, open_store)
        if client is None:
            open_store()
    except (ConfigError, StoreError):
        raise
    except Exception as error:  # noqa: BLE001 - every failure is reported as what the user can do about it
        if is_unreachable(error) and client is not None and allow_unreachable:
            return client
        if path is not None:
            raise store_error(path, error, lock_timeout) from None
        if is_unreachable(error) and client is not None:
            raise TrackingUnavailable(
                f"The MLflow tracking server {uri} cannot be reached ({describe(error)}), so nothing was run. "
                "Start it (e.g. `mlflow server --host 127.0.0.1 --port <port>`), point tracking.uri= or "
                "MLFLOW_TRACKING_URI at a store that is up, or add tracking.spool=true to run now and keep the "
                "records on disk until the server answers (`python -m experiments.sync <spool folder>` uploads "
                "them later).") from None
        raise ConfigError(f"The tracking store {uri} cannot be opened: {describe(error)}. Check tracking.uri= "
                          "(or MLFLOW_TRACKING_URI).") from None
    return client


DATABASE_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}


def refuse_if_nothing_listens(uri: str) -> None:
    """A ConfigError at once when a database URI's host refuses the connection (nothing listens at its port):
    MLflow would retry opening the store ten times, about 100 s, before the same error."""
    import socket

    parsed = urlparse(uri)
    default = DATABASE_PORTS.get(parsed.scheme.split("+")[0])
    try:
        host, port = parsed.hostname, parsed.port or default
    except ValueError:  # a malformed port: MLflow's own error says so
        return
    if default is None or not host:  # not a database URI, or a local socket
        return
    try:
        socket.create_connection((host, port), timeout=5).close()
    except ConnectionRefusedError as error:
        raise ConfigError(f"The tracking store {uri} cannot be opened: nothing listens at {host}:{port} "
                          f"({describe(error)}). Check tracking.uri= (or MLFLOW_TRACKING_URI).") from None
    except OSError:  # a timeout or a name not found: MLflow's own retries and error apply
        return


def check_artifact_location(location: str | None, experiment: str) -> None:
    """A ConfigError, before the run starts, when an experiment's local artifact folder cannot be written to."""
    if not location:
        return
    parsed = urlparse(location)
    if parsed.scheme not in ("file", ""):
        return  # a server's or object store's root: its own checks apply
    from .artifact_files import local_path

    folder = Path(local_path(location))  # as MLflow reads it: a project folder named "my project" is my%20project
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # A new file of a name nobody has (created exclusively), so the file deleted is the one made here.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as error:
        reason = f"{error.strerror or error}: {error.filename or folder}"
        raise ConfigError(
            f"The artifact location {location} of experiment {experiment!r} is not writable ({reason}), so the "
            "run's artifacts could not be saved. Choose a writable "
            "folder with tracking.artifact_location=<path> (for a new experiment) or tracking.experiment=<another "
            "name>.") from None


def read_artifact(run_id: str, artifact_path: str, read, tracking_uri: str | None = None):
    """``read(local_path)`` of one artifact of ``run_id``, downloaded into a folder of its own that is removed
    afterwards (MLflow's download without a destination leaves a folder in the temporary directory per call)."""
    import tempfile

    import mlflow.artifacts

    with tempfile.TemporaryDirectory(prefix="artifact-") as scratch:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact_path,
                                                    tracking_uri=tracking_uri, dst_path=scratch)
        return read(local)
