"""A run's tracking operations kept on local disk while the store cannot take them, and their replay.

A spool is one directory per run (``<tracking.spool_dir>/<run id or offline-...>/``) holding ``journal.jsonl``,
copies of the files to upload (``files/``) and the marker ``spool.marker``. The journal is append-only JSON lines:

- the header ``{"spool": 1, "tracking_uri": ..., "run_id": ..., "marker": <token>}`` (``run_id`` null when the run
  could not even be created: its first record is then ``create_run``);
- records ``{"seq": n, "op": ..., ...}``, one tracking operation each, in the order the run made them;
- ``{"ack": n}`` once record n is in the store, and ``{"run_id": ...}`` once a spooled ``create_run`` went through.

Every operation is safe to send twice (MLflow ignores a metric point identical to one it has, a tag or param set to
the same value, a re-uploaded artifact, the same final status), except ``create_run``, which is acknowledged as
soon as it succeeds. So an interrupted upload simply starts again: :func:`replay` (``python -m experiments.sync``)
sends what is not acknowledged yet, in order, into the same run, and removes the spool once it is all there.

Only folders this runner made are read or removed: the marker, written when the spool is created, holds the
folder's name and a random token that the journal's header repeats. A folder whose marker is missing or names
another folder (a user's folder that happens to hold a ``journal.jsonl``, a spool copied or renamed elsewhere) is
not a spool (:class:`NotASpool`). Removing a spool deletes only the files the spool itself wrote (the journal, the
marker, the copies its records name), then the folders left empty: anything else put there stays.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .direct import DirectClient
from .faults import retrying
from .store import get_or_create_experiment

JOURNAL = "journal.jsonl"
FILES = "files"
MARKER = "spool.marker"
VERSION = 1


class JournalError(ValueError):
    """A journal that cannot be read (a line that is not one of the records above): nothing is sent from it."""


class NotASpool(ValueError):
    """A folder that is not a run spool made by this runner (no journal, or no marker matching it)."""


def offline_key() -> str:
    """The spool name of a run that has no MLflow id yet (the store was unreachable when it started)."""
    return f"offline-{uuid.uuid4().hex}"


@dataclass
class Spool:
    """Append-only journal of one run's operations (see the module docstring)."""

    directory: Path
    tracking_uri: str
    run_id: str | None
    _journal: object = field(default=None, repr=False)

    @classmethod
    def create(cls, root: str | os.PathLike, key: str, tracking_uri: str, run_id: str | None) -> "Spool":
        """The spool ``<root>/<key>``: this run's own if it left one there, else a new folder. An existing folder
        that is not this runner's spool is never written into: the new spool is then ``<key>-<random>``."""
        directory = Path(root) / key
        if directory.exists():
            try:
                return cls.open(directory)
            except NotASpool:
                directory = Path(root) / f"{key}-{uuid.uuid4().hex[:8]}"
        for attempt in range(20):
            try:
                directory.mkdir(parents=True, exist_ok=False)
                break
            except FileNotFoundError:  # the root removed meanwhile by another job's check of it: made again
                if attempt == 19:
                    raise
        token = uuid.uuid4().hex
        with open(directory / MARKER, "x", encoding="utf-8") as marker:  # "x": never over a file already there
            json.dump({"spool": VERSION, "folder": directory.name, "token": token}, marker)
        spool = cls(directory, tracking_uri, run_id)
        spool._write({"spool": VERSION, "tracking_uri": tracking_uri, "run_id": run_id, "marker": token}, sync=True)
        return spool

    @classmethod
    def open(cls, directory: str | os.PathLike) -> "Spool":
        """An existing spool; :class:`NotASpool` if ``directory`` is not one this runner made, :class:`JournalError`
        if its journal holds a line this runner does not write."""
        directory = Path(directory)
        header = _header(directory)
        lines = list(_lines(directory / JOURNAL))[1:]
        created = [line["run_id"] for line in lines if "run_id" in line]
        return cls(directory, header["tracking_uri"], created[-1] if created else header.get("run_id"))

    def append(self, record: dict) -> None:
        """Write ``record`` (which carries its ``seq``) durably: it survives the process being killed."""
        self._write(record, sync=True)

    def ack(self, seq: int) -> None:
        self._write({"ack": seq})

    def created(self, run_id: str) -> None:
        self.run_id = run_id
        self._write({"run_id": run_id}, sync=True)

    def keep_file(self, path: str | os.PathLike, seq: int) -> str:
        """Copy ``path`` into the spool (the original may be a temporary file); returns the copy's relative path."""
        relative = Path(FILES) / f"{seq:08d}" / Path(path).name
        target = self.directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        return relative.as_posix()

    def pending(self) -> list[dict]:
        """The records not acknowledged yet, in order."""
        records, acked = {}, set()
        for line in _lines(self.directory / JOURNAL):
            if "seq" in line:
                records[line["seq"]] = line
            elif "ack" in line:
                acked.add(line["ack"])
        return [records[s] for s in sorted(records) if s not in acked]

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def remove(self) -> list[Path]:
        """Delete what this spool wrote, and its folders once empty; returns what was left (files it did not
        write). Nothing is deleted unless the folder's marker still matches the journal (:func:`is_spool`)."""
        self.close()
        if not is_spool(self.directory):
            return sorted(self.directory.rglob("*")) if self.directory.exists() else []
        files = {self.directory / record["file"] for record in _records(self.directory / JOURNAL)
                 if record.get("op") == "artifact" and not Path(record["file"]).is_absolute()}
        for path in sorted(files):
            if path.resolve().is_relative_to((self.directory / FILES).resolve()) and path.is_file():
                path.unlink()
                _remove_if_empty(path.parent)
        _remove_if_empty(self.directory / FILES)
        (self.directory / JOURNAL).unlink(missing_ok=True)
        (self.directory / MARKER).unlink(missing_ok=True)
        _remove_if_empty(self.directory)
        return sorted(self.directory.rglob("*")) if self.directory.exists() else []

    def _write(self, line: dict, sync: bool = False) -> None:
        if self._journal is None:
            self._journal = open(self.directory / JOURNAL, "a", encoding="utf-8")
        self._journal.write(json.dumps(line, separators=(",", ":"), default=_listed) + "\n")
        self._journal.flush()
        if sync:
            os.fsync(self._journal.fileno())


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()  # fails, and so keeps the folder, when anything is left in it
    except OSError:
        pass


