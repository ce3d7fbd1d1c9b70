"""How the jobs of a sweep find their parent run: a small JSON file in the sweep directory, written by the Hydra
callback before any job starts and read by each job (in any process, on any machine sharing the directory)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

FILENAME = "mlflow_parent.json"


@dataclass(frozen=True)
class ParentRun:
    run_id: str
    experiment_id: str
    tracking_uri: str

    def write(self, sweep_dir: str | Path) -> Path:
        path = Path(sweep_dir) / FILENAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self)))
        return path

    @classmethod
    def read(cls, sweep_dir: str | Path) -> "ParentRun | None":
        path = Path(sweep_dir) / FILENAME
        if not path.is_file():
            return None
        return cls(**json.loads(path.read_text()))
