"""How the jobs of a sweep find their parent run: a small JSON file in the sweep directory, written by the Hydra
callback before any job starts and read by each job (in any process, on any machine sharing the directory); a job
on a machine that does not share it (a remote Ray worker) finds the parent in the store, by its ``sweep_dir`` tag."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import TrackingUnavailable
from .store import open_client

FILENAME = "mlflow_parent.json"
CONSTANT_TAG = "sweep_constant_overrides"  # JSON list, for jobs that read the parent from the store


@dataclass(frozen=True)
class ParentRun:
    run_id: str
    experiment_id: str
    tracking_uri: str
    constant: tuple[str, ...] = ()  # the sweep's overrides every job gets as they are: left out of child run names

    def write(self, sweep_dir: str | Path) -> Path:
        path = Path(sweep_dir) / FILENAME
        path.parent.mkdir(parents=True, exist_ok=True)
        from ..credentials import redact

        path.write_text(json.dumps({**asdict(self), "tracking_uri": redact(self.tracking_uri)}))
        return path

    @classmethod
    def read(cls, sweep_dir: str | Path) -> "ParentRun | None":
        path = Path(sweep_dir) / FILENAME
        if not path.is_file():
            return None
        from ..credentials import reveal

        fields = json.loads(path.read_text())
        return cls(**{**fields, "tracking_uri": reveal(fields["tracking_uri"]),
                      "constant": tuple(fields.get("constant", ()))})

    @classmethod
    def find(cls, tracking_uri: str, experiment: str, sweep_dir: str) -> "ParentRun | None":
        """The parent run tagged with ``sweep_dir`` in experiment ``experiment`` of the store, if there is one."""
        if "'" in str(sweep_dir):
            return None
        try:
            client = open_client(tracking_uri)
        except TrackingUnavailable:  # the job's own run says so (or spools, with tracking.spool=true)
            return None
        found = client.get_experiment_by_name(experiment)
        if found is None:
            return None
        runs = client.search_runs([found.experiment_id], max_results=1,
                                  filter_string=f"tags.sweep = 'parent' and tags.sweep_dir = '{sweep_dir}'")
        if not runs:
            return None
        constant = runs[0].data.tags.get(CONSTANT_TAG, "")
        return cls(runs[0].info.run_id, found.experiment_id, tracking_uri, tuple(json.loads(constant or "[]")))