def _header(directory: Path) -> dict:
    """The journal's header, once the marker is checked against it; NotASpool otherwise."""
    path = directory / JOURNAL
    if not path.is_file():
        raise NotASpool(f"{directory} is not a run spool: it has no {JOURNAL}")
    try:
        marker = json.loads((directory / MARKER).read_text(encoding="utf-8"))
        header = next(_lines(path))
    except (OSError, ValueError, StopIteration) as error:
        raise NotASpool(f"{directory} is not a run spool made by this runner: its {MARKER} or the first line of "
                        f"{JOURNAL} cannot be read ({type(error).__name__})") from None
    if not (isinstance(marker, dict) and isinstance(header, dict) and header.get("spool") == VERSION
            and "tracking_uri" in header
            and marker.get("folder") == directory.name and marker.get("token") == header.get("marker")):
        raise NotASpool(f"{directory} is not a run spool made by this runner: its {MARKER} does not match the "
                        f"folder and its {JOURNAL} (a spool is used only in the folder it was created as)")
    return header


def is_spool(directory: str | os.PathLike) -> bool:
    """Whether ``directory`` is a spool this runner made (its marker names it and matches its journal)."""
    try:
        _header(Path(directory))
    except NotASpool:
        return False
    return True


def _records(path: Path) -> Iterator[dict]:
    """The journal's lines that are records (a garbled line is skipped here: only removal reads this)."""
    try:
        lines = list(_lines(path))
    except (OSError, ValueError):
        return iter(())
    return (line for line in lines if isinstance(line, dict) and "seq" in line)


