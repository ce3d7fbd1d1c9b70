"""The complete trajectory of a run as one ``.npz`` artifact, and its loader.

``trajectory.npz`` holds, for every recorded step (0, every, 2*every, ..., and the final step = steps):

- ``step``: int64 ``(k,)``; ``loss``: float64 ``(k,)``;
- ``param/<name>``: ``(k, *shape)``, the parameters at which that step's gradient was taken (the final row: the
  parameters after the last update);
- ``grad/<name>``: ``(k, *shape)``, that gradient (NaN in the final row, where no gradient is taken);
- ``lr``: float64 ``(k,)``, the first parameter group's learning rate used by that step's update (NaN in the final
  row);
- ``<state key>/<name>``: the optimizer's state tensors right after that step's update (NaN in rows where the
  optimizer did not hold the key yet, and in the final row).

Same numbers as the per-step metrics, every element of every tensor, in the run's dtype (float32 or float64).
Load it back with one line::

    z = np.load(mlflow.artifacts.download_artifacts(run_id=RUN_ID, artifact_path="trajectory.npz"))
    z["param/a"][:, 0]          # a[0] at each recorded step

or ``experiments.trajectory.load(RUN_ID)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ARTIFACT = "trajectory.npz"


class TrajectoryBuffer:
    """Rows appended step by step (copies), stacked into arrays when saved."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.losses: list[float] = []
        self._rows: dict[str, dict[int, np.ndarray]] = {}

    def add(self, step: int, loss: float, tensors: dict[str, np.ndarray]) -> None:
        row = len(self.steps)
        self.steps.append(step)
        self.losses.append(loss)
        for key, array in tensors.items():
            self._rows.setdefault(key, {})[row] = np.array(array, copy=True)

    def state(self) -> dict:
        """What a checkpoint keeps of the buffer, as a few arrays per key (:meth:`from_state` rebuilds it)."""
        rows = {}
        for key, by_row in self._rows.items():
            arrays = list(by_row.values())
            uniform = len({(a.shape, a.dtype) for a in arrays}) == 1
            rows[key] = {"rows": np.fromiter(by_row, dtype=np.int64, count=len(by_row)),
                         "values": np.stack(arrays) if uniform else arrays}
        return {"steps": np.asarray(self.steps, dtype=np.int64), "losses": np.asarray(self.losses, dtype=np.float64),
                "rows": rows}

    @classmethod
    def from_state(cls, state: dict) -> "TrajectoryBuffer":
        buffer = cls()
        buffer.steps = [int(s) for s in state["steps"]]
        buffer.losses = [float(v) for v in state["losses"]]
        buffer._rows = {key: {int(row): np.array(value, copy=True) for row, value in zip(kept["rows"], kept["values"])}
                        for key, kept in state["rows"].items()}
        return buffer

    def arrays(self) -> dict[str, np.ndarray]:
        n = len(self.steps)
        out = {"step": np.asarray(self.steps, dtype=np.int64), "loss": np.asarray(self.losses, dtype=np.float64)}
        for key, rows in self._rows.items():
            shapes = {a.shape for a in rows.values()}
            if len(shapes) != 1:  # a state entry that changes shape has no (k, *shape) array: left out
                continue
            sample = next(iter(rows.values()))
            dtype = sample.dtype if np.issubdtype(sample.dtype, np.floating) else np.float64
            stacked = np.full((n, *sample.shape), np.nan, dtype=dtype)
            for row, array in rows.items():
                stacked[row] = array
            out[key] = stacked
        return out

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        np.savez_compressed(path, **self.arrays())
        return path


def load(run_id: str, tracking_uri: str | None = None) -> dict[str, np.ndarray]:
    """The trajectory of ``run_id`` as a dict of arrays (downloads the artifact)."""
    import mlflow.artifacts

    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=ARTIFACT, tracking_uri=tracking_uri)
    with np.load(local) as z:
        return {key: z[key] for key in z.files}
