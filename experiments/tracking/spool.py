"""A run's tracking operations kept on local disk while the store cannot take them, and their replay.

A spool is one directory per run (``<tracking.spool_dir>/<run id or offline-...>/``) holding ``journal.jsonl`` and
copies of the files to upload (``files/``). The journal is append-only JSON lines:

- the header ``{"spool": 1, "tracking_uri": ..., "run_id": ...}`` (``run_id`` null when the run could not even be
  created: its first record is then ``create_run``);
- records ``{"seq": n, "op": ..., ...}``, one tracking operation each, in the order the run made them;
- ``{"ack": n}`` once record n is in the store, and ``{"run_id": ...}`` once a spooled ``create_run`` went through.

Every operation is safe to send twice (MLflow ignores a metric point identical to one it has, a tag or param set to
the same value, a re-uploaded artifact, the same final status), except ``create_run``, which is acknowledged as
soon as it succeeds. So an interrupted upload simply starts again: :func:`replay` (``python -m experiments.sync``)
sends what is not acknowledged yet, in order, into the same run, and removes the spool once it is all there.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

JOURNAL = "journal.jsonl"
FILES = "files"
VERSION = 1


class JournalError(ValueError):
    """A journal that cannot be read (a line that is not one of the records above): nothing is sent from it."""


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
        directory = Path(root) / key
        directory.mkdir(parents=True, exist_ok=True)
        spool = cls(directory, tracking_uri, run_id)
        if not (directory / JOURNAL).exists():
            spool._write({"spool": VERSION, "tracking_uri": tracking_uri, "run_id": run_id})
        return spool

    @classmethod
    def open(cls, directory: str | os.PathLike) -> "Spool":
        """An existing spool; ValueError if ``directory`` holds none."""
        directory = Path(directory)
        path = directory / JOURNAL
        if not path.is_file():
            raise ValueError(f"{directory} is not a run spool: it has no {JOURNAL}")
        header, *lines = list(_lines(path)) or [{}]
        if header.get("spool") != VERSION or "tracking_uri" not in header:
            raise JournalError(f"{path} is not a spool journal of version {VERSION} (its header is {header!r}).")
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

    def next_seq(self) -> int:
        seqs = [line["seq"] for line in _lines(self.directory / JOURNAL) if "seq" in line]
        return max(seqs, default=-1) + 1

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _write(self, line: dict, sync: bool = False) -> None:
        if self._journal is None:
            self._journal = open(self.directory / JOURNAL, "a", encoding="utf-8")
        self._journal.write(json.dumps(line, separators=(",", ":")) + "\n")
        self._journal.flush()
        if sync:
            os.fsync(self._journal.fileno())


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
    from mlflow.entities import Metric, Param

    op = record["op"]
    if op == "create_run":
        from .store import get_or_create_experiment

        experiment_id = get_or_create_experiment(client, record["experiment"], record.get("artifact_location"))
        run = client.create_run(experiment_id, start_time=record["start_time"], tags=record["tags"],
                                run_name=record["run_name"])
        return run.info.run_id
    if run_id is None:
        raise ValueError(f"record {record.get('seq')} ({op}) comes before its run was created")
    if op == "metrics":
        client.log_batch(run_id, metrics=[Metric(k, v, ts, step) for k, v, ts, step in record["points"]],
                         synchronous=True)
    elif op == "params":
        client.log_batch(run_id, params=[Param(k, v) for k, v in record["params"]], synchronous=True)
    elif op == "tag":
        client.set_tag(run_id, record["key"], record["value"])
    elif op == "artifact":
        path = Path(record["file"])
        if directory is not None and not path.is_absolute():
            path = directory / path
        client.log_artifact(run_id, str(path), record.get("artifact_path"))
    elif op == "delete_artifact":
        delete_artifact(client, run_id, record["artifact_path"])
    elif op == "status":
        if record["status"] == "RUNNING":
            client.update_run(run_id, status="RUNNING")
        else:
            client.set_terminated(run_id, record["status"], end_time=record.get("end_time"))
    else:
        raise ValueError(f"unknown spool operation {op!r}")
    return run_id


def delete_artifact(client, run_id: str, artifact_path: str) -> None:
    """Remove one artifact of a run (older checkpoints); stores that cannot delete keep it."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repository = get_artifact_repository(client.get_run(run_id).info.artifact_uri, tracking_uri=client.tracking_uri)
    try:
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


def replay(spool: Spool, client) -> ReplayReport:
    """Send the spool's unacknowledged records in order, acknowledging each; remove the spool when all are in.

    An error stops the replay where it is (what was sent stays acknowledged): run it again to go on."""
    from .store import retrying

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
    spool.remove()
    return report


def find(path: str | os.PathLike) -> list[Path]:
    """The run spools at ``path``: the folder itself if it is one, else the spools directly inside it."""
    path = Path(path)
    if (path / JOURNAL).is_file():
        return [path]
    return sorted(p for p in path.iterdir() if (p / JOURNAL).is_file()) if path.is_dir() else []