def _lines(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8", errors="replace") as journal:
        for number, text in enumerate(journal, 1):
            if not text.endswith("\n"):  # a line cut short by a kill: it was never acknowledged as written
                return
            try:
                line = json.loads(text)
            except ValueError:
                line = None
            if not isinstance(line, dict) or (number == 1) != ("spool" in line):
                raise JournalError(
                    f"{path} cannot be read: line {number} ({text.strip()[:80]!r}) is not a record this runner "
                    f"writes, so nothing was sent from it. A journal holds one JSON object per line, the first the "
                    f"header {{\"spool\": {VERSION}, ...}}; restore the file, or delete that line if you know "
                    "what it held.")
            yield line


def apply(client, run_id: str | None, record: dict, directory: Path | None = None) -> str:
    """Carry out one journal ``record`` on ``client``; returns the run id (new after ``create_run``)."""
    op = record["op"]
    if op == "create_run":
        experiment_id = get_or_create_experiment(client, record["experiment"], record.get("artifact_location"))
        run = client.create_run(experiment_id, start_time=record["start_time"], tags=record["tags"],
                                run_name=record["run_name"])
        return run.info.run_id
    if run_id is None:
        raise ValueError(f"record {record.get('seq')} ({op}) comes before its run was created")
    if op == "metrics":
        from .bulk import log_points

        log_points(client, run_id, record["points"])
    elif op == "params":
        log_params(client, run_id, record["params"])
    elif op == "tag":
        client.set_tag(run_id, record["key"], record["value"])
    elif op == "artifact":
        path = Path(record["file"])
        if directory is not None and not path.is_absolute():
            path = directory / path
        client.log_artifact(run_id, str(path), record.get("artifact_path"))
    elif op == "delete_artifact":
        from ..checkpoint import is_checkpoint_artifact

        if not is_checkpoint_artifact(record["artifact_path"]):  # the only artifacts a run deletes are its own
            raise ValueError(f"record {record.get('seq')}: deleting the artifact {record['artifact_path']!r} is "
                             "not an operation of this runner (only its checkpoints are ever deleted)")
        delete_artifact(client, run_id, record["artifact_path"])
    elif op == "status":
        if record["status"] == "RUNNING":
            client.update_run(run_id, status="RUNNING")
        else:
            client.set_terminated(run_id, record["status"], end_time=record.get("end_time"))
    else:
        raise ValueError(f"unknown spool operation {op!r}")
    return run_id


def log_params(client, run_id: str, params: list) -> None:
    """``params``, ``[key, value]`` pairs, logged in one call."""
    if isinstance(client, DirectClient):
        client.log_params(run_id, params)
        return
    from mlflow.entities import Param

    client.log_batch(run_id, params=[Param(k, v) for k, v in params], synchronous=True)


def delete_artifact(client, run_id: str, artifact_path: str) -> None:
    """Remove one artifact of a run (older checkpoints); stores that cannot delete keep it."""
    try:
        if isinstance(client, DirectClient):
            if client.delete_local_artifact(run_id, artifact_path):
                return
            client = client.mlflow()  # a run whose artifacts are elsewhere: MLflow's repository for them
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        repository = get_artifact_repository(client.get_run(run_id).info.artifact_uri,
                                             tracking_uri=client.tracking_uri)
        repository.delete_artifacts(artifact_path)
    except (NotImplementedError, FileNotFoundError):
        pass


@dataclass
class ReplayReport:
    run_id: str | None
    operations: int = 0
    points: int = 0
    artifacts: int = 0
    status: str | None = None
    left: list[Path] = field(default_factory=list)  # files in the spool's folder it did not write (kept)


def replay(spool: Spool, client) -> ReplayReport:
    """Send the spool's unacknowledged records in order, acknowledging each; remove the spool when all are in.

    An error stops the replay where it is (what was sent stays acknowledged): run it again to go on."""
    report = ReplayReport(spool.run_id)
    for record in spool.pending():
        run_id = retrying(apply, client, spool.run_id, record, spool.directory)
        if record["op"] == "create_run":
            spool.created(run_id)
        spool.ack(record["seq"])
        report.run_id = spool.run_id
        report.operations += 1
        report.points += len(record.get("points", ()))
        report.artifacts += record["op"] == "artifact"
        if record["op"] == "status":
            report.status = record["status"]
    report.left = spool.remove()
    return report


def find(path: str | os.PathLike) -> list[Path]:
    """The run spools at ``path``: the folder itself if it is one, else the spools directly inside it (folders
    without a matching marker are not spools, whatever they hold)."""
    path = Path(path)
    if is_spool(path):
        return [path]
    return sorted(p for p in path.iterdir() if is_spool(p)) if path.is_dir() else []


def _listed(value):
    """JSON for what ``json`` does not know: a metrics record's :class:`~.points.Points`, as a list of points."""
    from .points import Points

    if isinstance(value, Points):
        return value.tolist()
    raise TypeError(f"a spool record cannot hold {type(value).__name__}")
