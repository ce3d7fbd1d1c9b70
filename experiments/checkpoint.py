"""Checkpoints: everything a run needs to continue bit for bit, as one ``.npz`` file with no pickle in it.

A checkpoint taken at step k (k updates done) holds the parameters, the optimizer's ``state_dict()``, the
scheduler's, autodiff's and numpy's random generator states, and the names of the stretches of what the run
recorded for its artifacts (the trajectory rows, the loss curve, the path). The runner logs it every
``checkpoint.every`` steps as the artifact ``checkpoint/step-<k>.npz`` (keeping the newest ``checkpoint.keep``),
with ``checkpoint/history-<k>.npz``: what was recorded since the checkpoint before (each stretch is written once,
so checkpoints cost what the run records, not the square of it; the stretches go when the run finishes).
``python run.py ... resume=<run id>`` reads the newest checkpoint that loads, and its stretches, and continues the
run from step k. A checkpoint of an earlier version holds the recorded rows themselves; it is read as well.

The file is an ordinary ``np.savez`` archive: the arrays under their own names, and under ``__tree__`` a JSON text
of the rest of the structure, where arrays, tensors, tuples and dicts with non-string keys are tagged
(``{"$array": name}``, ``{"$tensor": name}``, ``{"$tuple": [...]}``, ``{"$dict": [[key, value], ...]}``). Floats
survive JSON exactly (shortest round-trip repr) and arrays keep their dtype, so nothing is rounded. Loading never
unpickles (``allow_pickle=False``): a checkpoint from a shared store cannot run code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

ARTIFACT_DIR = "checkpoint"
TREE = "__tree__"
_NAME = re.compile(r"step-(\d+)\.npz$")


def artifact_name(step: int) -> str:
    return f"step-{step:09d}.npz"


def history_name(step: int) -> str:
    """The stretch of recorded rows (trajectory, loss curve, path) saved with the checkpoint of ``step``."""
    return f"history-{step:09d}.npz"


def is_checkpoint_artifact(artifact_path: str) -> bool:
    """Whether ``artifact_path`` is the checkpoint folder or one checkpoint in it: the only artifacts a run deletes."""
    return artifact_path == ARTIFACT_DIR or re.fullmatch(rf"{ARTIFACT_DIR}/step-\d+\.npz", artifact_path) is not None


def step_of(filename: str) -> int | None:
    match = _NAME.search(filename)
    return int(match.group(1)) if match else None


def _encode(value, arrays: dict[str, np.ndarray]):
    import autodiff as ad

    if isinstance(value, ad.Tensor):
        name = f"a{len(arrays)}"
        arrays[name] = value.numpy(force=True)
        return {"$tensor": name}
    if isinstance(value, np.ndarray):
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"$array": name}
    if isinstance(value, np.generic):
        return _encode(value.item(), arrays)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v, arrays) for k, v in value.items()}
        return {"$dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    raise TypeError(f"a checkpoint cannot hold a {type(value).__name__} ({value!r:.80})")


def _decode(value, arrays):
    import autodiff as ad

    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "$tensor" in value:
        return ad.from_numpy(arrays[value["$tensor"]])
    if "$array" in value:
        return arrays[value["$array"]]
    if "$tuple" in value:
        return tuple(_decode(v, arrays) for v in value["$tuple"])
    if "$dict" in value:
        return {_hashable(_decode(k, arrays)): _decode(v, arrays) for k, v in value["$dict"]}
    return {k: _decode(v, arrays) for k, v in value.items()}


def _hashable(key):
    return tuple(_hashable(k) for k in key) if isinstance(key, (list, tuple)) else key


def save(tree: dict, path: str | Path) -> Path:
    """Write ``tree`` (nested dicts, lists, tuples, numbers, strings, arrays, autodiff tensors) to ``path``."""
    arrays: dict[str, np.ndarray] = {}
    encoded = _encode(tree, arrays)
    text = json.dumps(encoded, separators=(",", ":"))
    path = Path(path)
    with open(path, "wb") as f:
        np.savez(f, **{TREE: np.frombuffer(text.encode(), dtype=np.uint8)}, **arrays)
    return path


def load(path: str | Path) -> dict:
    """The tree saved in ``path``; ``ValueError`` if the file is not a whole checkpoint (e.g. cut short by a kill)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except Exception as error:  # zipfile.BadZipFile, EOFError, ValueError, OSError: not a usable checkpoint
        raise ValueError(f"{path} is not a readable checkpoint: {type(error).__name__}: {error}") from error
    if TREE not in arrays:
        raise ValueError(f"{path} is not a checkpoint: it has no {TREE}")
    tree = json.loads(arrays.pop(TREE).tobytes().decode())
    return _decode(tree, arrays)
