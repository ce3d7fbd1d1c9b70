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
Load it back with::

    from experiments.trajectory import load
    z = load(RUN_ID)            # every array, read into memory
    z["param/a"][:, 0]          # a[0] at each recorded step
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ARTIFACT = "trajectory.npz"


class _Column:
    """One key's rows: their row numbers and values in arrays that double when full, so adding a row is one copy
    and a checkpoint takes the rows so far as slices (no restacking of every row at every checkpoint). A key whose
    shape changes between rows keeps its rows as a list of arrays instead."""

    def __init__(self, array: np.ndarray) -> None:
        self.count = 0
        self.rows = np.empty(16, dtype=np.int64)
        self.values = np.empty((16, *array.shape), dtype=array.dtype)
        self.ragged: list[np.ndarray] | None = None

    def add(self, row: int, array) -> None:
        array = np.asarray(array)
        if self.ragged is None and array.shape != self.values.shape[1:]:  # another dtype is cast, as saving did
            self.ragged = list(self.values[:self.count])
        if self.count == len(self.rows):
            self.rows = _grown(self.rows)
            if self.ragged is None:
                self.values = _grown(self.values)
        self.rows[self.count] = row
        if self.ragged is None:
            self.values[self.count] = array
        else:
            self.ragged.append(np.array(array, copy=True))
        self.count += 1

    def kept(self, since: int = 0) -> dict | None:
        """The rows numbered ``since`` or later (None if there are none), as slices: no copy."""
        first = int(np.searchsorted(self.rows[:self.count], since))
        if first == self.count:
            return None
        rows = self.rows[first:self.count]
        values = self.values[first:self.count] if self.ragged is None else self.ragged[first:]
        return {"rows": rows, "values": values}

    @classmethod
    def from_kept(cls, parts: list[dict]) -> "_Column":
        """The column of ``parts`` (what :meth:`kept` gave, in order; at least one)."""
        first = parts[0]["values"]
        column = cls(np.asarray(first[0]))
        shape, dtype = column.values.shape[1:], column.values.dtype
        if all(isinstance(part["values"], np.ndarray) and part["values"].shape[1:] == shape for part in parts):
            # uniform rows: one concatenation (the column owns the result), cast as adding them would
            column.rows = np.concatenate([np.asarray(part["rows"], dtype=np.int64) for part in parts])
            column.values = np.concatenate([part["values"] for part in parts]).astype(dtype, copy=False)
            column.count = len(column.rows)
            return column
        for part in parts:
            for row, array in zip(part["rows"], part["values"]):
                column.add(int(row), array)
        return column


def check_consecutive(states) -> None:
    """ValueError unless the stretches of rows ``states`` follow one another (none missing, none twice): their
    rows would be misnumbered."""
    start = 0
    for state in states:
        if int(state.get("first", 0)) != start:
            raise ValueError(f"trajectory rows from {state.get('first', 0)} follow {start} rows")
        start += len(np.asarray(state["steps"]).reshape(-1))


def _grown(array: np.ndarray) -> np.ndarray:
    bigger = np.empty((2 * len(array), *array.shape[1:]), dtype=array.dtype)
    bigger[:len(array)] = array
    return bigger


class TrajectoryBuffer:
    """Rows appended step by step (copies, into arrays that grow by doubling), taken as arrays when saved."""

    def __init__(self) -> None:
        self._count = 0
        self._steps = np.empty(16, dtype=np.int64)
        self._losses = np.empty(16, dtype=np.float64)
        self._columns: dict[str, _Column] = {}

    @property
    def steps(self) -> np.ndarray:
        return self._steps[:self._count]

    @property
    def losses(self) -> np.ndarray:
        return self._losses[:self._count]

    def add(self, step: int, loss: float, tensors: dict[str, np.ndarray]) -> None:
        row = self._count
        if row == len(self._steps):
            self._steps, self._losses = _grown(self._steps), _grown(self._losses)
        self._steps[row] = step
        self._losses[row] = loss
        self._count += 1
        for key, array in tensors.items():
            column = self._columns.get(key)
            if column is None:
                column = self._columns[key] = _Column(np.asarray(array))
            column.add(row, array)

    def __len__(self) -> int:
        return self._count

    def state(self, since: int = 0) -> dict:
        """What a checkpoint keeps of the rows numbered ``since`` or later, as a few arrays per key (slices, no
        copy); :meth:`from_state` rebuilds the buffer from the states of consecutive stretches of rows."""
        rows = {}
        for key, column in self._columns.items():
            kept = column.kept(since)
            if kept is not None:
                rows[key] = kept
        return {"first": since, "steps": self.steps[since:], "losses": self.losses[since:], "rows": rows}

    @classmethod
    def from_state(cls, *states: dict) -> "TrajectoryBuffer":
        """The buffer of consecutive stretches of rows, oldest first (one state: the whole buffer)."""
        buffer = cls()
        steps = [np.array(state["steps"], dtype=np.int64).reshape(-1) for state in states]
        count = sum(len(part) for part in steps)
        check_consecutive(states)
        if count:
            buffer._steps = np.concatenate(steps)
            buffer._losses = np.concatenate([np.array(s["losses"], dtype=np.float64).reshape(-1) for s in states])
        buffer._count = count
        keys = list(dict.fromkeys(key for state in states for key in state["rows"]))
        buffer._columns = {key: _Column.from_kept([s["rows"][key] for s in states if key in s["rows"]])
                           for key in keys}
        return buffer

    def arrays(self) -> dict[str, np.ndarray]:
        n = self._count
        out = {"step": self.steps.copy(), "loss": self.losses.copy()}
        for key, column in self._columns.items():
            if column.ragged is not None:  # a state entry that changes shape has no (k, *shape) array: left out
                continue
            dtype = column.values.dtype if np.issubdtype(column.values.dtype, np.floating) else np.float64
            stacked = np.full((n, *column.values.shape[1:]), np.nan, dtype=dtype)
            stacked[column.rows[:column.count]] = column.values[:column.count]
            out[key] = stacked
        return out

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        write_npz(path, self.arrays())
        return path


COMPRESSION_SAMPLE = 1 << 20  # bytes of an array tried before deflating all of it
COMPRESSION_PAYS = 0.8  # deflated only when the sample shrinks to less than this share


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An ``.npz`` archive of ``arrays`` (what ``np.load`` reads, as ``np.savez_compressed`` writes it), each member
    deflated only where that pays. The trajectory of many elements is mostly float noise in its low bits: Adam's
    four columns for 10,000 weights over 1,000 steps (160 MB) deflate by 9% in 6 s, where storing them takes 0.15 s;
    steps, losses and smooth short paths shrink a lot, cheaply. A sample of each array (its first MB) decides."""
    import time
    import zipfile
    import zlib

    with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
        for key, array in arrays.items():
            array = np.asanyarray(array)
            sample = array.ravel(order="K")[:max(1, COMPRESSION_SAMPLE // max(array.itemsize, 1))].tobytes()
            pays = not sample or len(zlib.compress(sample, 1)) < COMPRESSION_PAYS * len(sample)
            member = zipfile.ZipInfo(f"{key}.npy", date_time=time.localtime()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED if pays else zipfile.ZIP_STORED
            with archive.open(member, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, array, allow_pickle=False)


def load(run_id: str, tracking_uri: str | None = None) -> dict[str, np.ndarray]:
    """The trajectory of ``run_id`` as a dict of arrays (downloads the artifact)."""
    from .tracking.store import read_artifact

    return read_artifact(run_id, ARTIFACT, read_arrays, tracking_uri)


def read_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, read into memory."""
    with np.load(path) as z:
        return {key: z[key] for key in z.files}
